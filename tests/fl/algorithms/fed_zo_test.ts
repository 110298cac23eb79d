import assert from "node:assert/strict";
import * as kernels from "../../../kernels/mod.ts";
import { Gpu } from "../../../src/gpu/gpu.ts";
import { PRESETS } from "../../../src/model/presets.ts";
import { Transformer } from "../../../src/model/transformer.ts";
import { packUniform } from "../../../src/gpu/uniform.ts";
import { BasisPlan } from "../../../src/projection/plan.ts";
import { RandomStream } from "../../../src/random/stream.ts";
import { assertSameBits } from "../../model/ops/_helpers.ts";
import { paperCommunication } from "../../../src/fl/ledger.ts";
import { simulate } from "../../../src/fl/simulator.ts";
import type { ClientData } from "../../../src/fl/types.ts";
import { fedZo, type FedZoOptions, type FedZoSettings } from "../../../src/fl/algorithms/fed_zo.ts";
import {
  evaluationsPerStep,
  type ZoClientRecords,
  ZoClients,
  zoCoefficientReference,
  type ZoStepOptions,
} from "../../../src/fl/algorithms/_zo_step.ts";
import {
  maxAbsDiff,
  meanLoss,
  perturb,
  randomClients,
  shuffledOrder,
  streamName,
} from "./_zo_context.ts";

const T = 12;
const f = Math.fround;

