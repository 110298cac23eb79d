import assert from "node:assert/strict";
import { Gpu } from "../../src/gpu/gpu.ts";
import { fedAvg } from "../../src/fl/algorithms/fed_avg.ts";
import { ferret } from "../../src/fl/algorithms/ferret.ts";
import { MemoryCheckpointStore } from "../../src/fl/run_checkpoint.ts";
import { sampleClients } from "../../src/fl/sampling.ts";
import { DivergenceError, simulate, type SimulationOptions } from "../../src/fl/simulator.ts";
import type { FederatedAlgorithm } from "../../src/fl/types.ts";
import { rougeL } from "../../src/metrics/rouge_l.ts";
import { ByteTokenizer } from "../../src/model/tokenizer.ts";
import { heldOut, tinyClients, tinyModel } from "./_fixtures.ts";

const local = { steps: 2, optimizer: { kind: "sgd" as const, lr: 0.3 } };

/** Every algorithm of this suite whose server keeps state between rounds or not. */
const algorithms: [string, () => FederatedAlgorithm & { destroy(): void }][] = [
  ["FedAvg", () => fedAvg({ local, globalLr: 1.2 })],
  ["Ferret paper", () => ferret({ K: 60, local, globalLr: 2 })],
  [
    "Ferret official (momentum, annealing, client rebuild)",
    () =>
      ferret({
        K: 6,
        mode: "official",
        local,
        globalLr: 3,
        slrMin: 1,
        anneal: "cosine",
        momentum: 0.5,
        rebuild: "client",
      }),
  ],
];

Deno.test("runs are deterministic and resume to the bit-identical result", async (t) => {
  const gpu = await Gpu.create();
  try {
    const clients = tinyClients(5);
    const base = (algorithm: FederatedAlgorithm) => ({
      algorithm,
      clients,
      rounds: 4,
      seed: 13,
      participation: { fraction: 0.4 },
      evaluation: { sequences: heldOut(3) },
    });
    for (const [label, make] of algorithms) {
      await t.step(label, async () => {
        const straight = make();
        const a = await tinyModel(gpu);
        const full = await simulate({ ...base(straight), model: a });
        const again = make();
        const b = await tinyModel(gpu);
        await simulate({ ...base(again), model: b });
        const wanted = await a.params.vector.read();
        assert.deepEqual(await b.params.vector.read(), wanted, "the same run twice differs");

        const store = new MemoryCheckpointStore();
        const first = make();
        const c = await tinyModel(gpu);
        const half = await simulate({ ...base(first), model: c, checkpoint: store, until: 2 });
        assert.equal(half.completed, false);
        assert.equal(store.saves, 2);
        const second = make(); // a fresh process: new model at its initial parameters, new server
        const d = await tinyModel(gpu);
        const resumed = await simulate({ ...base(second), model: d, checkpoint: store });
        assert.equal(resumed.completed, true);
        assert.deepEqual(await d.params.vector.read(), wanted, "the resumed run differs");
        assert.deepEqual(
          resumed.records.map((r) => [r.round, r.clients, r.evalLoss, r.trainLoss]),
          full.records.map((r) => [r.round, r.clients, r.evalLoss, r.trainLoss]),
        );
        assert.deepEqual(resumed.ledger.totals(), full.ledger.totals());
        for (const x of [straight, again, first, second]) x.destroy();
      });
    }
    await t.step("a checkpoint of another run is refused", async () => {
      const store = new MemoryCheckpointStore();
      const one = fedAvg({ local });
      await simulate({ ...base(one), model: await tinyModel(gpu), checkpoint: store, until: 1 });
      const other = fedAvg({ local: { ...local, steps: 3 } });
      await assert.rejects(
        async () => simulate({ ...base(other), model: await tinyModel(gpu), checkpoint: store }),
        /belongs to another run/,
      );
      one.destroy();
      other.destroy();
    });
  } finally {
    gpu.destroy();
  }
});

