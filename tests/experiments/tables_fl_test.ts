import assert from "node:assert/strict";
import { Gpu, runExperiment } from "../../mod.ts";
import { MemoryArtifacts, type TableSpec } from "../../extend.ts";
import { runFederated } from "../../experiments/_federated.ts";
import { federatedSetting } from "../../experiments/_settings.ts";
import { figure1 } from "../../experiments/figure1.ts";
import { table2 } from "../../experiments/table2.ts";
import { table3 } from "../../experiments/table3.ts";
import { table4 } from "../../experiments/table4.ts";
import { table6 } from "../../experiments/table6.ts";
import { table7 } from "../../experiments/table7.ts";
import { table8 } from "../../experiments/table8.ts";
import { table9 } from "../../experiments/table9.ts";
import { table10 } from "../../experiments/table10.ts";
import type { CellContext } from "../../src/experiment/define.ts";

// One GPU and one artifact store for the file: the smoke base is pre-trained
// once and the runs tables share (Table 2's NI runs in Tables 4 and 6) run once.
const gpu = await Gpu.create();
const artifacts = new MemoryArtifacts();
const smoke = (table: TableSpec<unknown>) =>
  runExperiment(table, { scale: "smoke", gpu, artifacts });

/** Every (row, column) of a table holds a finite value and every check is well formed. */
function assertFilled(run: Awaited<ReturnType<typeof smoke>>, columns?: readonly string[]) {
  const table = run.table!;
  for (const row of table.rows) {
    for (const column of table.columns) {
      if (columns && !columns.includes(column.key)) continue;
      const stat = table.stats[row.key]?.[column.key];
      assert.ok(stat && Number.isFinite(stat.mean), `${row.key} × ${column.key}: ${stat?.mean}`);
    }
  }
  for (const c of run.checks) assert.equal(typeof c.holds, "boolean");
}

Deno.test("table3: five algorithms × four (dataset, model) columns of Rouge-L in [0, 100]", async () => {
  const run = await smoke(table3 as TableSpec<unknown>);
  assert.deepEqual(run.table!.rows.map((r) => r.key), [
    "base",
    "fedit",
    "fedzo",
    "fedkseed",
    "fedavg",
    "ferret",
  ]);
  assert.deepEqual(
    run.table!.columns.map((c) => `${c.group} · ${c.label}`),
    [
      "CodeAlpaca · LLaMA2-7B",
      "CodeAlpaca · LLaMA2-13B",
      "GSM8K · LLaMA2-7B",
      "GSM8K · LLaMA2-13B",
      "CodeAlpaca · eval loss · LLaMA2-7B",
      "CodeAlpaca · eval loss · LLaMA2-13B",
      "GSM8K · eval loss · LLaMA2-7B",
      "GSM8K · eval loss · LLaMA2-13B",
      "GSM8K · exact match · LLaMA2-7B",
      "GSM8K · exact match · LLaMA2-13B",
    ],
  );
  assertFilled(run);
  for (const [key, row] of Object.entries(run.table!.stats)) {
    for (const [column, s] of Object.entries(row)) {
      // Rouge-L and exact match in [0, 100]; eval loss positive, the base model's below a
      // uniform guess over the smoke tokenizer's 320 ids (it is pre-trained).
      if (!column.endsWith("/loss")) assert.ok(s.mean >= 0 && s.mean <= 100, `${key} ${column}`);
      else assert.ok(s.mean > 0 && (key !== "base" || s.mean < Math.log(320)), `${key} ${column}`);
    }
  }
  assert.equal(
    run.checks.length,
    32,
    "per column: Ferret ≈ FedAvg (Rouge-L, loss), above FedZO and FedKSeed, FedAvg and Ferret vs base",
  );
  // One seed at smoke scale: no interval, so no claim is decided either way.
  for (const c of run.checks) {
    assert.equal(c.verdict, "not significant", c.claim);
    assert.match(c.detail, /no interval from 1 seed/);
  }
});

Deno.test("table2 and table9: every row and column filled", async () => {
  assertFilled(await smoke(table2 as TableSpec<unknown>));
  assertFilled(await smoke(table9 as TableSpec<unknown>));
});

