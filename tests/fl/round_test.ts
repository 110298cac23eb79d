/**
 * The round the simulator owns, pinned on hand-computed cases: weights by
 * sample count or equal, renormalised over the clients that were kept, the
 * ledger of a dropped client, and clients handed to an algorithm several at
 * a time giving the same run as one at a time.
 */
import assert from "node:assert/strict";
import { Gpu } from "../../src/gpu/gpu.ts";
import { fedAvg } from "../../src/fl/algorithms/fed_avg.ts";
import { fedKSeed } from "../../src/fl/algorithms/fed_kseed.ts";
import { fedZo } from "../../src/fl/algorithms/fed_zo.ts";
import { ferret } from "../../src/fl/algorithms/ferret.ts";
import { fedIt, fedPrompt, fedPTuning } from "../../src/fl/algorithms/peft.ts";
import { simulate } from "../../src/fl/simulator.ts";
import type { ClientData, FederatedAlgorithm } from "../../src/fl/types.ts";
import type { Weighting } from "../../src/fl/sampling.ts";
import type { AdapterOptions } from "../../src/model/peft/adapter.ts";
import { RandomStream } from "../../src/random/stream.ts";
import {
  heldOut,
  maxAbs,
  maxAbsDiff,
  randomSequence,
  tinyClients,
  tinyModel,
} from "./_fixtures.ts";

/** `algorithm` with client `drop`'s upload withheld, as a client whose update is not finite. */
function dropping<U, B>(
  algorithm: FederatedAlgorithm<U, B>,
  drop: number,
): FederatedAlgorithm<U, B> {
  return {
    name: algorithm.name,
    id: algorithm.id,
    trains: algorithm.trains,
    options: algorithm.options,
    setup: (model, run) => algorithm.setup(model, run),
    train: async (work) =>
      (await algorithm.train(work)).map((o, j) =>
        work.clients[j]!.id === drop ? { ...o, upload: null } : o
      ),
    aggregator: (round) => algorithm.aggregator(round),
    apply: (broadcast, global, round) => algorithm.apply(broadcast, global, round),
    uploadSize: (upload) => algorithm.uploadSize(upload),
    broadcastSize: (broadcast) => algorithm.broadcastSize(broadcast),
  };
}

Deno.test("FedAvg and the PEFT baselines: unequal clients, one dropped, weights renormalised — by hand", async (t) => {
  const gpu = await Gpu.create();
  try {
    // Client i holds 1 + i copies of its own sequence, so one SGD step on any of them is the
    // gradient g_i of that sequence, whatever the data order; sizes 1, 2, 3.
    const stream = new RandomStream(17, "tests/fl/round");
    const clients: ClientData[] = [0, 1, 2].map((id) => {
      const sequence = randomSequence(stream, 6 + id);
      return { id, sequences: Array.from({ length: 1 + id }, () => sequence) };
    });
    const lr = 0.4, globalLr = 1.7;
    const cases: [string, AdapterOptions | undefined, () => FederatedAlgorithm][] = [
      [
        "FedAvg",
        undefined,
        () => fedAvg({ local: { steps: 1, optimizer: { kind: "sgd", lr } }, globalLr }),
      ],
      ["FedPrompt", { kind: "prompt", tokens: 2 }, () => fedPrompt({ steps: 1, lr, globalLr })],
    ];
    const wanted: Record<Weighting, number[]> = {
      samples: [1 / 4, 0, 3 / 4],
      equal: [1 / 2, 0, 1 / 2],
    };
    for (const [label, adapter, make] of cases) {
      for (const weighting of ["samples", "equal"] as const) {
        await t.step(`${label}, ${weighting} weights, client 1 dropped`, async () => {
          const model = await tinyModel(gpu, adapter);
          const w = await model.trainable.params.vector.read();
          const update = new Float64Array(w.length);
          for (const client of clients) {
            const probe = await tinyModel(gpu, adapter);
            await probe.lossAndGrad([client.sequences[0]!]);
            const g = await probe.trainable.grads.vector.read();
            const p = wanted[weighting][client.id]!;
            for (let e = 0; e < w.length; e++) update[e] = update[e]! + p * lr * g[e]!;
            probe.destroy();
          }
          const want = Float64Array.from(w, (x, e) => x - globalLr * update[e]!);
          const algorithm = make();
          const result = await simulate({
            model,
            algorithm: dropping(algorithm, 1),
            clients,
            rounds: 1,
            seed: 4,
            weighting,
          });
          const got = await model.trainable.params.vector.read();
          const scale = maxAbs(update) * globalLr;
          assert.ok(scale > 1e-3, `the update is too small to test: ${scale}`);
          // Δ_i = w − (w − η g_i) in f32 loses up to an ulp of w per client.
          const error = maxAbsDiff(got, want);
          assert.ok(error < 1e-6 + 1e-5 * scale, `max error ${error} (update scale ${scale})`);
          const record = result.records[0]!;
          assert.deepEqual(record.dropped, [1]);
          // The dropped client sent nothing; all three received the broadcast.
          const d = model.trainable.params.layout.numParameters;
          assert.equal(result.ledger.round(1).up, 2 * d);
          assert.equal(result.ledger.round(1).down, 3 * d);
          algorithm.destroy?.();
          model.destroy();
        });
      }
    }
  } finally {
    gpu.destroy();
  }
});

