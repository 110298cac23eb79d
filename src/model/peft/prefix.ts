/**
 * P-tuning v2 / deep prompt tuning (FedPTuning as FS-LLM runs it,
 * paper.md §6): per layer, `n` trainable key and value rows [n, Ckv] that
 * every query of that layer attends to, the model frozen. (PEFT's
 * `PrefixTuning` without the reparameterising MLP: the prefixes are the
 * parameters.)
 *
 * Position convention (the one `transformers` applies when a LLaMA gets
 * `past_key_values` of length n and no explicit position ids): the prefix
 * rows occupy cache slots 0 … n − 1 and are used as given — they are keys
 * after RoPE, never rotated — and the sequence's tokens sit at positions
 * n, n + 1, … (token t at n + its position). The attention kernels see the
 * prefix as a KV cache of `past = n` rows before the sequence's own keys.
 *
 * Tensors, per layer l in order: `prefix.layers.{l}.key` and
 * `prefix.layers.{l}.value`, each [n, Ckv], initialised N(0, std²) (default
 * 1, the `nn.Embedding` init of PEFT's prefix encoder) from the
 * `peft/prefix` stream.
 *
 * A batch of models (src/model/model_batch.ts) runs its prefixes another
 * way, because attention's key range per query is contiguous within a
 * pass: each model's rows start with n virtual rows (positions 0 … n − 1,
 * no loss), whose keys and values are overwritten by that model's prefix
 * after RoPE, and every query attends from its model's first row. A token
 * thus sees the same keys and values as with a cache of n rows; the
 * virtual rows' own gradients are zero, and their key and value gradients
 * go to the prefix instead of their projections.
 *
 * @module
 */

import type { Gpu } from "../../gpu/gpu.ts";
import { RandomStream } from "../../random/stream.ts";
import { headDim, type ModelConfig } from "../config.ts";
import type { Parameters, TensorShape } from "../layout.ts";
import {
  accumulateModelRows,
  type AdapterModels,
  adapterVectors,
  batchAdapterVectors,
  copyToModelRows,
  modelsReached,
  ONE_MODEL,
} from "./_layout.ts";

/** Options of a P-tuning prefix. */
export interface PrefixOptions {
  /** Prefix rows n per layer. */
  tokens: number;
  /** Standard deviation of the init (default 1). */
  std?: number;
  /** Seed of the `peft/prefix` stream (default 0). */
  seed?: number;
}

/**
 * The names of layer `layer`'s prefix tensors.
 *
 * @example
 * ```ts
 * import { prefixNames } from "./prefix.ts";
 * console.log(prefixNames(1).value); // prefix.layers.1.value
 * ```
 */
export function prefixNames(layer: number): { key: string; value: string } {
  return { key: `prefix.layers.${layer}.key`, value: `prefix.layers.${layer}.value` };
}

/**
 * A P-tuning prefix on the GPU: its parameters and gradients (own vectors)
 * and, per layer, the keys and values attention reads ([n + rows, Ckv]:
 * the prefix, then the sequence's), kept for the backward pass, plus their
 * gradient scratch. With `count` > 1 it holds the prefixes of a batch of
 * models, `stride` elements apart in one vector (zero until loaded), for
 * passes whose models' rows start with n virtual rows (see above).
 *
 * @example
 * ```ts
 * import { Gpu } from "../../gpu/gpu.ts";
 * import { PRESETS } from "../presets.ts";
 * import { Transformer } from "../transformer.ts";
 * const gpu = await Gpu.create();
 * const model = await Transformer.create(gpu, PRESETS.ci, {
 *   maxTokens: 8,
 *   adapter: { kind: "prefix", tokens: 3 },
 * });
 * console.log(model.adapter?.params.layout.numParameters); // 192 = 2 layers × (key + value) × 3 × 16
 * gpu.destroy();
 * ```
 */