Deno.test("cost tables: the ledger's counts and Ferret's ratios follow from the runs", async () => {
  for (const table of [table4, table10]) {
    const run = await smoke(table as TableSpec<unknown>);
    assertFilled(run, ["local", "aggregate", "overall", "comm", "comm_paper"]);
    const s = run.table!.stats;
    const value = (row: string, col: string) => s[row]![col]!.mean;
    // FedAvg and FedZO send and receive the whole trainable vector.
    assert.equal(value("fedavg", "comm"), value("fedzo", "comm"));
    assert.equal(value("fedkseed", "comm"), 2 * 16);
    assert.equal(value("ferret", "comm_x"), value("fedavg", "comm") / value("ferret", "comm"));
    assert.ok(
      Math.abs(
        value("ferret", "overall") - value("ferret", "local") - value("ferret", "aggregate"),
      ) < 1e-9,
    );
    // At the paper's size: 2d with d the exact parameter count.
    const d = (table.scales.smoke!.params as { paperParameters: number }).paperParameters;
    assert.equal(value("fedavg", "comm_paper"), 2 * d);
    assert.equal(value("fedkseed", "comm_paper"), 2 * 16);
  }
});

Deno.test("table6: FedKSeed (no gradient buffers) needs less memory than FedAvg", async () => {
  const run = await smoke(table6 as TableSpec<unknown>);
  assertFilled(run);
  const s = run.table!.stats;
  for (const model of ["datajuicer-1.3b", "open_llama_3b"]) {
    assert.ok(s.fedkseed![model]!.mean < s.fedavg![model]!.mean);
  }
});

Deno.test("tables 7 and 8: the templates in use print as the paper's", async () => {
  for (const table of [table7, table8]) {
    const run = await smoke(table as TableSpec<unknown>);
    assert.ok(
      run.checks.length > 0 && run.checks.every((c) => c.holds),
      JSON.stringify(run.checks),
    );
  }
  const labels = table8.columns[0]!.labels!;
  assert.notEqual(labels[0], labels[2], "the official Dolly template differs from the printed one");
});

Deno.test("figure1: four bar panels with one bar per method", async () => {
  const run = await runExperiment(figure1, { scale: "smoke", gpu, artifacts });
  for (const panel of figure1.panels) {
    const bars = run.points!.filter((p) => p.panel === panel.key);
    assert.deepEqual(bars.map((b) => b.series), ["FedAvg", "FedKSeed", "Ferret (Ours)"]);
    assert.ok(bars.every((b) => Number.isFinite(b.y)));
  }
  const comm = run.points!.filter((p) => p.panel === "comm");
  assert.ok(comm[0]!.y > comm[2]!.y, "FedAvg communicates more than Ferret");
});

Deno.test("an interrupted federated run resumes from its checkpoint and ends as an uninterrupted one", async () => {
  const setting = { ...federatedSetting("smoke", "gsm8k-like", "llama-2-7b", "ferret"), rounds: 3 };
  const context = (store: MemoryArtifacts, stopAt?: number, seed = 5): CellContext => ({
    scale: "smoke",
    seed,
    gpu: () => Promise.resolve(gpu),
    resources: {},
    progress: ({ round }) => {
      if (stopAt !== undefined && round === stopAt) throw new Error("interrupted");
    },
    artifact: async (name, make) => {
      const stored = await store.get(name) ?? await artifacts.get(name);
      if (stored) return stored;
      const bytes = await make();
      await store.set(name, bytes);
      return bytes;
    },
    checkpoint: (name) => ({
      load: async () => (await store.get(`checkpoints/${name}`)) ?? null,
      save: (bytes) => store.set(`checkpoints/${name}`, bytes),
      clear: () => store.delete(`checkpoints/${name}`),
    }),
  });
  const straight = await runFederated(context(new MemoryArtifacts()), setting);
  const store = new MemoryArtifacts();
  await assert.rejects(runFederated(context(store, 2), setting), /interrupted/);
  const resumed = await runFederated(context(store), setting);
  assert.deepEqual(resumed.evalLoss, straight.evalLoss);
  assert.equal(resumed.rougeL, straight.rougeL);

  // The same setting under another seed is another run (its own cached artifact).
  const made: string[] = [];
  const counting = new MemoryArtifacts();
  const recording = (seed: number): CellContext => ({
    ...context(counting, undefined, seed),
    artifact: (name, make) =>
      context(counting, undefined, seed).artifact(name, () => {
        made.push(name);
        return make();
      }),
  });
  const five = await runFederated(recording(5), setting);
  const six = await runFederated(recording(6), setting);
  const runs = made.filter((name) => name.startsWith("runs/"));
  assert.equal(runs.length, 2, `runs made: ${runs.join(", ")}`);
  assert.notEqual(runs[0], runs[1]);
  assert.deepEqual(five.evalLoss, straight.evalLoss);
  assert.notDeepEqual(six.evalLoss, five.evalLoss);
  assert.deepEqual((await runFederated(recording(6), setting)).evalLoss, six.evalLoss);
  assert.equal(
    made.filter((name) => name.startsWith("runs/")).length,
    2,
    "the third call is cached",
  );
});

Deno.test("tables: release the GPU", () => gpu.destroy());
