import assert from "node:assert/strict";
import { Gpu } from "../../src/gpu/gpu.ts";
import { PRESETS } from "../../src/model/presets.ts";
import { generate } from "../../src/model/generate.ts";
import { Transformer } from "../../src/model/transformer.ts";
import { RandomStream } from "../../src/random/stream.ts";
import { randomSequence, scaledParameters } from "./_fixtures.ts";
import { referenceLogits, referenceLoss } from "./_reference_model.ts";

const config = PRESETS.ci;

/** Parameters scaled up from HF's 0.02 init so every path carries a visible gradient. */
async function testModel(gpu: Gpu, maxTokens = 16, chunkElements?: number) {
  const probe = await Transformer.create(gpu, config, { maxTokens, seed: 3 });
  const theta = scaledParameters(probe.params.layout);
  return Transformer.create(gpu, config, {
    maxTokens,
    parameters: theta,
    ...(chunkElements ? { chunkElements } : {}),
  });
}

Deno.test("model: loss matches the double-precision reference", async (t) => {
  const gpu = await Gpu.create();
  try {
    const model = await testModel(gpu);
    const theta = Float64Array.from(await model.params.vector.read());
    const stream = new RandomStream(1, "tests/model/sequences");
    await t.step("single sequences of awkward lengths", async () => {
      for (const T of [1, 3, 16]) {
        const sequence = randomSequence(stream, T, config.vocabSize);
        if (T === 1) sequence.targets[0] = 7;
        const got = await model.loss([sequence]);
        const want = referenceLoss(config, model.params.layout, theta, sequence);
        assert.ok(Math.abs(got - want) < 2e-4 * Math.abs(want), `T=${T}: ${got} vs ${want}`);
      }
    });
    await t.step("packed rows keep attention inside each example", async () => {
      const sequence = {
        ...randomSequence(stream, 10, config.vocabSize),
        positions: new Int32Array([0, 1, 2, 3, 0, 1, 2, 0, 1, 2]),
        segments: new Int32Array([0, 0, 0, 0, 1, 1, 1, 2, 2, 2]),
      };
      const got = await model.loss([sequence]);
      const want = referenceLoss(config, model.params.layout, theta, sequence);
      assert.ok(Math.abs(got - want) < 2e-4 * Math.abs(want), `${got} vs ${want}`);
    });
    await t.step("a chunked parameter vector computes the same loss", async () => {
      const chunked = await Transformer.create(gpu, config, {
        maxTokens: 16,
        chunkElements: 8320, // the embedding (8288) is the largest tensor
      });
      // The chunked layout has other offsets: copy tensor by tensor.
      const flat = await model.params.vector.read();
      const moved = new Float32Array(chunked.params.layout.length);
      for (const slot of model.params.layout.tensors) {
        const target = chunked.params.layout.slot(slot.name);
        moved.set(flat.subarray(slot.offset, slot.offset + slot.numel), target.offset);
      }
      chunked.params.vector.write(moved);
      assert.ok(chunked.params.vector.chunks.length > 1);
      const sequence = randomSequence(stream, 9, config.vocabSize);
      assert.equal(await chunked.loss([sequence]), await model.loss([sequence]));
    });
    await t.step("bad input is refused", async () => {
      await assert.rejects(
        () => model.loss([randomSequence(stream, 17, config.vocabSize)]),
        RangeError,
      );
      const bad = randomSequence(stream, 4, config.vocabSize);
      bad.tokens[1] = 259;
      await assert.rejects(() => model.loss([bad]), RangeError);
    });
  } finally {
    gpu.destroy();
  }
});