export class PrefixAdapter {
  /** Discriminates the adapters. */
  readonly kind = "prefix" as const;
  /** Prefix rows n per layer. */
  readonly length: number;
  /** The trainable tensors. */
  readonly params: Parameters;
  /** Their gradients (same layout). */
  readonly grads: Parameters;
  /** Prefixes held: one, or a batch's. */
  readonly count: number;
  /** Elements from one prefix's parameters to the next's (0 with one). */
  readonly stride: number;
  readonly #gpu: Gpu;
  readonly #Ckv: number;
  readonly #keys: readonly GPUBuffer[];
  readonly #values: readonly GPUBuffer[];
  readonly #dk: GPUBuffer | null;
  readonly #dv: GPUBuffer | null;

  /**
   * Allocates and initialises a prefix for passes of up to `rows` tokens;
   * or, with `count` > 1, the zero prefixes of a batch of models.
   */
  constructor(gpu: Gpu, config: ModelConfig, rows: number, options: PrefixOptions, count = 1) {
    const n = options.tokens;
    if (!Number.isInteger(n) || n < 1) {
      throw new RangeError(`Cannot create a prefix of ${n} rows: expected an integer ≥ 1`);
    }
    if (!Number.isInteger(count) || count < 1) {
      throw new RangeError(`Cannot hold ${count} prefixes: expected an integer ≥ 1`);
    }
    const std = options.std ?? 1;
    if (!(Number.isFinite(std) && std >= 0)) {
      throw new RangeError(`Cannot initialise a prefix with std ${std}`);
    }
    const Ckv = config.numKvHeads * headDim(config);
    this.length = n;
    this.#gpu = gpu;
    this.#Ckv = Ckv;
    const shapes: TensorShape[] = [];
    for (let l = 0; l < config.numLayers; l++) {
      for (const name of Object.values(prefixNames(l))) {
        shapes.push({ name, shape: [n, Ckv], numel: n * Ckv, kind: "embedding", layer: l });
      }
    }
    this.count = count;
    if (count > 1) {
      const batch = batchAdapterVectors(gpu, config, shapes, count, "prefix");
      this.params = batch.params;
      this.grads = batch.grads;
      this.stride = batch.stride;
      this.#keys = [];
      this.#values = [];
      this.#dk = null;
      this.#dv = null;
      return;
    }
    this.stride = 0;
    const { params, grads } = adapterVectors(gpu, config, shapes, "prefix");
    this.params = params;
    this.grads = grads;
    const stream = new RandomStream(options.seed ?? 0, "peft/prefix");
    const flat = new Float32Array(params.layout.length);
    for (const slot of params.layout.tensors) {
      const tensorStream = stream.derive(slot.name);
      for (let i = 0; i < slot.numel; i++) flat[slot.offset + i] = std * tensorStream.normal();
    }
    params.vector.write(flat);
    const bytes = (n + rows) * Ckv * 4;
    const perLayer = (label: string) =>
      Array.from({ length: config.numLayers }, (_, l) => gpu.buffer(bytes, `${label}${l}`));
    this.#keys = perLayer("prefix.k");
    this.#values = perLayer("prefix.v");
    this.#dk = gpu.buffer(bytes, "prefix.dk");
    this.#dv = gpu.buffer(bytes, "prefix.dv");
  }