Deno.test("handing the sampled clients to an algorithm several at a time gives the same run", async (t) => {
  const gpu = await Gpu.create();
  try {
    const clients = tinyClients(5);
    const local = { steps: 2, optimizer: { kind: "sgd" as const, lr: 0.3 } };
    const cases: [string, AdapterOptions | undefined, () => FederatedAlgorithm][] = [
      ["FedAvg", undefined, () => fedAvg({ local, globalLr: 1.2 })],
      ["FedIT", { kind: "lora", rank: 4 }, () => fedIt({ steps: 2, lr: 0.01 })],
      ["FedPrompt", { kind: "prompt", tokens: 3 }, () => fedPrompt({ steps: 2, lr: 0.3 })],
      ["FedPTuning", { kind: "prefix", tokens: 3 }, () => fedPTuning({ steps: 2, lr: 0.3 })],
      ["FedZO", undefined, () => fedZo({ steps: 3, lr: 0.02, eps: 1e-3, directions: 2 })],
      [
        "FedKSeed-Pro",
        undefined,
        () => fedKSeed({ K: 8, steps: 3, lr: 0.02, sampling: "pro" }),
      ],
      ["Ferret paper", undefined, () => ferret({ K: 60, local, globalLr: 2 })],
      [
        "Ferret official",
        undefined,
        () => ferret({ mode: "official", K: 6, local, globalLr: 3, momentum: 0.5 }),
      ],
    ];
    for (const [label, adapter, make] of cases) {
      await t.step(label, async () => {
        const runs = [];
        for (const clientBatch of [1, 3]) {
          const model = await tinyModel(gpu, adapter);
          const algorithm = make();
          const result = await simulate({
            model,
            algorithm,
            clients,
            rounds: 2,
            seed: 6,
            participation: { fraction: 0.8 },
            evaluation: { sequences: heldOut(2) },
            clientBatch,
          });
          runs.push({
            params: await model.trainable.params.vector.read(),
            records: result.records.map((r) => [r.clients, r.trainLoss, r.evalLoss]),
            ledger: result.ledger.totals(),
            batched: result.records.map((r) => r.extra.batchedClients ?? 1),
          });
          algorithm.destroy?.();
          model.destroy();
        }
        assert.deepEqual(runs[1]!.params, runs[0]!.params);
        assert.deepEqual(runs[1]!.records, runs[0]!.records);
        assert.deepEqual(runs[1]!.ledger, runs[0]!.ledger);
        // Four of five clients per round, three per call: a batch of 3 and one alone (mean 2.5),
        // full models and every adapter alike.
        assert.ok(runs[0]!.batched.every((n) => n === 1), "one per call: alone");
        const together = (3 * 3 + 1) / 4;
        assert.deepEqual(runs[1]!.batched, [together, together], "three per call: batched");
      });
    }
  } finally {
    gpu.destroy();
  }
});