Deno.test("records: sampled clients, losses, phase times, communication, evaluation", async () => {
  const gpu = await Gpu.create();
  try {
    const clients = tinyClients(6);
    const sequences = heldOut(4);
    const model = await tinyModel(gpu);
    const algorithm = fedAvg({ local });
    const tokenizer = new ByteTokenizer();
    const seen: number[] = [];
    const options: SimulationOptions = {
      model,
      algorithm,
      clients,
      rounds: 3,
      seed: 21,
      participation: { fraction: 0.5 },
      weighting: "equal",
      evaluation: { sequences, every: 2 },
      memory: () => 1234,
      onRound: (r) => {
        seen.push(r.round);
      },
      final: {
        examples: [{ prompt: [tokenizer.bos, 72, 105], reference: "hi" }],
        decode: (ids) => tokenizer.decode(ids),
        metric: rougeL,
        maxNewTokens: 4,
        eos: tokenizer.eos,
      },
    };
    const result = await simulate(options);
    assert.deepEqual(seen, [1, 2, 3]);
    const d = model.params.layout.numParameters;
    result.records.forEach((r) => {
      assert.deepEqual(r.clients, sampleClients(21, r.round, 6, { fraction: 0.5 }));
      assert.ok(Number.isFinite(r.trainLoss));
      assert.ok(
        r.seconds.local > 0 && r.seconds.aggregate > 0 && r.seconds.round >= r.seconds.local,
      );
      assert.equal(r.communication.scalars, 2 * d * 3);
      assert.equal(r.perClient, 2 * d);
      assert.equal(r.peakGpuBytes, 1234);
    });
    // Evaluated after rounds 2 and 3 (the last), not after round 1.
    assert.equal(result.records[0]!.evalLoss, null);
    assert.ok(Math.abs(result.records[2]!.evalLoss! - await model.loss(sequences)) < 1e-6);
    assert.equal(result.final!.generations.length, 1);
    assert.ok(result.final!.score >= 0 && result.final!.score <= 1);
    algorithm.destroy();
  } finally {
    gpu.destroy();
  }
});

Deno.test("non-finite clients are dropped and counted; a diverging run stops naming round and client", async (t) => {
  const gpu = await Gpu.create();
  try {
    // Clients with 1, 2 and 3 sequences take 1, 2 and 3 Adam steps of learning rate 1e15 (each
    // moves every weight by about ±1e15): the second step's loss is no longer finite, the first
    // client's one-step update still is.
    const clients = tinyClients(3);
    const huge = { steps: "epoch" as const, optimizer: { kind: "adam" as const, lr: 1e15 } };
    await t.step("dropped clients are left out and counted", async () => {
      const algorithm = fedAvg({ local: huge, globalLr: 1e-15 });
      const model = await tinyModel(gpu);
      const result = await simulate({ model, algorithm, clients, rounds: 2, seed: 1 });
      assert.deepEqual(result.records.map((r) => r.dropped), [[1, 2], [1, 2]]);
      assert.equal(result.droppedTotal, 4);
      assert.ok(Number.isFinite(result.records[1]!.paramNorm));
      algorithm.destroy();
    });
    await t.step("a non-finite global model stops the run", async () => {
      const algorithm = fedAvg({ local: huge, globalLr: 1 });
      const model = await tinyModel(gpu);
      await assert.rejects(
        () =>
          simulate({
            model,
            algorithm,
            clients,
            rounds: 2,
            seed: 1,
            evaluation: { sequences: heldOut(2) },
          }),
        (error: unknown) => {
          assert.ok(error instanceof DivergenceError);
          assert.equal(error.round, 1);
          assert.equal(error.client, 0);
          assert.match(error.message, /after round 1 .* client 0 sent the largest update/);
          return true;
        },
      );
      algorithm.destroy();
    });
  } finally {
    gpu.destroy();
  }
});

Deno.test("bad runs are refused at the boundary", async () => {
  const gpu = await Gpu.create();
  try {
    const model = await tinyModel(gpu);
    const algorithm = fedAvg({ local });
    const clients = tinyClients(2);
    await assert.rejects(
      () => simulate({ model, algorithm, clients, rounds: 0, seed: 1 }),
      RangeError,
    );
    await assert.rejects(
      () => simulate({ model, algorithm, clients: [], rounds: 1, seed: 1 }),
      RangeError,
    );
    const masked = [{
      id: 0,
      sequences: [{ tokens: new Int32Array([1, 2]), targets: new Int32Array([-100, -100]) }],
    }];
    await assert.rejects(
      () => simulate({ model, algorithm, clients: masked, rounds: 1, seed: 1 }),
      /no target/,
    );
    await assert.rejects(
      () =>
        simulate({ model, algorithm, clients: [{ ...clients[0]!, id: 5 }], rounds: 1, seed: 1 }),
      /has id 5/,
    );
    algorithm.destroy();
  } finally {
    gpu.destroy();
  }
});