  /** Frees the adapter's parameters, gradients and assembled keys and values. */
  destroy(): void {
    this.params.vector.destroy();
    this.grads.vector.destroy();
    for (const buffer of [...this.#keys, ...this.#values, this.#dk, this.#dv]) buffer?.destroy();
  }

  /** The one-model scratch, refused when the adapter holds a batch's prefixes. */
  #alone(): { dk: GPUBuffer; dv: GPUBuffer } {
    modelsReached(undefined, this.count, "prefixes");
    return { dk: this.#dk!, dv: this.#dv! };
  }

  /**
   * Records the assembly of layer `layer`'s attention keys and values
   * [n + T, Ckv]: the prefix rows, then the sequence's `k` and `v` [T, Ckv]
   * (k already rotated). Returns the two buffers.
   */
  assemble(layer: number, k: GPUBuffer, v: GPUBuffer, T: number): { k: GPUBuffer; v: GPUBuffer } {
    this.#alone();
    const gpu = this.#gpu;
    const names = prefixNames(layer);
    const head = this.length * this.#Ckv * 4;
    for (
      const [name, source, target] of [
        [names.key, k, this.#keys[layer]!],
        [names.value, v, this.#values[layer]!],
      ] as const
    ) {
      copyToModelRows(gpu, this.params, name, 0, target, ONE_MODEL, this.#Ckv);
      gpu.copy(source, 0, target, head, T * this.#Ckv * 4);
    }
    return { k: this.#keys[layer]!, v: this.#values[layer]! };
  }

  /** Layer `layer`'s keys and values [n + T, Ckv] as last assembled. */
  keysAndValues(layer: number): { k: GPUBuffer; v: GPUBuffer } {
    this.#alone();
    return { k: this.#keys[layer]!, v: this.#values[layer]! };
  }

  /** The gradient scratch attention's backward pass writes: dk, dv [n + T, Ckv]. */
  get scratch(): { dk: GPUBuffer; dv: GPUBuffer } {
    return this.#alone();
  }

  /**
   * After attention's backward pass filled {@linkcode PrefixAdapter.scratch}:
   * with `train`, adds its prefix rows into layer `layer`'s gradients; then
   * copies the sequence's rows into `dk` and `dv` [T, Ckv].
   */
  async backward(
    layer: number,
    out: { dk: GPUBuffer; dv: GPUBuffer },
    T: number,
    train: boolean,
  ): Promise<void> {
    const { dk, dv } = this.#alone();
    const gpu = this.#gpu;
    const names = prefixNames(layer);
    const n = this.length * this.#Ckv;
    if (train) {
      for (const [name, source] of [[names.key, dk], [names.value, dv]] as const) {
        await accumulateModelRows(gpu, this.grads, name, 0, source, ONE_MODEL, this.#Ckv);
      }
    }
    gpu.copy(dk, n * 4, out.dk, 0, T * this.#Ckv * 4);
    gpu.copy(dv, n * 4, out.dv, 0, T * this.#Ckv * 4);
  }

  /**
   * Records, for a pass of several models, the copy of model b's layer
   * `layer` prefix over the keys and values `k`, `v` [rows, Ckv] of its n
   * virtual rows (after RoPE: prefix keys are never rotated).
   */
  overwriteRows(layer: number, k: GPUBuffer, v: GPUBuffer, models: AdapterModels): void {
    modelsReached(models, this.count, "prefixes");
    const names = prefixNames(layer);
    for (const [name, target] of [[names.key, k], [names.value, v]] as const) {
      copyToModelRows(this.#gpu, this.params, name, this.stride, target, models, this.#Ckv);
    }
  }

  /**
   * After attention's backward pass of several models filled `dk`, `dv`
   * [rows, Ckv]: with `train`, adds each model's virtual rows into its
   * prefix's layer `layer` gradients; then zeroes those rows, so nothing
   * flows into the virtual rows' projections.
   */
  async backwardRows(
    layer: number,
    dk: GPUBuffer,
    dv: GPUBuffer,
    models: AdapterModels,
    train: boolean,
  ): Promise<void> {
    modelsReached(models, this.count, "prefixes");
    const names = prefixNames(layer);
    const rowBytes = models.rows * this.#Ckv * 4;
    for (const [name, source] of [[names.key, dk], [names.value, dv]] as const) {
      if (train) {
        await accumulateModelRows(
          this.#gpu,
          this.grads,
          name,
          this.stride,
          source,
          models,
          this.#Ckv,
        );
      }
      for (let b = 0; b < models.count; b++) {
        this.#gpu.clear(source, b * rowBytes, this.length * this.#Ckv * 4);
      }
    }
  }

  /**
   * Records the copy of every layer's prefix into rows 0 … n − 1 of a KV
   * cache (generation), so the sequence's keys follow at row n.
   */
  writeCache(cache: { readonly k: readonly GPUBuffer[]; readonly v: readonly GPUBuffer[] }): void {
    this.#alone();
    for (let l = 0; l < cache.k.length; l++) {
      const names = prefixNames(l);
      copyToModelRows(this.#gpu, this.params, names.key, 0, cache.k[l]!, ONE_MODEL, this.#Ckv);
      copyToModelRows(this.#gpu, this.params, names.value, 0, cache.v[l]!, ONE_MODEL, this.#Ckv);
    }
  }
}
