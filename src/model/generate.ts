/**
 * Greedy generation with a KV cache (the paper's evaluation: `num_beams=1`,
 * `max_new_tokens`, paper.md §5.1), for many prompts at once.
 *
 * Each prompt runs as one forward pass that fills the model's cache, which
 * is then copied into the prompt's own region of a batched cache. Every
 * decoding step is then one pass over all sequences together, one token
 * each (kernels `kv_scatter` and `attention_decode`, src/model/ops/decode.ts),
 * so a step costs one set of dispatches however many prompts there are.
 * The greedy choices are made on the GPU (kernel `argmax`, one workgroup per
 * sequence) and copied to where the next pass reads its input, so nothing is
 * read back per token; with an EOS id, the tokens are read back every
 * `checkEvery` steps to stop once every sequence has ended. Sequences are
 * independent rows of every kernel, so a prompt generates the same tokens in
 * a batch as alone.
 *
 * An attached adapter acts as in training: LoRA inside the projections, a
 * soft prompt as n virtual rows before the prompt (they stay in the cache),
 * a P-tuning prefix as n rows written at the head of every layer's cache.
 *
 * @module
 */

import * as kernels from "../../kernels/mod.ts";
import { headDim } from "./config.ts";
import { kvScatter } from "./ops/decode.ts";
import { forward, type KvCache, type RowCache } from "./passes.ts";
import type { Transformer } from "./transformer.ts";

/** Options of {@linkcode generate}. */
export interface GenerateOptions {
  /** Most tokens to generate (the paper: 128). */
  maxNewTokens: number;
  /** Stop after this id (not included in the result). */
  eos?: number;
  /** Tokens generated between EOS checks (each check is one readback). Default 16. */
  checkEvery?: number;
  /**
   * Most device memory the batched KV cache may take (default 512 MiB):
   * prompts are generated in groups that fit it (at least one at a time).
   */
  cacheBytes?: number;
}

/** Default of {@linkcode GenerateOptions.checkEvery}. */
const CHECK_EVERY = 16;

/**
 * Default of {@linkcode GenerateOptions.cacheBytes}: 512 MiB.
 *
 * @example
 * ```ts
 * import { GENERATION_CACHE_BYTES } from "./generate.ts";
 * console.log(GENERATION_CACHE_BYTES / 2 ** 20); // 512
 * ```
 */
export const GENERATION_CACHE_BYTES = 512 * 2 ** 20;

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
  return (await generateBatch(model, [prompt], options))[0]!;
}

/**
 * Greedily continues every prompt and returns each one's new ids (without
 * the EOS that ended them), the same as {@linkcode generate} on each prompt
 * alone. Prompts are decoded together, as many per group as the model's
 * `maxTokens` rows and `cacheBytes` allow.
 *
 * @example
 * ```ts
 * import { generate, generateBatch } from "./generate.ts";
 * import { Gpu } from "../gpu/gpu.ts";
 * import { PRESETS } from "./presets.ts";
 * import { Transformer } from "./transformer.ts";
 * const gpu = await Gpu.create();
 * const model = await Transformer.create(gpu, PRESETS.ci, { maxTokens: 16 });
 * const prompts = [[256, 72], [256, 105, 33, 10]];
 * const together = await generateBatch(model, prompts, { maxNewTokens: 4 });
 * const alone = [await generate(model, prompts[0]!, { maxNewTokens: 4 })];
 * console.log(together[0]!.join() === alone[0]!.join()); // true
 * gpu.destroy();
 * ```
 */
export async function generateBatch(
  model: Transformer,
  prompts: readonly (readonly number[])[],
  options: GenerateOptions,
): Promise<number[][]> {
  const { maxNewTokens } = options;
  if (!Number.isInteger(maxNewTokens) || maxNewTokens < 0) {
    throw new RangeError(`Cannot generate ${maxNewTokens} tokens`);
  }
  const checkEvery = options.checkEvery ?? CHECK_EVERY;
  if (!Number.isInteger(checkEvery) || checkEvery < 1) {
    throw new RangeError(`Cannot check for EOS every ${checkEvery} tokens`);
  }
  for (const prompt of prompts) {
    if (prompt.length === 0) throw new RangeError("Cannot generate from an empty prompt");
    if (prompt.length > model.maxTokens) {
      throw new RangeError(
        `Cannot generate from a ${prompt.length}-token prompt: at most ${model.maxTokens}`,
      );
    }
  }
  const width = groupWidth(model, options.cacheBytes ?? GENERATION_CACHE_BYTES);
  const results: number[][] = [];
  for (let i = 0; i < prompts.length; i += width) {
    results.push(...await generateGroup(model, prompts.slice(i, i + width), options));
  }
  return results;
}

/** Bytes of one sequence's region of the batched cache: K and V of every layer. */
function sequenceCacheBytes(model: Transformer): number {
  const { config } = model;
  return 2 * config.numLayers * config.maxPositions * config.numKvHeads * headDim(config) * 4;
}

