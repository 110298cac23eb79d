/**
 * The parameter layout: every tensor of the decoder, in Hugging Face
 * `named_parameters()` order with HF names and shapes, placed in one logical
 * flat f32 vector (DESIGN.md §3 "Parameters").
 *
 * Each tensor starts at a multiple of {@linkcode TENSOR_ALIGNMENT} elements
 * (256 bytes, the strictest `minStorageBufferOffsetAlignment`) and lies
 * inside one chunk of the {@linkcode GpuVector}, so a kernel binds any tensor
 * as one `{buffer, offset, size}` range. A tensor that would cross a chunk
 * boundary starts the next chunk instead. The gaps between tensors belong to
 * no tensor: kernels bind tensors with their exact sizes, and whole-vector
 * element-wise work may leave anything there. Gradients, optimizer state and
 * updates use the same layout (`vector.like()`).
 *
 * @module
 */

import { type ModelConfig, validateConfig } from "./config.ts";
import type { Gpu } from "../gpu/gpu.ts";
import { defaultChunkElements, GpuVector } from "../gpu/vector.ts";

/**
 * Every tensor starts at a multiple of this many elements (256 bytes).
 *
 * @example
 * ```ts
 * import { parameterLayout, TENSOR_ALIGNMENT } from "./layout.ts";
 * import { PRESETS } from "./presets.ts";
 * const layout = parameterLayout(PRESETS.ci);
 * console.log(layout.tensors.every((t) => t.offset % TENSOR_ALIGNMENT === 0)); // true
 * ```
 */
export const TENSOR_ALIGNMENT = 64;

/** What a tensor is, for initialisation and for rules that treat kinds differently. */
export type TensorKind = "embedding" | "linear" | "bias" | "norm";

/** One parameter tensor: HF name, shape (row-major, `[out, in]` for linears) and size. */
export interface TensorShape {
  /** The HF name, e.g. `model.layers.3.self_attn.q_proj.weight`. */
  readonly name: string;
  /** The shape as PyTorch stores it (`nn.Linear` weights are `[out_features, in_features]`). */
  readonly shape: readonly number[];
  /** Number of elements. */
  readonly numel: number;
  /** Token embedding, linear weight (incl. `lm_head`) or RMSNorm weight. */
  readonly kind: TensorKind;
  /** The decoder layer it belongs to, or `null` (embedding, final norm, LM head). */
  readonly layer: number | null;
}

/**
 * The model's tensors in HF `named_parameters()` order: the embedding; per
 * layer q, k, v, o, gate, up, down projections, then the two RMSNorms; the
 * final norm; `lm_head.weight` unless the embeddings are tied. Ferret's
 * block grouping walks exactly this list (paper.md §7 item 3).
 *
 * @example
 * ```ts
 * import { tensorShapes } from "./layout.ts";
 * import { PRESETS } from "./presets.ts";
 * const shapes = tensorShapes(PRESETS.ci);
 * console.log(shapes.length, shapes[2]!.name, shapes[2]!.shape); // 21 model.layers.0.self_attn.k_proj.weight [16, 32]
 * ```
 */
export function tensorShapes(config: ModelConfig): TensorShape[] {
  const c = validateConfig(config);
  const h = c.hiddenSize;
  const kv = c.numKvHeads * (h / c.numHeads);
  const m = c.intermediateSize;
  const out: TensorShape[] = [];
  const add = (name: string, shape: number[], kind: TensorKind, layer: number | null) =>
    out.push({ name, shape, numel: shape.reduce((a, b) => a * b, 1), kind, layer });
  add("model.embed_tokens.weight", [c.vocabSize, h], "embedding", null);
  for (let i = 0; i < c.numLayers; i++) {
    const p = `model.layers.${i}`;
    // Each projection's bias (Qwen2) right after its weight, as the checkpoint lists them.
    for (const [proj, rows] of [["q", h], ["k", kv], ["v", kv]] as const) {
      add(`${p}.self_attn.${proj}_proj.weight`, [rows, h], "linear", i);
      if (c.attentionBias) add(`${p}.self_attn.${proj}_proj.bias`, [rows], "bias", i);
    }
    add(`${p}.self_attn.o_proj.weight`, [h, h], "linear", i);
    add(`${p}.mlp.gate_proj.weight`, [m, h], "linear", i);
    add(`${p}.mlp.up_proj.weight`, [m, h], "linear", i);
    add(`${p}.mlp.down_proj.weight`, [h, m], "linear", i);
    add(`${p}.input_layernorm.weight`, [h], "norm", i);
    add(`${p}.post_attention_layernorm.weight`, [h], "norm", i);
  }
  add("model.norm.weight", [h], "norm", null);
  if (!c.tieEmbeddings) add("lm_head.weight", [c.vocabSize, h], "linear", null);
  return out;
}

