import assert from "node:assert/strict";
import { Gpu } from "../../../src/gpu/gpu.ts";
import { PRESETS } from "../../../src/model/presets.ts";
import { Transformer } from "../../../src/model/transformer.ts";
import { BasisPlan } from "../../../src/projection/plan.ts";
import { RandomStream } from "../../../src/random/stream.ts";
import { paperCommunication } from "../../../src/fl/ledger.ts";
import { type RoundRecord, simulate } from "../../../src/fl/simulator.ts";
import { fedKSeed, seedProbabilities } from "../../../src/fl/algorithms/fed_kseed.ts";
import {
  REPLAY_SEEDS_PER_DISPATCH,
  replayReference,
  replaySeeds,
  seedKeys,
} from "../../../src/fl/algorithms/_zo_replay.ts";
import { GpuVector } from "../../../src/gpu/vector.ts";
import { ZoStepper } from "../../../src/fl/algorithms/_zo_step.ts";
import {
  maxAbsDiff,
  meanLoss,
  perturb,
  randomClients,
  randomSequences,
  shuffledOrder,
  streamName,
} from "./_zo_context.ts";

const T = 12;
const f = Math.fround;
/** The run seed of the simulations here: the streams below are named after it. */
const runSeed = 1;

/** FedKSeed-Pro's probabilities computed the long way from per-seed lists of g (paper.md §6). */
function handProbabilities(histories: number[][], clip: number): number[] {
  const means = histories.map((h) =>
    h.reduce((s, g) => s + Math.abs(Math.max(-clip, Math.min(clip, g))), 0) / h.length
  );
  const lo = Math.min(...means);
  const hi = Math.max(...means);
  const scaled = means.map((m) => (m - lo) / (hi + 1e-10 - lo));
  const e = scaled.map(Math.exp);
  const sum = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / sum);
}

