import assert from "node:assert/strict";
import { generate, Gpu, PRESETS, Transformer } from "../../mod.ts";
import type { TransformerOptions } from "../../engine.ts";

const sequence = {
  tokens: new Int32Array([256, 72, 105]),
  targets: new Int32Array([72, 105, 257]),
};

/** Bytes still allocated after a model with `options` trained a step, generated and was destroyed. */
async function leftOver(gpu: Gpu, options: TransformerOptions): Promise<number> {
  const before = gpu.liveBytes;
  const model = await Transformer.create(gpu, PRESETS.ci, { maxTokens: 8, ...options });
  await model.lossAndGrad([sequence]);
  await generate(model, [256, 72], { maxNewTokens: 2 });
  assert.ok(gpu.liveBytes > before);
  model.destroy();
  return gpu.liveBytes - before;
}

Deno.test("Transformer.destroy frees the model, its gradients, adapter and KV cache", async () => {
  const gpu = await Gpu.create();
  const variants: TransformerOptions[] = [
    {},
    { adapter: { kind: "lora", rank: 2 } },
    { adapter: { kind: "prompt", tokens: 2 } },
    { adapter: { kind: "prefix", tokens: 2 } },
  ];
  // The first pass of each kind allocates the context's own shared scratch once.
  for (const options of variants) await leftOver(gpu, options);
  for (const options of variants) {
    assert.equal(await leftOver(gpu, options), 0, JSON.stringify(options));
  }
  gpu.destroy();
});