/** Sequences decoded together: within the model's rows, the cache budget and one binding. */
function groupWidth(model: Transformer, cacheBytes: number): number {
  if (!(cacheBytes > 0)) throw new RangeError(`Cannot generate with a ${cacheBytes}-byte cache`);
  const perSequence = sequenceCacheBytes(model);
  const layerBytes = perSequence / (2 * model.config.numLayers);
  const { maxStorageBufferBindingSize, maxBufferSize } = model.gpu.info;
  const binding = Math.min(maxStorageBufferBindingSize, maxBufferSize);
  return Math.max(
    1,
    Math.min(
      model.maxTokens,
      Math.floor(cacheBytes / perSequence),
      Math.floor(binding / layerBytes),
    ),
  );
}

/** Buffers of one group's generation. */
interface Group {
  readonly model: Transformer;
  /** Sequences in the group. */
  readonly B: number;
  /** Tokens chosen, step-major [steps, B]. */
  readonly generated: GPUBuffer;
  /** The sequences' caches: the model's own for one sequence, a region each for more. */
  readonly rows: RowCache;
  /** Cache rows before the prompt's: a prefix's. */
  readonly lead: number;
}

/** Generates for up to {@linkcode groupWidth} prompts together. */
async function generateGroup(
  model: Transformer,
  prompts: readonly (readonly number[])[],
  options: GenerateOptions,
): Promise<number[][]> {
  const { gpu, config, activations: a } = model;
  const B = prompts.length;
  const P = config.maxPositions;
  const adapter = model.adapter;
  const lead = adapter?.kind === "prefix" ? adapter.length : 0;
  const single = model.kvCache;
  const regionBytes = regionBytesOf(model);
  const owned = B === 1 ? null : {
    k: single.k.map((_, l) => gpu.buffer(B * regionBytes, `generate.k${l}`)),
    v: single.v.map((_, l) => gpu.buffer(B * regionBytes, `generate.v${l}`)),
  };
  const group: Group = {
    model,
    B,
    generated: gpu.buffer(Math.max(1, Math.min(options.maxNewTokens, P)) * B * 4, "generated"),
    rows: { ...(owned ?? single), P },
    lead,
  };
  const first = gpu.buffer(B * 4, "generate.first");
  let everyone: Picks | null = null;
  try {
    // Uploaded rows per prompt (a soft prompt's included) and the tokens each may add.
    const uploaded = prompts.map((prompt) =>
      prompt.length + (adapter?.kind === "prompt" ? adapter.length : 0)
    );
    const budgets = uploaded.map((n) => Math.max(0, Math.min(options.maxNewTokens, P - lead - n)));
    const steps = Math.max(...budgets);
    if (steps === 0) return prompts.map(() => []);
    const live = prompts.map((_, b) => b).filter((b) => budgets[b]! > 0);
    if (adapter?.kind === "prompt" || adapter?.kind === "prefix") {
      await promptsOneByOne(group, prompts, live, first);
    } else {
      await promptsPacked(group, prompts, live, first);
    }
    // Decoding step t reads the tokens chosen at step t − 1, sequence b at position starts[b] + t.
    gpu.copy(first, 0, a.ids, 0, B * 4);
    gpu.write(a.positions, Int32Array.from(uploaded, (n) => lead + n - 1));
    everyone = picks(group, prompts.map((_, b) => [b, b] as const));
    let done = 1;
    for (;;) {
      const target = options.eos === undefined
        ? steps
        : Math.min(steps, done + (options.checkEvery ?? CHECK_EVERY));
      for (; done < target; done++) {
        await forward(model.context, model.params.views, B, { rows: group.rows, past: done });
        await pick(group, everyone, done, a.ids);
      }
      const ids = new Int32Array(await gpu.read(group.generated, 0, done * B * 4));
      const outputs = budgets.map((budget, b) =>
        sequenceOf(ids, B, b, Math.min(budget, done), options.eos)
      );
      const ended = outputs.every((out, b) =>
        out.length < Math.min(budgets[b]!, done) || done >= budgets[b]!
      );
      if (done >= steps || ended) return outputs;
    }
  } finally {
    everyone?.buffer.destroy();
    first.destroy();
    group.generated.destroy();
    for (const buffer of [...(owned?.k ?? []), ...(owned?.v ?? [])]) buffer.destroy();
  }
}

/** Bytes of one layer's K (or V) cache of one sequence: [P, Ckv] f32. */
function regionBytesOf(model: Transformer): number {
  return sequenceCacheBytes(model) / (2 * model.config.numLayers);
}

/** Sequence b's tokens among the first `count` steps of `ids` ([steps, B]), up to its EOS. */
function sequenceOf(ids: Int32Array, B: number, b: number, count: number, eos?: number): number[] {
  const out: number[] = [];
  for (let t = 0; t < count; t++) {
    const id = ids[t * B + b]!;
    if (id === eos) break;
    out.push(id);
  }
  return out;
}

/** (Logits row, sequence column) pairs on the GPU, for {@linkcode pick}. */
interface Picks {
  readonly buffer: GPUBuffer;
  readonly count: number;
}

/** Uploads (logits row, sequence column) pairs for {@linkcode pick}. */
function picks(group: Group, pairs: readonly (readonly [row: number, column: number])[]): Picks {
  const buffer = group.model.gpu.upload(Uint32Array.from(pairs.flat()), "generate.picks");
  return { buffer, count: pairs.length };
}