/** A tensor's place in the flat vector. */
export interface TensorSlot extends TensorShape {
  /** Index of its first element in the whole vector (a multiple of {@linkcode TENSOR_ALIGNMENT}). */
  readonly offset: number;
  /** Index of the chunk that holds it. */
  readonly chunk: number;
  /** Index of its first element within that chunk (a multiple of {@linkcode TENSOR_ALIGNMENT}). */
  readonly chunkOffset: number;
}

/** Where every tensor of a model lives in the flat vector. */
export interface ParameterLayout {
  /** The model. */
  readonly config: ModelConfig;
  /** The chunk size the layout was packed for (`Infinity`: no limit, one chunk). */
  readonly chunkElements: number;
  /** Length of the flat vector, gaps included. */
  readonly length: number;
  /** Sum of the tensors' sizes (the model's parameter count). */
  readonly numParameters: number;
  /** The tensors in HF order. */
  readonly tensors: readonly TensorSlot[];
  /** The slot of the tensor called `name` (throws for an unknown name). */
  slot(name: string): TensorSlot;
}

/** Options for {@linkcode parameterLayout}. */
export interface LayoutOptions {
  /**
   * Elements per chunk of the vector the layout is for: a positive multiple
   * of {@linkcode TENSOR_ALIGNMENT}, or `Infinity` (the default) for a single
   * unbounded chunk — shape-only use, or any vector whose one chunk holds it all.
   */
  chunkElements?: number;
}

function alignUp(n: number): number {
  return Math.ceil(n / TENSOR_ALIGNMENT) * TENSOR_ALIGNMENT;
}

/**
 * Packs the tensors of `config` into a flat vector chunked by
 * `options.chunkElements`: in HF order, each at the next aligned offset, or
 * at the start of the next chunk when it would otherwise cross a chunk end.
 * Throws a RangeError naming the tensor when one is larger than a chunk.
 *
 * @example
 * ```ts
 * import { parameterLayout } from "./layout.ts";
 * import { PRESETS } from "./presets.ts";
 * const layout = parameterLayout(PRESETS.ci);
 * const q = layout.slot("model.layers.0.self_attn.q_proj.weight");
 * console.log(q.offset, q.numel, layout.numParameters); // 8320 1024 39776
 * ```
 */
export function parameterLayout(config: ModelConfig, options: LayoutOptions = {}): ParameterLayout {
  const c = validateConfig(config);
  const chunkElements = options.chunkElements ?? Infinity;
  if (
    chunkElements !== Infinity &&
    (!Number.isSafeInteger(chunkElements) || chunkElements <= 0 ||
      chunkElements % TENSOR_ALIGNMENT !== 0)
  ) {
    throw new RangeError(
      `Cannot lay out parameters in chunks of ${chunkElements} elements: ` +
        `expected a positive multiple of ${TENSOR_ALIGNMENT}`,
    );
  }
  return packTensors(c, tensorShapes(c), chunkElements);
}

/**
 * The packing rule of {@linkcode parameterLayout} for any list of tensors
 * (the model's, or an adapter's): in the given order, each at the next
 * aligned offset, or at the start of the next chunk when it would otherwise
 * cross a chunk end. `what` names the tensors and the layout in errors.
 */
export function packTensors(
  config: ModelConfig,
  shapes: readonly TensorShape[],
  chunkElements: number,
  what: { tensor: string; layout: string } = { tensor: "tensor", layout: "parameter layout" },
): ParameterLayout {
  const tensors: TensorSlot[] = [];
  let end = 0;
  let numParameters = 0;
  for (const shape of shapes) {
    if (shape.numel > chunkElements) {
      throw new RangeError(
        `Cannot lay out ${what.tensor} "${shape.name}" [${shape.shape.join(", ")}]: its ` +
          `${shape.numel} elements exceed one chunk of ${chunkElements} (one storage binding)`,
      );
    }
    let offset = alignUp(end);
    let chunk = chunkElements === Infinity ? 0 : Math.floor(offset / chunkElements);
    if (chunkElements !== Infinity && offset + shape.numel > (chunk + 1) * chunkElements) {
      chunk += 1;
      offset = chunk * chunkElements;
    }
    const chunkOffset = chunkElements === Infinity ? offset : offset - chunk * chunkElements;
    tensors.push(Object.freeze({ ...shape, offset, chunk, chunkOffset }));
    end = offset + shape.numel;
    numParameters += shape.numel;
  }
  const byName = new Map(tensors.map((t) => [t.name, t]));
  return Object.freeze({
    config,
    chunkElements,
    length: end,
    numParameters,
    tensors: Object.freeze(tensors),
    slot(name: string): TensorSlot {
      const found = byName.get(name);
      if (!found) throw new RangeError(`Cannot find tensor "${name}" in the ${what.layout}`);
      return found;
    },
  });
}

