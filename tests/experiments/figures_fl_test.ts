import assert from "node:assert/strict";
import { type ExperimentRun, Gpu, runExperiment } from "../../mod.ts";
import { type FigureSpec, MemoryArtifacts } from "../../extend.ts";
import type { CurveRun } from "../../experiments/_curves.ts";
import { figure2 } from "../../experiments/figure2.ts";
import { figure3 } from "../../experiments/figure3.ts";
import { figure4 } from "../../experiments/figure4.ts";
import { figure5 } from "../../experiments/figure5.ts";
import { figure9 } from "../../experiments/figure9.ts";

// One GPU and one artifact store for the whole file: the smoke base model is
// pre-trained once and runs shared between figures (Table 2's Ferret run) run once.
const gpu = await Gpu.create();
const artifacts = new MemoryArtifacts();

/** Runs `figure` at smoke scale and checks the shape of what it returns. */
async function checkFigure(
  figure: FigureSpec<unknown>,
  curves: Readonly<Record<string, readonly CurveRun[]>>,
): Promise<ExperimentRun> {
  const run = await runExperiment(figure, { scale: "smoke", gpu, artifacts });
  const points = run.points ?? [];
  for (const panel of figure.panels) {
    const mine = points.filter((p) => p.panel === panel.key);
    assert.ok(mine.length > 0, `panel ${panel.key} has no point`);
    for (const p of mine) assert.ok(Number.isFinite(p.y), `${panel.key}/${p.series}: y = ${p.y}`);
  }
  for (const [panel, runs] of Object.entries(curves)) {
    const declared = runs.map((r) => r.label);
    const series = [...new Set(points.filter((p) => p.panel === panel).map((p) => p.series))];
    assert.deepEqual(series, declared, `series of panel ${panel}`);
    for (const { label, setting } of runs) {
      const xs = points.filter((p) => p.panel === panel && p.series === label).map((p) => p.x);
      assert.deepEqual(xs, Array.from({ length: setting.rounds + 1 }, (_, r) => r));
    }
  }
  assert.ok(Array.isArray(run.checks) && run.checks.length > 0);
  for (const c of run.checks) {
    assert.equal(typeof c.claim, "string");
    assert.equal(typeof c.holds, "boolean");
    assert.equal(typeof c.detail, "string");
  }
  return run;
}

/** The runs of a figure with one `runs` list, drawn on the convergence panel. */
function convergence(figure: FigureSpec<{ runs: readonly CurveRun[] }>) {
  return { convergence: figure.scales.smoke!.params.runs };
}

Deno.test("figure2: one test-loss curve per method on each model's panel", async () => {
  const { panels } = figure2.scales.smoke!.params;
  await checkFigure(
    figure2 as FigureSpec<unknown>,
    Object.fromEntries(panels.map((p) => [p.panel, p.runs])),
  );
});

Deno.test("figure3: curves and Rouge-L bars for K₀…8K₀", async () => {
  assert.deepEqual(
    figure3.scales.smoke!.params.runs.map((r) => r.label),
    ["K₀", "2K₀", "4K₀", "8K₀"],
  );
  await checkFigure(figure3 as FigureSpec<unknown>, convergence(figure3));
});

Deno.test("figure4: curves and Rouge-L bars for the three allocation schemes", async () => {
  await checkFigure(figure4 as FigureSpec<unknown>, convergence(figure4));
});

Deno.test("figure5: curves, Rouge-L and time bars for four L; exact DataJuicer counts", async () => {
  const run = await checkFigure(figure5 as FigureSpec<unknown>, convergence(figure5));
  const exact = run.checks.find((c) => c.claim.includes("32, 62, 122, 194"));
  assert.ok(exact?.holds, exact?.detail);
});

Deno.test("figure9: SGD and Adam curves and Rouge-L bars", async () => {
  await checkFigure(figure9 as FigureSpec<unknown>, convergence(figure9));
});

Deno.test("release the shared GPU", () => {
  gpu.destroy();
});