/**
 * Records the greedy choices at `step` of the pairs `chosen`, also written
 * to `next`, the next pass's inputs.
 */
function pick(group: Group, chosen: Picks, step: number, next: GPUBuffer): Promise<void> {
  const { gpu, config, activations: a } = group.model;
  return gpu.dispatch({
    kernel: kernels.argmax,
    constants: { WG: 64 },
    // Bound to its exact length: the kernel takes the pair count from it.
    storage: [group.generated, next, a.logits, { buffer: chosen.buffer, size: chosen.count * 8 }],
    uniform: new Uint32Array([config.vocabSize, group.B, step, 0]),
    workgroups: chosen.count,
  });
}

/** {@linkcode pick} at step 0 of a one-off list of pairs. */
async function pickOnce(
  group: Group,
  pairs: readonly (readonly [row: number, column: number])[],
  next: GPUBuffer,
): Promise<void> {
  const chosen = picks(group, pairs);
  await pick(group, chosen, 0, next);
  chosen.buffer.destroy(); // freed once the batch that uses it is submitted
}

/** Copies `rows` cache rows per layer from row `from` of `source` to row `to` of sequence b's region. */
function toRegion(
  group: Group,
  b: number,
  source: RowCache | KvCache,
  rows: { from: number; to: number; count: number },
): void {
  const { gpu, config } = group.model;
  const target = group.rows;
  if (source.k === target.k) return; // one sequence decoding in the model's cache: in place
  const row = regionBytesOf(group.model) / config.maxPositions;
  const to = (b * config.maxPositions + rows.to) * row;
  for (let l = 0; l < config.numLayers; l++) {
    gpu.copy(source.k[l]!, rows.from * row, target.k[l]!, to, rows.count * row);
    gpu.copy(source.v[l]!, rows.from * row, target.v[l]!, to, rows.count * row);
  }
}

/**
 * Prompts with a soft prompt or a prefix, one pass each through the model's
 * own cache (where a prefix's rows wait at the head), then copied to their regions.
 */
async function promptsOneByOne(
  group: Group,
  prompts: readonly (readonly number[])[],
  live: readonly number[],
  first: GPUBuffer,
): Promise<void> {
  const { model, lead } = group;
  const single = model.kvCache;
  if (model.adapter?.kind === "prefix") {
    model.adapter.writeCache(single);
    for (const b of live) toRegion(group, b, single, { from: 0, to: 0, count: lead });
  }
  for (const b of live) {
    const n = model.upload({
      tokens: Int32Array.from(prompts[b]!),
      targets: new Int32Array(prompts[b]!.length).fill(-100),
    });
    await forward(model.context, model.params.views, n, { cache: single, past: lead });
    await pickOnce(group, [[n - 1, b]], first);
    toRegion(group, b, single, { from: lead, to: lead, count: n });
  }
}

/**
 * Prompts without a soft prompt or prefix, packed into as few passes as the
 * model's rows allow (each prompt attending only to itself); each prompt's
 * keys and values (after RoPE) are copied from the pass to its region.
 */
async function promptsPacked(
  group: Group,
  prompts: readonly (readonly number[])[],
  live: readonly number[],
  first: GPUBuffer,
): Promise<void> {
  const { model } = group;
  const { gpu, config, activations: a } = model;
  for (let i = 0; i < live.length;) {
    const pack: number[] = [];
    let T = 0;
    while (i < live.length && T + prompts[live[i]!]!.length <= model.maxTokens) {
      pack.push(live[i]!);
      T += prompts[live[i++]!]!.length;
    }
    const tokens = new Int32Array(T), positions = new Int32Array(T), segments = new Int32Array(T);
    let at = 0;
    for (const [j, b] of pack.entries()) {
      const prompt = prompts[b]!;
      tokens.set(prompt, at);
      for (let t = 0; t < prompt.length; t++) {
        positions[at + t] = t;
        segments[at + t] = j;
      }
      at += prompt.length;
    }
    model.upload({ tokens, targets: new Int32Array(T).fill(-100), positions, segments });
    await forward(model.context, model.params.views, T);
    // Each prompt's first token, and its keys and values to rows 0 … n − 1 of its region.
    const ends: [number, number][] = [];
    const rows = new Uint32Array(T);
    at = 0;
    for (const b of pack) {
      const n = prompts[b]!.length;
      ends.push([at + n - 1, b]);
      for (let t = 0; t < n; t++) rows[at + t] = b * config.maxPositions + t;
      at += n;
    }
    await pickOnce(group, ends, first);
    const target = gpu.upload(rows, "generate.rows");
    for (let l = 0; l < config.numLayers; l++) {
      const L = a.layers[l]!;
      await kvScatter(gpu, {
        cacheK: group.rows.k[l]!,
        cacheV: group.rows.v[l]!,
        k: L.k,
        v: L.v,
        rows: target,
      }, { R: T, Ckv: config.numKvHeads * headDim(config) });
    }
    target.destroy(); // freed once the batch that uses it is submitted
  }
}
