import assert from "node:assert/strict";
import { CommunicationLedger, paperCommunication } from "../../src/fl/ledger.ts";
import { parameterCount } from "../../src/model/config.ts";
import { PRESETS } from "../../src/model/presets.ts";

Deno.test("the ledger totals per round, per client and per run, both ways of counting", () => {
  const ledger = new CommunicationLedger();
  for (const client of [0, 1]) {
    ledger.record({ round: 1, client, direction: "up", scalars: 100, seeds: 1 });
    ledger.record({ round: 1, client, direction: "down", scalars: 150, seeds: 0 });
  }
  ledger.record({ round: 2, client: 0, direction: "up", scalars: 10, seeds: 0, bytes: 20 });
  assert.deepEqual(ledger.round(1), {
    scalars: 500,
    seeds: 2,
    paperBytes: 1000,
    bytes: 4 * 500 + 8 * 2,
    up: 200,
    down: 300,
  });
  assert.equal(ledger.perClientRound(1), 250);
  assert.equal(ledger.totals().bytes, 2016 + 20);
  assert.equal(ledger.perClientRound(3), 0);
  assert.throws(
    () => ledger.record({ round: 1, client: -1, direction: "up", scalars: 1, seeds: 0 }),
    RangeError,
  );
});

/**
 * paper.md §3 Tables 4, 5, 10: FedAvg/FedZO 6.0e9 (LLaMA-3B), 1.4e10 (LLaMA2-7B),
 * 2.6e10 (LLaMA2-13B); FedKSeed 8.2e3; Ferret 7.8e3, 6.4e3, 7.6e3.
 */
Deno.test("the ledger's formulas reproduce the paper's communication columns", async (t) => {
  const round2 = (x: number) => Number(x.toPrecision(2));
  await t.step("FedAvg and FedZO: 2d, with the paper's nominal model sizes", () => {
    for (const [nominal, printed] of [[3e9, 6.0e9], [7e9, 1.4e10], [13e9, 2.6e10]] as const) {
      assert.equal(paperCommunication("fedavg", { parameters: nominal }), printed);
      assert.equal(paperCommunication("fedzo", { parameters: nominal }), printed);
    }
  });
  await t.step("with the exact parameter counts two columns differ from the printed ones", () => {
    const exact = {
      "open_llama_3b": [parameterCount(PRESETS["open_llama_3b"]), 6.0e9],
      "llama-2-7b": [parameterCount(PRESETS["llama-2-7b"]), 1.4e10],
      "llama-2-13b": [parameterCount(PRESETS["llama-2-13b"]), 2.6e10],
    } as const;
    const counted = Object.fromEntries(
      Object.entries(exact).map((
        [name, [d]],
      ) => [name, round2(paperCommunication("fedavg", { parameters: d }))]),
    );
    // paper.md §8 item 10: 2 × 3.43e9 = 6.9e9, not the printed 6.0e9; and 2 × 6.74e9 = 1.3e10, not 1.4e10.
    assert.deepEqual(counted, {
      "open_llama_3b": 6.9e9,
      "llama-2-7b": 1.3e10,
      "llama-2-13b": 2.6e10,
    });
  });
  await t.step("FedKSeed: 2K with K = 4096", () => {
    assert.equal(round2(paperCommunication("fedkseed", { parameters: 3e9, K: 4096 })), 8.2e3);
  });
  await t.step("Ferret: 2 Σ K_l, the printed figures' Σ K_l", () => {
    for (const [coordinates, printed] of [[3900, 7.8e3], [3200, 6.4e3], [3800, 7.6e3]] as const) {
      assert.equal(paperCommunication("ferret", { parameters: 1, coordinates }), printed);
    }
    assert.throws(() => paperCommunication("ferret", { parameters: 1 }), TypeError);
  });
});
