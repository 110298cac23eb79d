import assert from "node:assert/strict";
import { MemoryCache, runExperiment } from "../../src/experiment/runner.ts";
import { lineFigure, RunCounter, scoreTable } from "./_fixtures.ts";

Deno.test("runExperiment aggregates mean ± std over seeds", async () => {
  const run = await runExperiment(scoreTable(new RunCounter()), { scale: "smoke" });
  const a = run.table!.stats.a!.acc!;
  assert.equal(a.mean, 2);
  assert.equal(a.std, 1); // sample std of 1, 2, 3
  assert.deepEqual(a.values, [1, 2, 3]);
  assert.deepEqual(a.seeds, [0, 1, 2]);
  assert.equal(run.table!.stats.c!.loss!.std, 0);
  assert.equal(run.adapter, null); // no cell asked for the GPU
});

Deno.test("finished cells are cached: a second run recomputes nothing, --force everything", async () => {
  const counter = new RunCounter();
  const cache = new MemoryCache();
  await runExperiment(scoreTable(counter), { scale: "smoke", cache });
  assert.equal(counter.total(), 9);
  const again = await runExperiment(scoreTable(counter), { scale: "smoke", cache });
  assert.equal(counter.total(), 9);
  assert.ok(again.outcomes.every((o) => o.cached));
  await runExperiment(scoreTable(counter), { scale: "smoke", cache, force: true });
  assert.equal(counter.total(), 18);
});

Deno.test("an interrupted run resumes where it stopped and ends with the same result", async () => {
  const counter = new RunCounter();
  const cache = new MemoryCache();
  await assert.rejects(
    () => runExperiment(scoreTable(counter, "b/1"), { scale: "smoke", cache }),
    /interrupted/,
  );
  assert.equal(cache.size, 4); // a/0, a/1, a/2, b/0 finished before the interruption
  const resumed = await runExperiment(scoreTable(counter), { scale: "smoke", cache });
  assert.equal(counter.total(), 9); // every cell ran exactly once overall
  const fresh = await runExperiment(scoreTable(new RunCounter()), { scale: "smoke" });
  assert.deepEqual(resumed.table, fresh.table);
});

Deno.test("seeds can be overridden and are validated", async () => {
  const counter = new RunCounter();
  const run = await runExperiment(scoreTable(counter), { scale: "smoke", seeds: [2] });
  assert.equal(run.table!.stats.b!.acc!.mean, 8);
  await assert.rejects(
    () => runExperiment(scoreTable(counter), { scale: "smoke", seeds: [] }),
    RangeError,
  );
  await assert.rejects(
    () => runExperiment(scoreTable(counter), { scale: "smoke", seeds: [-1] }),
    RangeError,
  );
});

Deno.test("a scale without a preset is refused with the available ones", async () => {
  await assert.rejects(
    () => runExperiment(scoreTable(new RunCounter()), { scale: "paper" }),
    /Cannot run scores at scale "paper": it is defined for smoke only/,
  );
});

Deno.test("a cell returning a non-number is refused", async () => {
  const table = scoreTable(new RunCounter());
  const bad = {
    ...table,
    cells: () => [{
      key: "bad",
      row: "a",
      seed: 0,
      run: () => Promise.resolve({ acc: "high" as unknown as number }),
    }],
  };
  await assert.rejects(() => runExperiment(bad, { scale: "smoke" }), TypeError);
});

Deno.test("figures turn outcomes into points", async () => {
  const run = await runExperiment(lineFigure(), { scale: "smoke" });
  assert.deepEqual(run.points!.map((p) => p.y), [1.5, 10.5, 100.5]);
});

Deno.test("progress reports every cell", async () => {
  const events: string[] = [];
  await runExperiment(scoreTable(new RunCounter()), {
    scale: "smoke",
    onProgress: (e) => events.push(`${e.cell + 1}/${e.cells} ${e.row} ${e.seed}`),
  });
  assert.equal(events.length, 9);
  assert.equal(events[0], "1/9 a 0");
});

Deno.test("artifacts are made once and shared by cells", async () => {
  const { MemoryArtifacts } = await import("../../src/experiment/runner.ts");
  const { defineTable } = await import("../../extend.ts");
  let made = 0;
  const table = defineTable({
    id: "artifacts",
    title: "Artifacts",
    caption: "Two cells share a made artifact.",
    source: "tests",
    scales: { smoke: { params: {}, seeds: [0, 1] } },
    rows: () => [{ key: "r", label: "r" }],
    columns: [{ key: "v", label: "v", digits: 0 }],
    cells: (_p, seeds) =>
      seeds.map((seed) => ({
        key: `artifacts/${seed}`,
        row: "r",
        seed,
        run: async (context) => {
          const bytes = await context.artifact("shared", () => {
            made++;
            return Promise.resolve(new Uint8Array([7]));
          });
          return { v: bytes[0]! + seed };
        },
      })),
  });
  const artifacts = new MemoryArtifacts();
  const run = await runExperiment(table, { scale: "smoke", artifacts });
  assert.equal(made, 1);
  assert.deepEqual(run.table!.stats.r!.v!.values, [7, 8]);
  await runExperiment(table, { scale: "smoke", artifacts, force: true });
  assert.equal(made, 1);
});
