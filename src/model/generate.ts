/**
 * Greedy generation with a KV cache (the paper's evaluation: `num_beams=1`,
 * `max_new_tokens`, paper.md §5.1).
 *
 * The prompt runs as one forward pass that fills the cache; each new token
 * is then one single-token pass reading the cache. The greedy choice is made
 * on the GPU (kernel `argmax`) and written where the next pass reads its
 * input, so a whole block of tokens is generated without a readback; the
 * sequence is read back every `checkEvery` tokens to stop at EOS.
 *
 * An attached adapter acts as in training: LoRA inside the projections, a
 * soft prompt as n virtual rows before the prompt (they stay in the cache),
 * a P-tuning prefix as n rows written at the head of every layer's cache.
 *
 * @module
 */

import * as kernels from "../../kernels/mod.ts";
import { forward } from "./passes.ts";
import type { Transformer } from "./transformer.ts";

/** Options of {@linkcode generate}. */
export interface GenerateOptions {
  /** Most tokens to generate (the paper: 128). */
  maxNewTokens: number;
  /** Stop after this id (not included in the result). */
  eos?: number;
  /** Tokens generated between EOS checks (each check is one readback). Default 16. */
  checkEvery?: number;
}

/**
 * Index of the largest value (the lowest index among ties): the reference of kernel `argmax`.
 *
 * @example
 * ```ts
 * import { argmaxReference } from "./generate.ts";
 * console.log(argmaxReference([1, 5, 5, 2])); // 1 (ties go to the lowest index)
 * ```
 */
export function argmaxReference(values: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < values.length; i++) if (values[i]! > values[best]!) best = i;
  return best;
}

/**
 * Greedily continues `prompt` (token ids) and returns the new ids, without
 * the EOS that ended them. Prompt + output must fit the model's positions.
 *
 * @example
 * ```ts
 * import { generate } from "./generate.ts";
 * import { Gpu } from "../gpu/gpu.ts";
 * import { PRESETS } from "./presets.ts";
 * import { Transformer } from "./transformer.ts";
 * const gpu = await Gpu.create();
 * const model = await Transformer.create(gpu, PRESETS.ci, { maxTokens: 16 });
 * const ids = await generate(model, [256, 72], { maxNewTokens: 4 });
 * console.log(ids.length); // 4 (an untrained model rarely says EOS)
 * gpu.destroy();
 * ```
 */
export async function generate(
  model: Transformer,
  prompt: readonly number[],
  options: GenerateOptions,
): Promise<number[]> {
  const { gpu, config, activations: a } = model;
  const { maxNewTokens } = options;
  const checkEvery = options.checkEvery ?? 16;
  if (!Number.isInteger(maxNewTokens) || maxNewTokens < 0) {
    throw new RangeError(`Cannot generate ${maxNewTokens} tokens`);
  }
  if (prompt.length === 0) throw new RangeError("Cannot generate from an empty prompt");
  if (prompt.length > model.maxTokens) {
    throw new RangeError(
      `Cannot generate from a ${prompt.length}-token prompt: at most ${model.maxTokens}`,
    );
  }
  const adapter = model.adapter;
  // Cache rows before the uploaded ones: a prefix's.
  const lead = adapter?.kind === "prefix" ? adapter.length : 0;
  const rows = model.upload({
    tokens: Int32Array.from(prompt),
    targets: new Int32Array(prompt.length).fill(-100),
  });
  const budget = Math.min(maxNewTokens, config.maxPositions - lead - rows);
  if (budget <= 0) return [];
  const cache = model.kvCache;
  if (adapter?.kind === "prefix") adapter.writeCache(cache);
  const generated = gpu.buffer(budget * 4, "generated");
  try {
    return await generateInto(generated);
  } finally {
    generated.destroy();
  }

  async function generateInto(generated: GPUBuffer): Promise<number[]> {
    const pick = (row: number, step: number) =>
      gpu.dispatch({
        kernel: kernels.argmax,
        constants: { WG: 64 },
        storage: [a.ids, generated, a.logits],
        uniform: new Uint32Array([config.vocabSize, row, step, 0]),
        workgroups: 1,
      });
    await forward(model.context, model.params.views, rows, { cache, past: lead });
    await pick(rows - 1, 0);
    // Single-token passes read position 0 of `positions` plus the offset `past`.
    gpu.write(a.positions, new Int32Array([0]));
    let done = 1; // tokens generated so far: the prompt pass chose the first
    for (;;) {
      const target = Math.min(budget, done + checkEvery);
      for (; done < target; done++) {
        await forward(model.context, model.params.views, 1, {
          cache,
          past: lead + rows + done - 1,
        });
        await pick(0, done);
      }
      const ids = Array.from(new Int32Array(await gpu.read(generated, 0, done * 4)));
      const end = options.eos === undefined ? -1 : ids.indexOf(options.eos);
      if (end >= 0) return ids.slice(0, end);
      if (done >= budget) return ids;
    }
  }
}
