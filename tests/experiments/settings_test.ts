import assert from "node:assert/strict";
import { costSetting } from "../../experiments/_costs.ts";
import { columnSeeds, FEDERATED_SEEDS, federatedSetting } from "../../experiments/_settings.ts";
import { table2 } from "../../experiments/table2.ts";

Deno.test("paper-scale settings follow paper.md §5 model by model", () => {
  const ferret = (
    dataset: Parameters<typeof federatedSetting>[1],
    model: Parameters<typeof federatedSetting>[2],
  ) => {
    const s = federatedSetting("paper", dataset, model, "ferret");
    assert.equal(s.algorithm.kind, "ferret");
    return {
      ...(s.algorithm as { lr: number; globalLr: number }),
      rounds: s.rounds,
      local: s.local,
    };
  };
  // §5.1: NI and Dolly.
  assert.deepEqual(
    [ferret("ni-like", "datajuicer-1.3b").globalLr, ferret("dolly-like", "open_llama_3b").globalLr],
    [10, 3],
  );
  assert.equal(ferret("ni-like", "open_llama_3b").lr, 1e-4);
  assert.deepEqual(ferret("ni-like", "datajuicer-1.3b").local, { steps: 10, nAccum: 4 });
  assert.deepEqual([
    ferret("ni-like", "datajuicer-1.3b").rounds,
    ferret("dolly-like", "open_llama_3b").rounds,
  ], [12, 20]);
  // As printed: FedAvg follows FedKSeed's 40/60 rounds (§5.1; Appx. C.2 says 12, flagged in Table 2's notes).
  assert.equal(federatedSetting("paper", "ni-like", "datajuicer-1.3b", "fedavg").rounds, 40);
  assert.equal(federatedSetting("paper", "dolly-like", "datajuicer-1.3b", "fedavg").rounds, 60);
  // §5.2: LLaMA2-7B and -13B as published; LLaMA3-8B and Qwen2.5-7B unreported, LLaMA2-7B's (Table 9's notes).
  for (
    const [model, lr, globalLr] of [
      ["llama-2-7b", 3e-4, 5],
      ["llama-2-13b", 5e-4, 10],
      ["llama-3-8b", 3e-4, 5],
      ["qwen2.5-7b", 3e-4, 5],
    ] as const
  ) {
    for (const dataset of ["code-alpaca-like", "gsm8k-like"] as const) {
      const s = ferret(dataset, model);
      assert.deepEqual([s.lr, s.globalLr, s.rounds], [lr, globalLr, 20], `${model} on ${dataset}`);
    }
    const avg = federatedSetting("paper", "gsm8k-like", model, "fedavg").algorithm;
    assert.deepEqual(avg, { kind: "fedavg", lr: 3e-4, globalLr: 1 });
  }
});

Deno.test("cost tables time their own runs at paper scale, by Appx. C.2's protocol", () => {
  for (const method of ["fedavg", "ferret", "fedzo", "fedkseed"] as const) {
    const cost = costSetting("paper", "gsm8k-like", "llama-2-7b", method);
    const accuracy = federatedSetting("paper", "gsm8k-like", "llama-2-7b", method);
    const steps = method === "fedavg" || method === "ferret" ? 10 : 200;
    assert.deepEqual(cost.local, { steps, nAccum: 1 }, method);
    assert.deepEqual(cost.algorithm, accuracy.algorithm);
    assert.equal(cost.rounds, 3);
    // Below paper scale: the accuracy tables' own runs.
    assert.deepEqual(
      costSetting("default", "ni-like", "open_llama_3b", method),
      federatedSetting("default", "ni-like", "open_llama_3b", method),
    );
  }
});

Deno.test("columnSeeds: a column extends the scale's own seeds, never a caller's", () => {
  const own = FEDERATED_SEEDS.default;
  assert.deepEqual(columnSeeds(own, "default", 8), [0, 1, 2, 3, 4, 5, 6, 7]);
  assert.deepEqual(columnSeeds(own, "default"), own);
  assert.deepEqual(columnSeeds(own, "default", 3), own);
  assert.deepEqual(columnSeeds([0, 1], "default", 8), [0, 1]);
  assert.deepEqual(columnSeeds([4, 3, 2, 1, 0], "default", 8), [4, 3, 2, 1, 0]);
  assert.deepEqual(columnSeeds(FEDERATED_SEEDS.smoke, "smoke", 8), [0, 1, 2, 3, 4, 5, 6, 7]);
});

Deno.test("table2: at default scale every row of NI-like · LLaMA-3B runs 24 seeds, the others five", () => {
  const preset = table2.scales.default!;
  const seedsByColumn = (seeds: readonly number[]) => {
    const byRowColumn = new Map<string, number[]>();
    for (const cell of table2.cells(preset.params, seeds, "default")) {
      const column = /"dataset":"([^"]+)".*"model":"([^"]+)"/.exec(cell.key)!.slice(1).join(":");
      const key = `${cell.row}|${column}`;
      byRowColumn.set(key, [...byRowColumn.get(key) ?? [], cell.seed]);
    }
    return byRowColumn;
  };
  const byRowColumn = seedsByColumn(preset.seeds);
  assert.equal(byRowColumn.size, 9 * 4); // the base row and 8 methods × 4 columns
  for (const [key, seeds] of byRowColumn) {
    const expected = key.endsWith("|ni-like:open_llama_3b") ? 24 : 5;
    assert.deepEqual(seeds, Array.from({ length: expected }, (_, i) => i), key);
  }
  // --seeds replaces every column's seeds.
  for (const [key, seeds] of seedsByColumn([7])) assert.deepEqual(seeds, [7], key);
  // The smoke scale runs its own single seed everywhere.
  const smoke = table2.scales.smoke!;
  assert.ok(table2.cells(smoke.params, smoke.seeds, "smoke").every((cell) => cell.seed === 0));
});
