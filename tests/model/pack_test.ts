import assert from "node:assert/strict";
import { Gpu } from "../../src/gpu/gpu.ts";
import type { AdapterOptions } from "../../src/model/peft/adapter.ts";
import { packSequences } from "../../src/model/pack.ts";
import { PRESETS } from "../../src/model/presets.ts";
import { type Sequence, Transformer } from "../../src/model/transformer.ts";
import { RandomStream } from "../../src/random/stream.ts";
import { maxAbs, maxAbsDiff } from "../fl/_fixtures.ts";
import { randomSequence, scaledParameters } from "./_fixtures.ts";

const config = PRESETS.ci;

Deno.test("packSequences fills rows in order and weights each sequence's tokens by 1 / its count", () => {
  const s = (n: number, masked = 0): Sequence => ({
    tokens: new Int32Array(n),
    targets: Int32Array.from({ length: n }, (_, t) => (t < masked ? -100 : 1)),
  });
  const packed: Sequence = { ...s(4), positions: new Int32Array(4) };
  const rows = packSequences([s(5, 2), s(3), s(9), packed, s(1), s(2)], 10);
  assert.deepEqual(rows.map((r) => r.members.map((m) => m.index)), [[0, 1], [2], [3], [4, 5]]);
  assert.deepEqual(rows[0]!.members.map((m) => m.first), [0, 5]);
  // Sequence 0 has 3 counted tokens, sequence 1 has 3: 1/3 each where counted.
  assert.deepEqual(
    Array.from(rows[0]!.weights!),
    [0, 0, 1 / 3, 1 / 3, 1 / 3, 1 / 3, 1 / 3, 1 / 3].map(Math.fround),
  );
  assert.deepEqual(Array.from(rows[0]!.sequence.positions!), [0, 1, 2, 3, 4, 0, 1, 2]);
  assert.deepEqual(Array.from(rows[0]!.sequence.segments!), [0, 0, 0, 0, 0, 1, 1, 1]);
  // One sequence alone is passed through as given, unweighted.
  assert.equal(rows[1]!.weights, null);
  assert.equal(rows[2]!.sequence, packed);
  assert.throws(() => packSequences([s(2)], 0), /rows of 0 tokens/);
});

async function gradients(adapter: AdapterOptions | undefined, pack: boolean) {
  const gpu = await Gpu.create();
  const probe = await Transformer.create(gpu, config, { maxTokens: 4 });
  const model = await Transformer.create(gpu, config, {
    maxTokens: 40,
    parameters: scaledParameters(probe.params.layout),
    ...(adapter ? { adapter } : {}),
  });
  const stream = new RandomStream(4, "tests/model/pack");
  // Rows of 40 tokens: [7, 13, 19], [25], [3, 11]; one sequence all masked.
  const sequences = [7, 13, 19, 25, 3, 11].map((T) => randomSequence(stream, T, config.vocabSize));
  sequences[4] = { ...sequences[4]!, targets: new Int32Array(3).fill(-100) };
  await model.recordLossAndGrad(sequences, 2, { pack });
  const losses = await model.readStepLosses(2 + sequences.length);
  const grads = await model.trainable.grads.vector.read();
  gpu.destroy();
  return { losses: losses.slice(2), grads };
}

for (
  const adapter of [undefined, {
    kind: "lora",
    rank: 2,
    alpha: 4,
    targets: ["q", "v"],
    seed: 1,
  }] as const
) {
  Deno.test(`packed passes give the one-sequence-per-pass gradient and losses (${adapter?.kind ?? "full"})`, async () => {
    const one = await gradients(adapter, false);
    const packed = await gradients(adapter, true);
    // The same sums in another order: f32 agreement relative to the gradient's scale.
    const scale = maxAbs(one.grads);
    assert.ok(scale > 0);
    const error = maxAbsDiff(packed.grads, one.grads);
    assert.ok(error <= 1e-5 * scale, `gradient difference ${error} (largest entry ${scale})`);
    assert.equal(packed.losses[4], 0); // the all-masked sequence
    for (const [i, loss] of one.losses.entries()) {
      assert.ok(
        Math.abs(packed.losses[i]! - loss) <= 1e-5 * Math.abs(loss),
        `loss ${i}: ${packed.losses[i]} vs ${loss}`,
      );
    }
  });
}
