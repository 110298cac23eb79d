import assert from "node:assert/strict";
import { Gpu } from "../../src/gpu/gpu.ts";
import { generate, generateBatch } from "../../src/model/generate.ts";
import type { AdapterOptions } from "../../src/model/peft/adapter.ts";
import { headDim } from "../../src/model/config.ts";
import { PRESETS } from "../../src/model/presets.ts";
import { Transformer } from "../../src/model/transformer.ts";
import { RandomStream } from "../../src/random/stream.ts";
import { scaledParameters } from "./_fixtures.ts";

const config = PRESETS.ci; // 64 positions

async function testModel(gpu: Gpu, maxTokens: number, adapter?: AdapterOptions) {
  const probe = await Transformer.create(gpu, config, { maxTokens: 4 });
  const parameters = scaledParameters(probe.params.layout);
  const model = await Transformer.create(gpu, config, {
    maxTokens,
    parameters,
    ...(adapter ? { adapter } : {}),
  });
  if (model.adapter) {
    // Non-zero adapter values, so every adapter changes the logits.
    const stream = new RandomStream(8, "tests/model/generate/adapter");
    const flat = new Float32Array(model.adapter.params.layout.length);
    for (let i = 0; i < flat.length; i++) flat[i] = 0.4 * stream.normal();
    model.adapter.params.vector.write(flat);
  }
  return model;
}

function prompts(lengths: readonly number[]): number[][] {
  const stream = new RandomStream(2, "tests/model/generate/prompts");
  return lengths.map((n) => [256, ...Array.from({ length: n - 1 }, () => stream.int(256))]);
}

async function oneByOne(
  model: Transformer,
  all: number[][],
  options: Parameters<typeof generate>[2],
) {
  const out: number[][] = [];
  for (const prompt of all) out.push(await generate(model, prompt, options));
  return out;
}

Deno.test("batched generation equals one prompt at a time", async (t) => {
  const gpu = await Gpu.create();
  try {
    const model = await testModel(gpu, 64);
    // Budgets min(8, 64 − length): 4, 0 (a full prompt), 8, 8, 6.
    const all = prompts([60, 64, 3, 17, 58]);
    const alone = await oneByOne(model, all, { maxNewTokens: 8 });
    assert.deepEqual(alone.map((ids) => ids.length), [4, 0, 8, 8, 6]);

    await t.step("all prompts in one group, each with its own budget", async () => {
      assert.deepEqual(await generateBatch(model, all, { maxNewTokens: 8 }), alone);
    });
    await t.step("groups limited by the cache budget give the same tokens", async () => {
      const perSequence = 2 * config.numLayers * 64 * config.numKvHeads * headDim(config) * 4;
      const two = await generateBatch(model, all, { maxNewTokens: 8, cacheBytes: 2 * perSequence });
      assert.deepEqual(two, alone);
    });
    await t.step("EOS ends each sequence on its own, checked every few steps", async () => {
      // An id that some sequences produce mid-way and others never.
      const eos = alone[2]![3]!;
      const want = alone.map((ids) => ids.includes(eos) ? ids.slice(0, ids.indexOf(eos)) : ids);
      for (const checkEvery of [1, 3, 16]) {
        assert.deepEqual(
          await generateBatch(model, all, { maxNewTokens: 8, eos, checkEvery }),
          want,
        );
      }
    });
    await t.step("more prompts than the model's rows are split into groups", async () => {
      const small = await testModel(gpu, 4);
      const many = prompts([3, 4, 2, 4, 1, 3, 2]);
      const got = await generateBatch(small, many, { maxNewTokens: 5 });
      assert.deepEqual(got, await oneByOne(small, many, { maxNewTokens: 5 }));
      small.destroy();
    });
    await t.step("bad arguments are refused with a reason", async () => {
      await assert.rejects(
        () => generateBatch(model, [[256], []], { maxNewTokens: 2 }),
        /empty prompt/,
      );
      await assert.rejects(
        () => generateBatch(model, [[256]], { maxNewTokens: 2, checkEvery: 0 }),
        /EOS every 0/,
      );
      await assert.rejects(
        () => generateBatch(model, [[256]], { maxNewTokens: -1 }),
        /Cannot generate -1/,
      );
      assert.deepEqual(await generateBatch(model, [], { maxNewTokens: 2 }), []);
    });
    model.destroy();
  } finally {
    gpu.destroy();
  }
});

for (
  const adapter of [
    { kind: "lora", rank: 3, alpha: 6, targets: ["q", "k", "v", "o"], seed: 1 },
    { kind: "prompt", tokens: 3, seed: 1 },
    { kind: "prefix", tokens: 3, seed: 1 },
  ] as const satisfies readonly AdapterOptions[]
) {
  Deno.test(`batched generation with a ${adapter.kind} adapter equals one prompt at a time`, async () => {
    const gpu = await Gpu.create();
    try {
      const model = await testModel(gpu, 24, adapter);
      const all = prompts([5, 12, 2, 20]);
      const alone = await oneByOne(model, all, { maxNewTokens: 6 });
      assert.deepEqual(await generateBatch(model, all, { maxNewTokens: 6 }), alone);
      model.destroy();
    } finally {
      gpu.destroy();
    }
  });
}
