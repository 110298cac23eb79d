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
 * @module
 */

import type { Binding, Gpu } from "../../gpu/gpu.ts";
import { RandomStream } from "../../random/stream.ts";
import { headDim, type ModelConfig } from "../config.ts";
import type { Parameters, TensorShape } from "../layout.ts";
import { residualAccumulate } from "../ops/residual.ts";
import { adapterVectors, vec4View } from "./_layout.ts";

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
 * gradient scratch.
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
  readonly #gpu: Gpu;
  readonly #Ckv: number;
  readonly #keys: readonly GPUBuffer[];
  readonly #values: readonly GPUBuffer[];
  readonly #dk: GPUBuffer;
  readonly #dv: GPUBuffer;

  /** Allocates and initialises a prefix for passes of up to `rows` tokens. */

  constructor(gpu: Gpu, config: ModelConfig, rows: number, options: PrefixOptions) {
    const n = options.tokens;
    if (!Number.isInteger(n) || n < 1) {
      throw new RangeError(`Cannot create a prefix of ${n} rows: expected an integer ≥ 1`);
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
    for (const buffer of [...this.#keys, ...this.#values, this.#dk, this.#dv]) buffer.destroy();
  }

  #tensor(name: string): { buffer: GPUBuffer; offset: number } {
    return this.params.views.get(name)!.binding;
  }

  /**
   * Records the assembly of layer `layer`'s attention keys and values
   * [n + T, Ckv]: the prefix rows, then the sequence's `k` and `v` [T, Ckv]
   * (k already rotated). Returns the two buffers.
   */
  assemble(layer: number, k: GPUBuffer, v: GPUBuffer, T: number): { k: GPUBuffer; v: GPUBuffer } {
    const gpu = this.#gpu;
    const names = prefixNames(layer);
    const head = this.length * this.#Ckv * 4;
    for (
      const [name, source, target] of [
        [names.key, k, this.#keys[layer]!],
        [names.value, v, this.#values[layer]!],
      ] as const
    ) {
      const prefix = this.#tensor(name);
      gpu.copy(prefix.buffer, prefix.offset, target, 0, head);
      gpu.copy(source, 0, target, head, T * this.#Ckv * 4);
    }
    return { k: this.#keys[layer]!, v: this.#values[layer]! };
  }

  /** Layer `layer`'s keys and values [n + T, Ckv] as last assembled. */
  keysAndValues(layer: number): { k: GPUBuffer; v: GPUBuffer } {
    return { k: this.#keys[layer]!, v: this.#values[layer]! };
  }

  /** The gradient scratch attention's backward pass writes: dk, dv [n + T, Ckv]. */
  get scratch(): { dk: GPUBuffer; dv: GPUBuffer } {
    return { dk: this.#dk, dv: this.#dv };
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
    const gpu = this.#gpu;
    const names = prefixNames(layer);
    const n = this.length * this.#Ckv;
    if (train) {
      for (const [name, source] of [[names.key, this.#dk], [names.value, this.#dv]] as const) {
        const x: Binding = { buffer: source, offset: 0, size: Math.ceil(n / 4) * 16 };
        await residualAccumulate(gpu, { y: vec4View(this.grads, name), x }, { n });
      }
    }
    gpu.copy(this.#dk, n * 4, out.dk, 0, T * this.#Ckv * 4);
    gpu.copy(this.#dv, n * 4, out.dv, 0, T * this.#Ckv * 4);
  }

  /**
   * Records the copy of every layer's prefix into rows 0 … n − 1 of a KV
   * cache (generation), so the sequence's keys follow at row n.
   */
  writeCache(cache: { readonly k: readonly GPUBuffer[]; readonly v: readonly GPUBuffer[] }): void {
    const bytes = this.length * this.#Ckv * 4;
    for (let l = 0; l < cache.k.length; l++) {
      const names = prefixNames(l);
      const key = this.#tensor(names.key);
      const value = this.#tensor(names.value);
      this.#gpu.copy(key.buffer, key.offset, cache.k[l]!, 0, bytes);
      this.#gpu.copy(value.buffer, value.offset, cache.v[l]!, 0, bytes);
    }
  }
}
