/**
 * LoRA on the attention projections (FedIT and FedIT-SGD, paper.md §6):
 * `y = x·Wᵀ + (α/r)·(x·Aᵀ)·Bᵀ` with `A` [r, in] and `B` [out, r] per adapted
 * projection, the base weight `W` frozen.
 *
 * Defaults follow FedIT's code (Shepherd) and PEFT: rank 8, α = 16, targets
 * `q_proj` and `v_proj`, no dropout. Initialisation is PEFT's: `A` is
 * Kaiming-uniform with a = √5, i.e. U(−1/√in, 1/√in), and `B` = 0, so a
 * fresh adapter leaves the model's output unchanged. Tensor names are the
 * ones PEFT writes to `adapter_model.safetensors`
 * (`base_model.model.model.layers.{i}.self_attn.q_proj.lora_A.weight`).
 *
 * The adapter runs inside the passes (src/model/passes.ts) as two extra
 * small products per projection; nothing is merged, so the same base
 * weights serve every client's adapter and generation needs nothing else.
 *
 * @module
 */

import type { Binding, Gpu } from "../../gpu/gpu.ts";
import { RandomStream } from "../../random/stream.ts";
import { headDim, type ModelConfig } from "../config.ts";
import type { ParameterLayout, Parameters, TensorShape } from "../layout.ts";
import { matmul, type MatmulShape } from "../ops/matmul.ts";
import {
  adapterLayout,
  type AdapterModels,
  adapterVectors,
  batchAdapterVectors,
  view,
} from "./_layout.ts";

/** The attention projections LoRA can adapt. */
export type LoraTarget = "q" | "k" | "v" | "o";

/**
 * Every LoRA target, in the order PEFT lists the modules of a layer.
 *
 * @example
 * ```ts
 * import { LORA_TARGETS } from "./lora.ts";
 * console.log(LORA_TARGETS); // [ "q", "k", "v", "o" ]
 * ```
 */
export const LORA_TARGETS: readonly LoraTarget[] = ["q", "k", "v", "o"];

/** Options of a LoRA adapter. */
export interface LoraOptions {
  /** Rank r (default 8). */
  rank?: number;
  /** Scale numerator α; the update is scaled by α/r (default 16). */
  alpha?: number;
  /** Adapted projections (default `["q", "v"]`, as FedIT and PEFT for LLaMA). */
  targets?: readonly LoraTarget[];
  /** Seed of the `peft/lora` stream that draws A (default 0). */
  seed?: number;
}

/** LoRA options with every default filled in. */
export interface LoraSettings {
  /** Rank r. */
  readonly rank: number;
  /** Scale numerator α. */
  readonly alpha: number;
  /** Adapted projections, in PEFT's module order. */
  readonly targets: readonly LoraTarget[];
  /** Seed of the `peft/lora` stream. */
  readonly seed: number;
}

/**
 * The PEFT names of layer `layer`'s LoRA matrices on projection `target`.
 *
 * @example
 * ```ts
 * import { loraNames } from "./lora.ts";
 * console.log(loraNames(3, "q").a); // base_model.model.model.layers.3.self_attn.q_proj.lora_A.weight
 * ```
 */
export function loraNames(layer: number, target: LoraTarget): { a: string; b: string } {
  const p = `base_model.model.model.layers.${layer}.self_attn.${target}_proj`;
  return { a: `${p}.lora_A.weight`, b: `${p}.lora_B.weight` };
}