/** A tensor's place in a specific {@linkcode GpuVector}: its slot plus the binding. */
export interface TensorView extends TensorSlot {
  /** The storage binding of exactly this tensor (byte offset a multiple of 256). */
  readonly binding: { readonly buffer: GPUBuffer; readonly offset: number; readonly size: number };
}

/**
 * The named views of every tensor of `layout` in `vector` (any vector laid
 * out by it: parameters, gradients, optimizer state). Throws a TypeError if
 * the vector's length differs or a tensor would straddle one of its chunks.
 *
 * @example
 * ```ts
 * import { parameterLayout, tensorViews } from "./layout.ts";
 * import { Gpu } from "../gpu/gpu.ts";
 * import { GpuVector } from "../gpu/vector.ts";
 * import { PRESETS } from "./presets.ts";
 * const gpu = await Gpu.create();
 * const layout = parameterLayout(PRESETS.ci);
 * const grads = GpuVector.create(gpu, layout.length);
 * const views = tensorViews(grads, layout);
 * console.log(views.get("model.norm.weight")!.binding.size); // 128
 * gpu.destroy();
 * ```
 */
export function tensorViews(vector: GpuVector, layout: ParameterLayout): Map<string, TensorView> {
  if (vector.length !== layout.length) {
    throw new TypeError(
      `Cannot view a vector of length ${vector.length} by a parameter layout of length ` +
        layout.length,
    );
  }
  const views = new Map<string, TensorView>();
  for (const slot of layout.tensors) {
    const index = Math.floor(slot.offset / vector.chunkElements);
    const chunk = vector.chunks[index]!;
    const within = slot.offset - chunk.start;
    if (within + slot.numel > chunk.length || within % TENSOR_ALIGNMENT !== 0) {
      throw new TypeError(
        `Cannot view tensor "${slot.name}" in a vector chunked by ${vector.chunkElements}: ` +
          `it straddles chunks (lay the parameters out for this chunk size)`,
      );
    }
    views.set(slot.name, {
      ...slot,
      chunk: index,
      chunkOffset: within,
      binding: { buffer: chunk.buffer, offset: within * 4, size: slot.numel * 4 },
    });
  }
  return views;
}

/**
 * Elements from one model's vector to the next's when several models of
 * `layout` sit in one vector (src/model/model_batch.ts): its length rounded
 * up to {@linkcode TENSOR_ALIGNMENT}, so every model's tensors stay aligned.
 *
 * @example
 * ```ts
 * import { batchStride, parameterLayout } from "./layout.ts";
 * import { PRESETS } from "./presets.ts";
 * console.log(batchStride(parameterLayout(PRESETS.ci)) % 64); // 0
 * ```
 */
export function batchStride(layout: ParameterLayout): number {
  return alignUp(layout.length);
}

/**
 * Views of the first of several models of `layout` in `vector` (one chunk,
 * {@linkcode batchStride} elements apart) whose bindings reach the same
 * tensor of the first `count` models: a kernel given `stride` finds model
 * b's tensor b·stride elements past model 0's.
 *
 * @example
 * ```ts
 * import { batchStride, batchViews, parameterLayout } from "./layout.ts";
 * import { Gpu } from "../gpu/gpu.ts";
 * import { GpuVector } from "../gpu/vector.ts";
 * import { PRESETS } from "./presets.ts";
 * const gpu = await Gpu.create();
 * const layout = parameterLayout(PRESETS.ci);
 * const stride = batchStride(layout);
 * const vector = GpuVector.create(gpu, 3 * stride, { chunkElements: 3 * stride });
 * const norm = batchViews(vector, layout, 2).get("model.norm.weight")!;
 * console.log(norm.binding.size === (stride + norm.numel) * 4); // true
 * gpu.destroy();
 * ```
 */
export function batchViews(
  vector: GpuVector,
  layout: ParameterLayout,
  count: number,
): Map<string, TensorView> {
  const stride = batchStride(layout);
  if (vector.chunks.length !== 1 || vector.length < (count - 1) * stride + layout.length) {
    throw new TypeError(
      `Cannot view ${count} models of ${layout.length} values ${stride} apart in a vector of ` +
        `${vector.length} in ${vector.chunks.length} chunks`,
    );
  }
  const buffer = vector.chunks[0]!.buffer;
  return new Map(
    layout.tensors.map((t): [string, TensorView] => [
      t.name,
      {
        ...t,
        binding: { buffer, offset: t.offset * 4, size: ((count - 1) * stride + t.numel) * 4 },
      },
    ]),
  );
}