Deno.test("FedZO", async (t) => {
  const gpu = await Gpu.create();
  const makeModel = (seed: number) => Transformer.create(gpu, PRESETS.ci, { maxTokens: 16, seed });
  try {
    await t.step("the coefficient kernel matches its reference", async () => {
      const cases: [Partial<ZoStepOptions>, number[]][] = [
        [{ difference: "central", samples: 1, directions: 1 }, [5.25, 5.125]],
        [{ difference: "forward", samples: 3, directions: 2 }, [1, 2, 3, 1.5, 2.5, 3.5, 0.5, 1, 9]],
        [{ difference: "central", samples: 2, directions: 2, weightDecay: 0.1 }, [
          1,
          2,
          1.5,
          2.5,
          3,
          4,
          3,
          1,
        ]],
        [{ difference: "central", samples: 1, directions: 3, gradClip: 0.3 }, [
          1,
          0.5,
          NaN,
          1,
          2,
          1.9,
        ]],
        [{ difference: "forward", samples: 1, directions: 1, gradClip: 1e-3 }, [1, 2]],
      ];
      for (const [partial, losses] of cases) {
        const options: ZoStepOptions = {
          eps: 0.25,
          lr: 0.1,
          weightDecay: 0,
          gradClip: 0,
          difference: "central",
          samples: 1,
          directions: 1,
          steps: 2,
          ...partial,
        };
        const M = evaluationsPerStep(options);
        assert.equal(losses.length, M);
        const b2 = options.directions;
        const pairs = new Float32Array(2 * 2 * M);
        losses.forEach((l, e) => pairs.set([l, 1], 2 * (M + e))); // iteration t = 1
        const coef = gpu.upload(new Float32Array(4 + b2 + 1).fill(-7));
        const records = gpu.buffer(8 * 2 * b2);
        const lossBuffer = gpu.upload(pairs);
        await gpu.dispatch({
          kernel: kernels.zoCoefficient,
          storage: [coef, records, lossBuffer],
          uniform: packUniform([
            ["u", 1],
            ["u", M],
            ["u", options.samples],
            ["u", b2],
            ["u", options.difference === "forward" ? 1 : 0],
            ["u", options.weightDecay === 0 ? 1 : 0],
            ["u", 0],
            ["u", 0],
            ["f", options.eps],
            ["f", options.lr],
            ["f", options.gradClip],
            ["f", options.lr * options.weightDecay],
            ["u", 0],
          ]),
          workgroups: 1,
        });
        const [c, r] = await gpu.readMany([
          { buffer: coef, size: 4 * (4 + b2 + 1) },
          { buffer: records, size: 8 * 2 * b2 },
        ]);
        const want = zoCoefficientReference({ losses, options });
        const gotCoef = new Float32Array(c!);
        const gotRecords = new Float32Array(r!).subarray(2 * b2);
        for (let j = 0; j < b2; j++) {
          const label = `${JSON.stringify(partial)} direction ${j}`;
          assert.ok(
            Math.abs(gotRecords[2 * j]! - want.g[j]!) <= 1e-6 * Math.abs(want.g[j]!),
            label,
          );
          assert.equal(gotRecords[2 * j + 1], want.skipped[j] ? 1 : 0, label);
          assert.ok(
            Math.abs(gotCoef[4 + j]! - want.coefficients[j]!) <= 1e-6 * Math.abs(want.g[j]!) + 1e-7,
            `${label}: ${gotCoef[4 + j]} vs ${want.coefficients[j]}`,
          );
        }
        assert.equal(gotCoef[4 + b2], want.decay);
        for (const b of [coef, records, lossBuffer]) b.destroy();
      }
    });

    const oneClient = randomClients(21, 1, 4, T);
    /** The run seed of every simulation here: the streams below are named after it. */
    const runSeed = 1;

    /**
     * Client `client`'s local iterations in round 1 by hand, from `start`:
     * its seeds and data order from its named streams, each g from losses
     * read back, each step a CPU coefficient. Leaves `model` at the result.
     */
    const handRolled = async (
      model: Transformer,
      start: Float32Array,
      client: ClientData,
      options: FedZoSettings,
    ) => {
      const { steps, samples, directions, lr, eps, weightDecay, difference } = options;
      const w = model.params.vector;
      const seedStream = new RandomStream(runSeed, streamName(1, `client=${client.id}/directions`));
      const seeds = Array.from(
        { length: steps },
        () =>
          Array.from(
            { length: directions },
            () => (BigInt(seedStream.u32()) << 32n) | BigInt(seedStream.u32()),
          ),
      );
      const order = shuffledOrder(
        new RandomStream(runSeed, streamName(1, `client=${client.id}/order`)),
        client.sequences.length,
        steps * samples,
      );
      w.write(start);
      const plan = BasisPlan.create(gpu, {
        blocks: [{ start: 0, length: w.length }],
        counts: [1],
        distribution: "gaussian",
        vector: w,
      });
      const gs: number[] = [];
      for (let s = 0; s < steps; s++) {
        const batch = order.slice(s * samples, (s + 1) * samples).map((i) => client.sequences[i]!);
        // The GPU's order of operations: the last perturbation is not undone on its own
        // but folded into its update coefficient when wd = 0.
        const fold = weightDecay === 0;
        const g: number[] = [];
        const base = difference === "forward" ? await meanLoss(model, batch) : 0;
        for (const [j, seed] of seeds[s]!.entries()) {
          const last = j === directions - 1;
          if (difference === "forward") {
            await perturb(gpu, plan, w, seed, f(eps));
            const plus = await meanLoss(model, batch);
            if (!last || !fold) await perturb(gpu, plan, w, seed, -f(eps));
            g.push(f(f(plus - base) / f(eps)));
          } else {
            await perturb(gpu, plan, w, seed, f(eps));
            const plus = await meanLoss(model, batch);
            await perturb(gpu, plan, w, seed, -2 * f(eps));
            const minus = await meanLoss(model, batch);
            if (!last || !fold) await perturb(gpu, plan, w, seed, f(eps));
            g.push(f(f(plus - minus) / f(2 * f(eps))));
          }
        }
        if (weightDecay > 0) {
          // w ← (1 − η·wd)·w on every tensor but the RMSNorm weights.
          const x = await w.read();
          const factor = f(1 - f(lr * weightDecay));
          for (const slot of model.params.layout.tensors) {
            if (slot.kind === "norm") continue;
            for (let i = slot.offset; i < slot.offset + slot.numel; i++) x[i] = f(x[i]! * factor);
          }
          w.write(x);
        }
        // The averaged estimate: w ← w − (η/b₂) Σ_j g_j·u_j.
        for (const [j, seed] of seeds[s]!.entries()) {
          let c = f(f(-f(lr) * g[j]!) / directions);
          if (fold && j === directions - 1) {
            c = f(c + (difference === "forward" ? -f(eps) : f(eps)));
          }
          await perturb(gpu, plan, w, seed, c);
        }
        gs.push(...g);
      }
      plan.destroy();
      return { seeds, order, gs, local: await w.read() };
    };

    /** Runs one simulated round of FedZO on client 0 and the same steps by hand from the same start. */
    const compareWithHandRolled = async (options: FedZoOptions) => {
      const model = await makeModel(4);
      const w = model.params.vector;
      const start = await w.read();
      const algorithm = fedZo(options);
      const result = await simulate({
        model,
        algorithm,
        clients: oneClient,
        rounds: 1,
        seed: runSeed,
      });
      const [round] = result.records;
      assert.ok(Number.isFinite(round!.trainLoss));
      assert.deepEqual(round!.dropped, []);
      assert.ok(round!.seconds.local > 0 && round!.seconds.aggregate > 0, "phases are timed");
      const d = model.params.layout.numParameters;
      assert.equal(result.ledger.perClientRound(1), 2 * d);
      assert.equal(result.ledger.perClientRound(1), paperCommunication("fedzo", { parameters: d }));
      const averaged = await w.read();
      const record = algorithm.lastRound.find((r) => r.client === 0)!;
      assert.ok(record, "client 0 has a record");

      const { seeds, order, gs, local } = await handRolled(
        model,
        start,
        oneClient[0]!,
        algorithm.options,
      );
      assert.deepEqual(record.seeds, seeds, "direction seeds: the named stream");
      assert.deepEqual(record.order.flat(), order, "data order");
      for (let i = 0; i < gs.length; i++) {
        assert.ok(
          Math.abs(record.g[i]! - gs[i]!) <= 1e-4 * Math.abs(gs[i]!) + 1e-5,
          `g[${i}] ${record.g[i]} vs ${gs[i]}`,
        );
      }
      assert.ok(maxAbsDiff(averaged, local) < 1e-5, `model ${maxAbsDiff(averaged, local)}`);
      assert.ok(maxAbsDiff(local, start) > 1e-4, "the steps moved the model");
      algorithm.destroy();
    };

    await t.step(
      "b₂ directions and b₁ samples per step average as a hand-rolled loop",
      () => compareWithHandRolled({ steps: 3, samples: 2, directions: 3, lr: 0.02, eps: 1e-3 }),
    );

    await t.step(
      "central differences with weight decay match a hand-rolled loop",
      () =>
        compareWithHandRolled({
          steps: 3,
          difference: "central",
          weightDecay: 0.5,
          lr: 0.02,
          eps: 1e-3,
        }),
    );

    // 5, 3 and 2 sequences: the simulator's default `samples` weights are 0.5, 0.3, 0.2.
    const sizes = [5, 3, 2];
    const clients = randomClients(31, 3, sizes, T);
    const weightOf = (id: number) => sizes[id]! / 10;
    const settings: FedZoOptions = { steps: 3, lr: 0.02, eps: 1e-3, directions: 2 };

    await t.step("the server averages the clients' models with their weights", async () => {
      const model = await makeModel(5);
      const w = model.params.vector;
      const start = await w.read();
      const algorithm = fedZo(settings);
      const result = await simulate({ model, algorithm, clients, rounds: 1, seed: runSeed });
      const [round] = result.records;
      assert.deepEqual(round!.dropped, []);
      assert.deepEqual([...round!.clients].sort(), [0, 1, 2]);
      assert.deepEqual(algorithm.lastRound.map((r) => r.client), round!.clients);
      const averaged = await w.read();
      // Each client's local model by hand, from its own streams and data, weighted by its id.
      const expected = new Float64Array(start.length);
      for (const client of clients) {
        const { local, gs } = await handRolled(model, start, client, algorithm.options);
        const record = algorithm.lastRound.find((r) => r.client === client.id)!;
        for (let i = 0; i < gs.length; i++) {
          assert.ok(
            Math.abs(record.g[i]! - gs[i]!) <= 1e-4 * Math.abs(gs[i]!) + 1e-5,
            `client ${client.id} g[${i}] ${record.g[i]} vs ${gs[i]}`,
          );
        }
        local.forEach((v, k) => (expected[k]! += weightOf(client.id) * v));
      }
      assert.ok(maxAbsDiff(averaged, expected) < 1e-5, `${maxAbsDiff(averaged, expected)}`);
      assert.equal(result.ledger.totals().scalars, 3 * 2 * model.params.layout.numParameters);
      algorithm.destroy();
    });

    await t.step("directions past gradClip are skipped: the model stays put", async () => {
      const model = await makeModel(5);
      const start = await model.params.vector.read();
      const algorithm = fedZo({ ...settings, gradClip: 1e-9 });
      const result = await simulate({
        model,
        algorithm,
        clients: oneClient,
        rounds: 1,
        seed: runSeed,
      });
      assert.equal(result.records[0]!.extra.skippedDirections, 3 * 2);
      assert.ok(maxAbsDiff(await model.params.vector.read(), start) < 2e-6);
      algorithm.destroy();
    });

    await t.step("the same run twice gives identical parameters", async () => {
      const results: Float32Array[] = [];
      for (let run = 0; run < 2; run++) {
        const model = await makeModel(9);
        const algorithm = fedZo(settings);
        await simulate({ model, algorithm, clients, rounds: 2, seed: runSeed });
        results.push(await model.params.vector.read());
        algorithm.destroy();
      }
      assert.deepEqual(results[0], results[1]);
    });

    await t.step("a batch of clients steps each exactly as it steps alone", async () => {
      // ZoClients runs clients as one batch of models where it can, one at a time with
      // `batch: false`. Several samples (an upload per evaluation), several directions, weight
      // decay (per-model factors) and both difference forms.
      const stream = new RandomStream(9, "tests/fl/fed_zo/batch");
      const sequence = (n: number) => ({
        tokens: Int32Array.from({ length: n }, () => stream.int(PRESETS.ci.vocabSize)),
        targets: Int32Array.from({ length: n }, (_, i) => (i < 2 ? -100 : stream.int(259))),
      });
      const cases: Partial<ZoStepOptions>[] = [
        { difference: "central", samples: 2, directions: 2, weightDecay: 0.1 },
        { difference: "forward", samples: 1, directions: 3 },
        { difference: "central", samples: 1, directions: 1, gradClip: 5 },
      ];
      for (const partial of cases) {
        const options: ZoStepOptions = {
          eps: 1e-2,
          lr: 0.05,
          weightDecay: 0,
          gradClip: 0,
          difference: "central",
          samples: 1,
          directions: 1,
          steps: 3,
          ...partial,
        };
        const plans = [0, 1, 2].map(() => ({
          seeds: Array.from(
            { length: options.steps },
            () => Array.from({ length: options.directions }, () => 1 + stream.int(1e9)),
          ),
          sequences: Array.from(
            { length: options.steps },
            () => Array.from({ length: options.samples }, () => sequence(5 + stream.int(10))),
          ),
        }));
        const runs: { records: ZoClientRecords[]; params: Float32Array[] }[] = [];
        for (const batched of [true, false]) {
          const model = await makeModel(4);
          const start = model.trainable.params.vector.like("start");
          model.trainable.params.vector.copyTo(start);
          // A one-at-a-time reference: the same model without batching (batchRefusal).
          const clients = new ZoClients(model, options, batched ? {} : { batch: false });
          const params: Float32Array[] = [];
          const records = await clients.run(start, plans, async (_, trained) => {
            params.push(await trained.read());
          });
          runs.push({ records, params });
          clients.destroy();
          start.destroy();
          model.destroy();
        }
        const steps = (r: ZoClientRecords[]) => r.map(({ batchedClients: _, ...rest }) => rest);
        assert.deepEqual(steps(runs[0]!.records), steps(runs[1]!.records), JSON.stringify(partial));
        assert.deepEqual(runs.map((r) => r.records.map((c) => c.batchedClients)), [[3, 3, 3], [
          1,
          1,
          1,
        ]]);
        runs[0]!.params.forEach((p, c) =>
          assertSameBits(p, runs[1]!.params[c]!, `${JSON.stringify(partial)}: client ${c}`, {
            anyZeroSign: true,
          })
        );
        assert.ok(runs[0]!.records.some((r) => r.g.some((g) => g !== 0)), "the clients step");
      }
    });

    await t.step("options are validated", () => {
      assert.throws(() => fedZo({ directions: 0 }), RangeError);
      assert.throws(() => fedZo({ eps: -1 }), RangeError);
      assert.throws(() => fedZo({ difference: "backward" as "forward" }), TypeError);
      const algorithm = fedZo();
      assert.deepEqual(
        [algorithm.options.steps, algorithm.options.samples, algorithm.options.directions],
        [200, 1, 1],
      );
      assert.equal(algorithm.options.difference, "forward");
    });
  } finally {
    gpu.destroy();
  }
});