/** Validates `options` and fills in the defaults. */
export function loraSettings(options: LoraOptions = {}): LoraSettings {
  const rank = options.rank ?? 8;
  const alpha = options.alpha ?? 16;
  const targets = options.targets ?? ["q", "v"];
  const seed = options.seed ?? 0;
  if (!Number.isInteger(rank) || rank < 1) {
    throw new RangeError(`Cannot create a LoRA adapter of rank ${rank}: expected an integer ≥ 1`);
  }
  if (!Number.isFinite(alpha)) {
    throw new RangeError(`Cannot create a LoRA adapter with alpha ${alpha}: expected a number`);
  }
  if (targets.length === 0 || targets.some((t) => !LORA_TARGETS.includes(t))) {
    throw new TypeError(
      `Cannot create a LoRA adapter on [${targets.join(", ")}]: targets are among q, k, v, o`,
    );
  }
  if (new Set(targets).size !== targets.length) {
    throw new TypeError(`Cannot create a LoRA adapter on [${targets.join(", ")}]: repeated target`);
  }
  // PEFT's module order, whatever order the caller listed them in.
  const ordered = LORA_TARGETS.filter((t) => targets.includes(t));
  return Object.freeze({ rank, alpha, targets: Object.freeze(ordered), seed });
}

/** Output width of projection `target` (its input width is the hidden size). */
function outWidth(config: ModelConfig, target: LoraTarget): number {
  return target === "k" || target === "v" ? config.numKvHeads * headDim(config) : config.hiddenSize;
}

/**
 * The adapter's tensors in PEFT's `named_parameters()` order: per layer, per
 * target, `lora_A` [r, in] then `lora_B` [out, r].
 *
 * @example
 * ```ts
 * import { loraTensorShapes } from "./lora.ts";
 * import { PRESETS } from "../presets.ts";
 * const shapes = loraTensorShapes(PRESETS.ci, { rank: 4 });
 * console.log(shapes.length, shapes[3]!.shape); // 8 [ 16, 4 ]
 * ```
 */
export function loraTensorShapes(config: ModelConfig, options: LoraOptions = {}): TensorShape[] {
  const { rank, targets } = loraSettings(options);
  const C = config.hiddenSize;
  const shapes: TensorShape[] = [];
  for (let l = 0; l < config.numLayers; l++) {
    for (const target of targets) {
      const names = loraNames(l, target);
      const out = outWidth(config, target);
      shapes.push({ name: names.a, shape: [rank, C], numel: rank * C, kind: "linear", layer: l });
      shapes.push({
        name: names.b,
        shape: [out, rank],
        numel: out * rank,
        kind: "linear",
        layer: l,
      });
    }
  }
  return shapes;
}

/**
 * PEFT's initial values in `layout`'s flat order: every `lora_A` entry
 * U(−1/√in, 1/√in) from `stream.derive(<name>)`, every `lora_B` zero.
 *
 * @example
 * ```ts
 * import { initLora, LoraAdapter } from "./lora.ts";
 * import { RandomStream } from "../../random/stream.ts";
 * import { PRESETS } from "../presets.ts";
 * const layout = LoraAdapter.layout(PRESETS.ci, { rank: 4 });
 * const flat = initLora(layout, new RandomStream(0, "peft/lora"));
 * console.log(flat.every((v) => Math.abs(v) <= 1 / Math.sqrt(32))); // true
 * ```
 */
export function initLora(layout: ParameterLayout, stream: RandomStream): Float32Array {
  const flat = new Float32Array(layout.length);
  for (const slot of layout.tensors) {
    if (!slot.name.endsWith(".lora_A.weight")) continue;
    const bound = 1 / Math.sqrt(slot.shape[1]!);
    const values = flat.subarray(slot.offset, slot.offset + slot.numel);
    const tensorStream = stream.derive(slot.name);
    for (let i = 0; i < values.length; i++) values[i] = bound * (2 * tensorStream.uniform() - 1);
  }
  return flat;
}

/** Bindings of one adapted projection: input x [T, in], output y [T, out]. */
export interface LoraProjection {
  /** The projection's input [T, in]. */
  readonly x: Binding;
  /** Its output [T, out], holding x·Wᵀ (the LoRA term is added). */
  readonly y: Binding;
}

/** The models of a pass over several LoRA adapters ({@linkcode AdapterModels}). */
export type LoraModels = AdapterModels;