Deno.test("FedKSeed and FedKSeed-Pro", async (t) => {
  const gpu = await Gpu.create();
  const makeModel = (seed: number) => Transformer.create(gpu, PRESETS.ci, { maxTokens: 16, seed });
  try {
    await t.step(
      "g(ε) → zᵀ∇L with the ε²/6·∂³L error of a central difference (Thm 3)",
      async () => {
        // Central difference: g(ε) = D₁ + ε²/6·D₃ + O(ε⁴), D_k the k-th derivative of L along z.
        // D₁ and D₃ come from the analytic gradient (D₃ by a second difference of D₁ at w ± hz);
        // the loss is an f32 value, so each evaluation carries ≲ 4 ulp(L) of rounding → ±4·ulp/ε in g.
        const model = await makeModel(3);
        const [sequence] = randomSequences(5, 1, T);
        const w0 = await model.params.vector.read();
        const ulp = 2 ** (Math.floor(Math.log2(await model.loss([sequence!]))) - 23);
        const epsilons = [2e-3, 1e-3];
        // Directions from the general tiled reconstruction: the steps must use the same z.
        const plan = BasisPlan.create(gpu, {
          blocks: [{ start: 0, length: model.params.vector.length }],
          counts: [1],
          distribution: "gaussian",
          vector: model.params.vector,
        });
        for (const seed of [11, 12, 13]) {
          const steppers = epsilons.map((eps) =>
            ZoStepper.create(model, {
              eps,
              lr: 0, // g only: the last reconstruction just restores w
              weightDecay: 0,
              gradClip: 0,
              difference: "central",
              samples: 1,
              directions: 1,
              steps: 1,
            })
          );
          const zVector = model.params.vector.like();
          await perturb(gpu, plan, zVector, seed, 1);
          const z = await zVector.read();
          zVector.destroy();
          const derivative = async () => {
            await model.recordLossAndGrad([sequence!]);
            const grad = await model.grads.vector.read();
            let d = 0;
            for (let i = 0; i < z.length; i++) d += z[i]! * grad[i]!;
            return d;
          };
          const h = 1e-3;
          const D1 = await derivative();
          await perturb(gpu, plan, model.params.vector, seed, h);
          const up = await derivative();
          await perturb(gpu, plan, model.params.vector, seed, -2 * h);
          const down = await derivative();
          await perturb(gpu, plan, model.params.vector, seed, h);
          const D3 = (up - 2 * D1 + down) / (h * h);
          for (const [i, stepper] of steppers.entries()) {
            const eps = epsilons[i]!;
            await stepper.record([seed], [sequence!]);
            const g = (await stepper.read()).g[0]!;
            stepper.destroy();
            const predicted = (eps * eps * D3) / 6;
            const error = g - D1;
            assert.ok(
              Math.abs(error - predicted) <= 0.25 * Math.abs(predicted) + (4 * ulp) / eps,
              `seed ${seed}, ε = ${eps}: g − zᵀ∇L = ${error}, ε²/6·D₃ = ${predicted}`,
            );
            if (i === 0) {
              assert.ok(
                Math.abs(predicted) > 2 * ((4 * ulp) / eps),
                `seed ${seed}: the ε² term must stand out of the rounding to test anything`,
              );
            }
          }
        }
        const w1 = await model.params.vector.read();
        assert.ok(maxAbsDiff(w0, w1) < 2e-6, "η = 0 steps leave w where it was");
      },
    );

    await t.step(
      "the replay kernel matches its reference (chunks, padding, bases, splits)",
      async () => {
        const d = 3001; // 3 chunks of 1024, the last one partial and padded
        const x = Float32Array.from({ length: d }, (_, i) => Math.cos(i * 0.3));
        const seeds = [12345678901, 5, 99999999999, 42, 2 ** 40 + 3];
        const coefficients = new Float32Array([0.5, -1.25, 2, 0.125, -0.75, 3]);
        const v = GpuVector.from(gpu, x, { chunkElements: 1024 });
        const keys = gpu.upload(seedKeys(seeds));
        const coef = gpu.upload(coefficients);
        await replaySeeds(v, keys, coef, 3, { seedBase: 2, coefBase: 3 });
        const got = await v.read();
        const want = replayReference(x, seeds.slice(2), coefficients.subarray(3));
        assert.ok(maxAbsDiff(got, want) < 2e-5, `accumulate: ${maxAbsDiff(got, want)}`);
        await replaySeeds(v, keys, coef, 5, { accumulate: false });
        const over = await v.read();
        const want2 = replayReference(x, seeds, coefficients, false);
        assert.ok(maxAbsDiff(over, want2) < 2e-5, `overwrite: ${maxAbsDiff(over, want2)}`);
        const last = v.chunks[2]!;
        const padding = new Float32Array(await gpu.read(last.buffer, 0, last.buffer.size));
        assert.ok(padding.subarray(last.length).every((p) => p === 0), "the padding stays zero");
        for (const b of [keys, coef]) b.destroy();
        v.destroy();
        // More seeds than one dispatch takes: split and accumulated.
        const K = REPLAY_SEEDS_PER_DISPATCH + 3;
        const many = Array.from({ length: K }, (_, k) => 1000 + 7 * k);
        const c = Float32Array.from({ length: K }, (_, k) => ((k % 5) - 2) * 1e-3);
        const y = GpuVector.from(gpu, new Float32Array(12).fill(1));
        const manyKeys = gpu.upload(seedKeys(many));
        const manyCoef = gpu.upload(c);
        await replaySeeds(y, manyKeys, manyCoef, K, { accumulate: false });
        const split = await y.read();
        const wantSplit = replayReference(new Float32Array(12), many, c, false);
        assert.ok(maxAbsDiff(split, wantSplit) < 1e-4, `split: ${maxAbsDiff(split, wantSplit)}`);
        await assert.rejects(() => replaySeeds(y, manyKeys, manyCoef, K + 2), RangeError);
        for (const b of [manyKeys, manyCoef]) b.destroy();
        y.destroy();
      },
    );

    await t.step(
      "a client's local steps equal a hand-rolled loop (same seeds, same data)",
      async () => {
        const model = await makeModel(4);
        const w = model.params.vector;
        const start = await w.read();
        const clients = randomClients(7, 1, 3, T);
        const K = 16, steps = 6, lr = 0.02, eps = 5e-4;
        const algorithm = fedKSeed({ K, steps, lr, eps, seed: 9 });
        const result = await simulate({ model, algorithm, clients, rounds: 1, seed: runSeed });
        assert.deepEqual(result.records[0]!.dropped, []);
        const rebuilt = await w.read();
        const record = algorithm.lastRound.find((r) => r.client === 0)!;
        assert.ok(record, "client 0 has a record");

        const seedStream = new RandomStream(runSeed, streamName(1, "client=0/seeds"));
        const indices = Array.from({ length: steps }, () => seedStream.int(K));
        assert.deepEqual(record.seedIndices, indices, "seeds: uniform draws of the named stream");
        const orderStream = new RandomStream(runSeed, streamName(1, "client=0/order"));
        assert.deepEqual(record.order, shuffledOrder(orderStream, 3, steps), "data order");

        w.write(start);
        const plan = BasisPlan.create(gpu, {
          blocks: [{ start: 0, length: w.length }],
          counts: [1],
          distribution: "gaussian",
          vector: w,
        });
        const gs: number[] = [];
        const pool = new Float64Array(K);
        for (let s = 0; s < steps; s++) {
          const seed = algorithm.candidates[indices[s]!]!;
          const sequence = clients[0]!.sequences[record.order[s]!]!;
          await perturb(gpu, plan, w, seed, f(eps));
          const plus = await meanLoss(model, [sequence]);
          await perturb(gpu, plan, w, seed, -2 * f(eps));
          const minus = await meanLoss(model, [sequence]);
          const g = f(f(plus - minus) / f(2 * f(eps)));
          gs.push(g);
          pool[indices[s]!]! += g;
          await perturb(gpu, plan, w, seed, f(f(-f(lr) * g) + f(eps)));
        }
        const local = await w.read();
        plan.destroy();
        for (let s = 0; s < steps; s++) {
          assert.ok(
            Math.abs(record.g[s]! - gs[s]!) <= 1e-4 * Math.abs(gs[s]!) + 1e-6,
            `step ${s}: g ${record.g[s]} vs ${gs[s]}`,
          );
        }
        assert.ok(maxAbsDiff(algorithm.pool, pool) < 1e-3, "the pool holds Σ g per seed");
        // The server's rebuild w₀ − η Σ pool·z equals the client's incremental walk.
        assert.ok(
          maxAbsDiff(rebuilt, local) < 1e-5,
          `rebuild vs local ${maxAbsDiff(rebuilt, local)}`,
        );
        assert.ok(maxAbsDiff(local, start) > 1e-4, "the steps moved the model");
        algorithm.destroy();
      },
    );

    const K = 8;
    // 3 and 2 sequences: the simulator's default `samples` weights are 0.6 and 0.4.
    const sizes = [3, 2];
    const clients = randomClients(11, 2, sizes, T);
    const lr = 0.01;
    const settings = { K, steps: 4, lr, seed: 5 } as const;
    /** A fresh model and algorithm, and `simulate` of them over `clients` (run seed 1). */
    const run = async (
      sampling: "uniform" | "pro",
      modelSeed = 6,
      rebuild: "replay" | "incremental" = "replay",
    ) => {
      const model = await makeModel(modelSeed);
      const algorithm = fedKSeed({ ...settings, sampling, rebuild });
      const simulation = (
        rounds: number,
        onRound?: (record: RoundRecord) => void | Promise<void>,
      ) => simulate({ model, algorithm, clients, rounds, seed: runSeed, onRound });
      return { model, algorithm, simulation };
    };

    await t.step(
      "the rebuild from w₀ equals the per-round updates applied incrementally",
      async () => {
        const { model, algorithm, simulation } = await run("uniform");
        const w = model.params.vector;
        const w0 = await w.read();
        const incremental = w.like();
        incremental.write(w0);
        const plan = BasisPlan.create(gpu, {
          blocks: [{ start: 0, length: w.length }],
          counts: [1],
          distribution: "gaussian",
          vector: w,
        });
        let previous = new Float64Array(K);
        let skipped = 0;
        const result = await simulation(3, async (record) => {
          const r = record.round;
          assert.deepEqual(record.dropped, []);
          assert.ok(Number.isFinite(record.trainLoss));
          const pool = algorithm.pool;
          // This round's change of the pool: Σ_i w_i·(Σ g per seed), w_i = sequences_i / 5.
          const change = new Float64Array(K);
          for (const client of algorithm.lastRound) {
            const weight = sizes[client.client]! / 5;
            client.seedIndices.forEach((s, t) => {
              if (!client.skipped[t]) change[s]! += weight * client.g[t]!;
            });
          }
          const poolChange = pool.map((p, s) => p - previous[s]!);
          assert.ok(
            maxAbsDiff(poolChange, change) < 1e-9,
            `round ${r}: pool change ${poolChange} vs ${change}`,
          );
          for (let s = 0; s < K; s++) {
            await perturb(
              gpu,
              plan,
              incremental,
              algorithm.candidates[s]!,
              -lr * (pool[s]! - previous[s]!),
            );
          }
          previous = pool;
          const global = await w.read();
          const stepwise = await incremental.read();
          assert.ok(
            maxAbsDiff(global, stepwise) < 1e-5,
            `round ${r}: ${maxAbsDiff(global, stepwise)}`,
          );
          // And against the replay kernel's plain TypeScript reference.
          const reference = replayReference(
            w0,
            algorithm.candidates,
            Array.from(pool, (p) => -lr * p),
          );
          assert.ok(maxAbsDiff(global, reference) < 1e-5, `round ${r}: vs reference`);
          // The rebuild generated only the directions of the non-zero pool entries, and gives
          // bit for bit what all K give (a zero coefficient adds ±0).
          const live = pool.filter((p) => p !== 0).length;
          assert.equal(record.extra["seeds"], live);
          if (live < K) skipped++;
          const all = w.like();
          all.write(w0);
          const keys = gpu.upload(seedKeys(algorithm.candidates));
          const coefficients = gpu.upload(Float32Array.from(pool, (p) => -lr * p));
          await replaySeeds(all, keys, coefficients, K);
          assert.deepEqual(await all.read(), global, `round ${r}: the replay over all K`);
          for (const b of [keys, coefficients]) b.destroy();
          all.destroy();
          // Ledger: K scalars down and K up per client (the paper's 2K).
          assert.equal(record.perClient, 2 * K);
          assert.equal(
            record.perClient,
            paperCommunication("fedkseed", { parameters: w.length, K }),
          );
        });
        assert.deepEqual(result.records.map((r) => r.round), [1, 2, 3], "every round checked");
        assert.ok(skipped > 0, "some round's rebuild skipped candidates never drawn");
        // The pool is the weighted sum of every round's client accumulators (it never decays).
        assert.ok(previous.some((p) => p !== 0));
        assert.equal(result.ledger.totals().up, 3 * 2 * K);
        plan.destroy();
        incremental.destroy();
        algorithm.destroy();
      },
    );

    await t.step(
      "the incremental server update equals the replay of its pool from w₀",
      async () => {
        const { model, algorithm, simulation } = await run("uniform", 7, "incremental");
        const w0 = await model.params.vector.read();
        const result = await simulation(3, async (record) => {
          const got = await model.params.vector.read();
          const coefficients = Array.from(algorithm.pool, (p) => -lr * p);
          const want = replayReference(w0, algorithm.candidates, coefficients);
          assert.ok(
            maxAbsDiff(got, want) < 1e-5,
            `round ${record.round}: ${maxAbsDiff(got, want)}`,
          );
        });
        assert.equal(result.records.length, 3);
        algorithm.destroy();
      },
    );

    await t.step("FedKSeed-Pro's probabilities and draws match a hand computation", async () => {
      const { algorithm, simulation } = await run("pro");
      assert.equal(algorithm.name, "FedKSeed-Pro");
      let want: number[] = [];
      const checked: number[] = [];
      await simulation(2, (record) => {
        // One record per sampled client, in sampling order.
        assert.deepEqual(algorithm.lastRound.map((c) => c.client), record.clients);
        if (record.round === 1) {
          // Round 1 sampled uniformly: every history was [0].
          const histories: number[][] = Array.from({ length: K }, () => [0]);
          for (const client of algorithm.lastRound) {
            client.seedIndices.forEach((s, t) => {
              if (!client.skipped[t]) histories[s]!.push(client.g[t]!);
            });
          }
          want = handProbabilities(histories, 0.5);
          const got = algorithm.probabilities();
          assert.ok(maxAbsDiff(got, want) < 1e-12, `probabilities ${got} vs ${want}`);
          assert.ok(
            Math.max(...want) / Math.min(...want) <= Math.E + 1e-9,
            "softmax of [0, 1]: ≤ e",
          );
        } else {
          for (const client of algorithm.lastRound) {
            const stream = new RandomStream(
              runSeed,
              streamName(2, `client=${client.client}/seeds`),
            );
            const draws = client.seedIndices.map(() => {
              const u = stream.uniform();
              let acc = 0;
              for (let i = 0; i < K; i++) {
                acc += want[i]!;
                if (u * want.reduce((a, b) => a + b, 0) < acc) return i;
              }
              return K - 1;
            });
            assert.deepEqual(
              client.seedIndices,
              draws,
              `client ${client.client}: inverse-CDF draws`,
            );
          }
        }
        checked.push(record.round);
      });
      assert.deepEqual(checked, [1, 2]);
      algorithm.destroy();
    });

    await t.step(
      "without a seed option the candidates are K draws of the run's stream fl/run/fedkseed/candidates",
      async () => {
        const model = await makeModel(6);
        const drawn: number[][] = [];
        for (const seed of [3, 4]) {
          const algorithm = fedKSeed({ K, steps: 2, lr });
          assert.equal(algorithm.options.seed, null);
          await simulate({ model, algorithm, clients, rounds: 1, seed });
          const stream = new RandomStream(seed, "fl/run/fedkseed/candidates");
          const want = Array.from(
            { length: K },
            () => 1 + Math.floor(stream.uniform() * (1e11 - 1)),
          );
          assert.deepEqual([...algorithm.candidates], want, `run seed ${seed}`);
          drawn.push([...algorithm.candidates]);
          algorithm.destroy();
        }
        assert.notDeepEqual(drawn[0], drawn[1], "another run seed draws other candidates");
      },
    );

    await t.step("seedProbabilities: softmax of min–max normalised means", () => {
      const p = seedProbabilities([0, 0.25, 0.5]);
      const e = [1, Math.exp(0.5), Math.E];
      const sum = e[0]! + e[1]! + e[2]!;
      assert.ok(maxAbsDiff(p, e.map((v) => v / sum)) < 1e-9);
      assert.deepEqual(Array.from(seedProbabilities([0.3, 0.3])), [0.5, 0.5]);
      assert.throws(() => seedProbabilities([]), RangeError);
    });

    await t.step("the same run twice gives identical parameters; state round-trips", async () => {
      const a = await run("pro", 8);
      const b = await run("pro", 8);
      await a.simulation(2);
      await b.simulation(2);
      assert.deepEqual(await a.model.params.vector.read(), await b.model.params.vector.read());
      const saved = await a.algorithm.saveState();
      const c = fedKSeed({ ...settings, sampling: "pro" });
      // Set up as the simulator does (run streams of the run seed), then loaded.
      await c.setup(b.model, { stream: (name) => new RandomStream(runSeed, `fl/run/${name}`) });
      await c.loadState(saved);
      assert.deepEqual(c.pool, a.algorithm.pool);
      assert.deepEqual(c.candidates, a.algorithm.candidates);
      assert.deepEqual(c.probabilities(), a.algorithm.probabilities());
      for (const x of [a.algorithm, b.algorithm, c]) x.destroy();
    });

    await t.step("options are validated", () => {
      assert.throws(() => fedKSeed({ K: 0 }), RangeError);
      assert.throws(() => fedKSeed({ eps: 0 }), RangeError);
      assert.throws(() => fedKSeed({ sampling: "biased" as "pro" }), TypeError);
      const algorithm = fedKSeed();
      assert.equal(algorithm.options.K, 4096);
      assert.equal(algorithm.options.lr, 3e-7);
      assert.equal(algorithm.options.eps, 5e-4);
      assert.equal(algorithm.options.steps, 200);
    });
  } finally {
    gpu.destroy();
  }
});