/** Options for {@linkcode createParameters}. */
export interface CreateParametersOptions {
  /**
   * Elements per chunk (a multiple of {@linkcode TENSOR_ALIGNMENT}); defaults
   * to one whole storage binding of the device. Tests pass small values.
   */
  chunkElements?: number;
  /** Initial contents (the layout's `length`, e.g. from `initParameters`); zeros if omitted. */
  data?: Float32Array;
  /** A label for the buffers. */
  label?: string;
}

/** A model's parameters on the GPU: layout, vector and named views. */
export interface Parameters {
  /** The layout the vector follows. */
  readonly layout: ParameterLayout;
  /** The flat vector. */
  readonly vector: GpuVector;
  /** Name → view. */
  readonly views: Map<string, TensorView>;
}

/**
 * Lays out `config` for `gpu` and allocates its parameter vector.
 *
 * @example
 * ```ts
 * import { createParameters } from "./layout.ts";
 * import { Gpu } from "../gpu/gpu.ts";
 * import { PRESETS } from "./presets.ts";
 * const gpu = await Gpu.create();
 * const params = createParameters(gpu, PRESETS.ci);
 * const view = params.views.get("model.layers.1.mlp.down_proj.weight")!;
 * console.log(view.shape, view.binding.offset % 256); // [32, 88] 0
 * gpu.destroy();
 * ```
 */
export function createParameters(
  gpu: Gpu,
  config: ModelConfig,
  options: CreateParametersOptions = {},
): Parameters {
  const maxChunk = defaultChunkElements(gpu);
  const chunkElements = options.chunkElements ?? maxChunk;
  if (chunkElements > maxChunk) {
    throw new RangeError(
      `Cannot chunk parameters by ${chunkElements} elements: one storage binding holds ${maxChunk}`,
    );
  }
  const layout = parameterLayout(config, { chunkElements });
  if (options.data && options.data.length !== layout.length) {
    throw new TypeError(
      `Cannot create parameters from ${options.data.length} values: the layout has ` +
        layout.length,
    );
  }
  const parameters = layoutVector(gpu, layout, options.label ?? "parameters");
  if (options.data) parameters.vector.write(options.data);
  return parameters;
}

/**
 * A zero vector laid out by `layout` (packed for chunks of `layout.chunkElements`), with
 * its named views.
 */
export function layoutVector(gpu: Gpu, layout: ParameterLayout, label: string): Parameters {
  // A vector that fits one chunk gets exactly that chunk; offsets are the same.
  const vectorChunk = Math.min(
    layout.chunkElements,
    Math.max(TENSOR_ALIGNMENT, alignUp(layout.length)),
  );
  const vector = GpuVector.create(gpu, layout.length, { chunkElements: vectorChunk, label });
  return { layout, vector, views: tensorViews(vector, layout) };
}

/**
 * Copies `values` (one tensor, row-major) into its slot of the flat CPU
 * array `flat`, checking the size.
 *
 * @example
 * ```ts
 * import { parameterLayout, writeTensor } from "./layout.ts";
 * import { PRESETS } from "./presets.ts";
 * const layout = parameterLayout(PRESETS.ci);
 * const flat = new Float32Array(layout.length);
 * writeTensor(flat, layout, "model.norm.weight", new Float32Array(32).fill(1));
 * console.log(flat[layout.slot("model.norm.weight").offset]); // 1
 * ```
 */
export function writeTensor(
  flat: Float32Array,
  layout: ParameterLayout,
  name: string,
  values: Float32Array,
): void {
  const slot = layout.slot(name);
  if (values.length !== slot.numel || flat.length !== layout.length) {
    throw new TypeError(
      `Cannot write tensor "${name}": got ${values.length} values into a vector of ` +
        `${flat.length}, expected ${slot.numel} into ${layout.length}`,
    );
  }
  flat.set(values, slot.offset);
}

/**
 * The values of tensor `name` in the flat CPU array `flat` (a view, not a copy).
 *
 * @example
 * ```ts
 * import { parameterLayout, readTensor } from "./layout.ts";
 * import { PRESETS } from "./presets.ts";
 * const layout = parameterLayout(PRESETS.ci);
 * console.log(readTensor(new Float32Array(layout.length), layout, "model.norm.weight").length); // 32
 * ```
 */
export function readTensor(
  flat: Float32Array,
  layout: ParameterLayout,
  name: string,
): Float32Array {
  const slot = layout.slot(name);
  if (flat.length !== layout.length) {
    throw new TypeError(
      `Cannot read tensor "${name}" from a vector of ${flat.length}: the layout has ${layout.length}`,
    );
  }
  return flat.subarray(slot.offset, slot.offset + slot.numel);
}