/**
 * A LoRA adapter on the GPU: its parameters and gradients (own vectors and
 * PEFT-named views) and the per-pass buffers: `u = x·Aᵀ` [rows, r] of every
 * adapted projection, kept for the backward pass, and one [rows, r] scratch.
 * With `count` > 1 it holds the adapters of a batch of models
 * (src/model/model_batch.ts), `stride` elements apart in one vector (zero
 * until loaded), and its passes take each model's rows to its own adapter.
 *
 * @example
 * ```ts
 * import { Gpu } from "../../gpu/gpu.ts";
 * import { sgdStep } from "../../optim/sgd.ts";
 * import { PRESETS } from "../presets.ts";
 * import { Transformer } from "../transformer.ts";
 * const gpu = await Gpu.create();
 * const model = await Transformer.create(gpu, PRESETS.ci, {
 *   maxTokens: 8,
 *   adapter: { kind: "lora", rank: 4 }, // q and v, α = 16
 * });
 * const sequence = { tokens: new Int32Array([256, 72, 105]), targets: new Int32Array([72, 105, 257]) };
 * await model.recordLossAndGrad([sequence]); // fills model.adapter.grads only
 * const { params, grads } = model.trainable;
 * await sgdStep(params.vector, grads.vector, { lr: 0.1 });
 * console.log(model.train, params.layout.numParameters); // lora 896
 * gpu.destroy();
 * ```
 */
export class LoraAdapter {
  /** Discriminates the adapters. */
  readonly kind = "lora" as const;
  /** Rank, α, targets and seed. */
  readonly settings: LoraSettings;
  /** α / r. */
  readonly scale: number;
  /** The trainable tensors. */
  readonly params: Parameters;
  /** Their gradients (same layout). */
  readonly grads: Parameters;
  /** Adapters held: one, or a batch's. */
  readonly count: number;
  /** Elements from one adapter's parameters to the next's (0 with one). */
  readonly stride: number;
  readonly #gpu: Gpu;
  readonly #config: ModelConfig;
  readonly #saved: ReadonlyMap<string, GPUBuffer>;
  readonly #scratch: GPUBuffer;

  /** The layout of an adapter of `options` on `config` (shape-only use). */
  static layout(config: ModelConfig, options: LoraOptions = {}): ParameterLayout {
    return adapterLayout(config, loraTensorShapes(config, options), Infinity);
  }

  /**
   * Allocates an adapter for passes of up to `rows` tokens, initialised as
   * PEFT does; or, with `count` > 1, the zero adapters of a batch of models
   * whose passes take `rows` tokens in all.
   */
  constructor(
    gpu: Gpu,
    config: ModelConfig,
    rows: number,
    options: LoraOptions = {},
    count = 1,
  ) {
    if (!Number.isInteger(count) || count < 1) {
      throw new RangeError(`Cannot hold ${count} LoRA adapters: expected an integer ≥ 1`);
    }
    this.settings = loraSettings(options);
    this.scale = this.settings.alpha / this.settings.rank;
    this.count = count;
    this.#gpu = gpu;
    this.#config = config;
    const shapes = loraTensorShapes(config, options);
    if (count === 1) {
      const { params, grads } = adapterVectors(gpu, config, shapes, "lora");
      this.params = params;
      this.grads = grads;
      this.stride = 0;
      params.vector.write(
        initLora(params.layout, new RandomStream(this.settings.seed, "peft/lora")),
      );
    } else {
      const batch = batchAdapterVectors(gpu, config, shapes, count, "lora");
      this.params = batch.params;
      this.grads = batch.grads;
      this.stride = batch.stride;
    }
    const r = this.settings.rank;
    const saved = new Map<string, GPUBuffer>();
    for (let l = 0; l < config.numLayers; l++) {
      for (const target of this.settings.targets) {
        saved.set(`${l}.${target}`, gpu.buffer(rows * r * 4, `lora.u.${l}.${target}`));
      }
    }
    this.#saved = saved;
    this.#scratch = gpu.buffer(rows * r * 4, "lora.du");
  }