Deno.test("model: every parameter tensor's gradient matches central finite differences", async () => {
  const gpu = await Gpu.create();
  try {
    const model = await testModel(gpu);
    const stream = new RandomStream(2, "tests/model/gradcheck");
    const batch = [randomSequence(stream, 7, config.vocabSize), {
      ...randomSequence(stream, 9, config.vocabSize),
      positions: new Int32Array([0, 1, 2, 3, 0, 1, 2, 3, 4]),
      segments: new Int32Array([0, 0, 0, 0, 1, 1, 1, 1, 1]),
    }];
    await model.lossAndGrad(batch);
    const grads = await model.grads.vector.read();
    const theta = Float64Array.from(await model.params.vector.read());
    const layout = model.params.layout;
    const loss = (th: Float64Array) =>
      batch.reduce((sum, s) => sum + referenceLoss(config, layout, th, s), 0) / batch.length;
    const h = 1e-5;
    const failures: string[] = [];
    for (const slot of layout.tensors) {
      const g = grads.subarray(slot.offset, slot.offset + slot.numel);
      let largest = 0;
      for (let i = 1; i < g.length; i++) if (Math.abs(g[i]!) > Math.abs(g[largest]!)) largest = i;
      const scale = Math.abs(g[largest]!);
      assert.ok(scale > 1e-6, `${slot.name}: zero gradient`);
      for (const i of [largest, stream.int(slot.numel), stream.int(slot.numel)]) {
        const j = slot.offset + i;
        const saved = theta[j]!;
        theta[j] = saved + h;
        const up = loss(theta);
        theta[j] = saved - h;
        const down = loss(theta);
        theta[j] = saved;
        const numeric = (up - down) / (2 * h);
        // f32 GPU arithmetic against an f64 derivative: 1e-3 of the tensor's largest entry.
        if (Math.abs(g[i]! - numeric) > 1e-3 * scale + 1e-6) {
          failures.push(`${slot.name}[${i}]: ${g[i]} vs ${numeric}`);
        }
      }
    }
    assert.deepEqual(failures, []);
  } finally {
    gpu.destroy();
  }
});

Deno.test("generation with the KV cache equals greedy decoding by full passes", async () => {
  const gpu = await Gpu.create();
  try {
    const model = await testModel(gpu, 24);
    const theta = Float64Array.from(await model.params.vector.read());
    const prompt = [256, 10, 20, 30];
    const got = await generate(model, prompt, { maxNewTokens: 6, checkEvery: 4 });
    const want: number[] = [];
    const ids = [...prompt];
    for (let i = 0; i < 6; i++) {
      const T = ids.length;
      const sequence = { tokens: Int32Array.from(ids), targets: new Int32Array(T).fill(-100) };
      const logits = referenceLogits(config, model.params.layout, theta, sequence).subarray(
        (T - 1) * config.vocabSize,
      );
      let best = 0;
      for (let c = 1; c < config.vocabSize; c++) if (logits[c]! > logits[best]!) best = c;
      want.push(best);
      ids.push(best);
    }
    assert.deepEqual(got, want);
    const stopped = await generate(model, prompt, { maxNewTokens: 6, eos: want[2]! });
    assert.deepEqual(stopped, want.slice(0, want.indexOf(want[2]!)));
  } finally {
    gpu.destroy();
  }
});

Deno.test("losses of sequences sharing passes equal one pass per sequence, bit for bit", async () => {
  const gpu = await Gpu.create();
  try {
    const model = await Transformer.create(gpu, PRESETS.ci, { maxTokens: 40, seed: 2 });
    const stream = new RandomStream(8, "tests/model/losses-packed");
    // Lengths 5 … 24: two or three sequences share a row of 40 tokens, some need one alone.
    const sequences = Array.from(
      { length: 9 },
      () => randomSequence(stream, 5 + stream.int(20), PRESETS.ci.vocabSize),
    );
    const together = await model.losses(sequences);
    const alone: number[] = [];
    for (const sequence of sequences) alone.push(...await model.losses([sequence]));
    assert.deepEqual(together, alone);
    assert.ok(together.every(Number.isFinite));
    model.destroy();
  } finally {
    gpu.destroy();
  }
});