  /** Frees the adapter's parameters, gradients and saved activations. */
  destroy(): void {
    this.params.vector.destroy();
    this.grads.vector.destroy();
    for (const buffer of this.#saved.values()) buffer.destroy();
    this.#scratch.destroy();
  }

  /** Whether projection `target` is adapted. */
  adapts(target: LoraTarget): boolean {
    return this.settings.targets.includes(target);
  }

  #u(layer: number, target: LoraTarget): GPUBuffer {
    return this.#saved.get(`${layer}.${target}`)!;
  }

  /**
   * A product with one of the adapter's tensors (or their gradients) over
   * `T` rows: with `models`, each model's rows against its own adapter's.
   */
  #product(
    out: Binding,
    a: Binding,
    b: Binding,
    shape: MatmulShape,
    models: LoraModels | undefined,
  ): Promise<void> {
    if (!models) {
      if (this.count > 1) {
        throw new TypeError(`Cannot run a pass of one model on ${this.count} LoRA adapters`);
      }
      return matmul(this.#gpu, out, a, b, shape);
    }
    if (models.count > this.count) {
      throw new RangeError(`Cannot run ${models.count} models on ${this.count} LoRA adapters`);
    }
    return matmul(this.#gpu, out, a, b, {
      ...shape,
      m: models.rows,
      models: { count: models.count, stride: this.stride },
    });
  }

  /**
   * Records `y += (α/r)·(x·Aᵀ)·Bᵀ` for projection `target` of `layer` over
   * `T` rows (with `models`, every model's rows with its own adapter), after
   * the base product wrote `y`; keeps `x·Aᵀ` for
   * {@linkcode LoraAdapter.backward}. Does nothing for a target not adapted.
   */
  async forward(
    layer: number,
    target: LoraTarget,
    io: LoraProjection,
    T: number,
    models?: LoraModels,
  ): Promise<void> {
    if (!this.adapts(target)) return;
    const names = loraNames(layer, target);
    const r = this.settings.rank;
    const C = this.#config.hiddenSize;
    const u = this.#u(layer, target);
    const A = view(this.params, names.a);
    await this.#product(u, io.x, A, { form: "xwt", m: T, n: r, k: C }, models);
    await this.#product(io.y, u, view(this.params, names.b), {
      form: "xwt",
      m: T,
      n: outWidth(this.#config, target),
      k: r,
      alpha: this.scale,
      accumulate: true,
    }, models);
  }

  /**
   * Records the backward pass of projection `target` of `layer`, given the
   * output gradient `dy` [T, out] and the input `x` [T, in] of the forward
   * pass: with `train`, adds dB = (α/r)·dyᵀ·u and dA = duᵀ·x into the
   * gradients (du = (α/r)·dy·B); with `dx`, adds du·A into it. Does nothing
   * for a target not adapted. With `models`, every model's rows with its own
   * adapter and into its own gradients.
   */
  async backward(
    layer: number,
    target: LoraTarget,
    io: { dy: Binding; x: Binding; dx: Binding | null },
    T: number,
    train: boolean,
    models?: LoraModels,
  ): Promise<void> {
    if (!this.adapts(target) || (!train && !io.dx)) return;
    const names = loraNames(layer, target);
    const r = this.settings.rank;
    const C = this.#config.hiddenSize;
    const out = outWidth(this.#config, target);
    const du = this.#scratch;
    await this.#product(du, io.dy, view(this.params, names.b), {
      form: "dyw",
      m: T,
      n: out,
      k: r,
      alpha: this.scale,
    }, models);
    if (train) {
      await this.#product(view(this.grads, names.b), io.dy, this.#u(layer, target), {
        form: "dytx",
        m: T,
        n: out,
        k: r,
        alpha: this.scale,
        accumulate: true,
      }, models);
      await this.#product(view(this.grads, names.a), du, io.x, {
        form: "dytx",
        m: T,
        n: r,
        k: C,
        accumulate: true,
      }, models);
    }
    if (io.dx) {
      await this.#product(io.dx, du, view(this.params, names.a), {
        form: "dyw",
        m: T,
        n: r,
        k: C,
        accumulate: true,
      }, models);
    }
  }
}
