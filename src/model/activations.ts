/**
 * The activation buffers of one forward/backward pass over up to `maxTokens`
 * tokens: what the forward pass saves for the backward pass, per layer, and
 * the scratch the backward pass needs. Allocated once per model and reused
 * by every step (no allocation on the hot path).
 *
 * Shapes (T tokens, C hidden, Ckv = KV heads × head dim, I intermediate,
 * H heads, V vocabulary):
 *
 * - per layer: `input` [T, C] (the residual stream entering the layer),
 *   `norm1` [T, C] + `rstd1` [T], `q` [T, C], `k`, `v` [T, Ckv] (after RoPE),
 *   `attention` [T, C] + `lse` [T, H], `middle` [T, C] (stream after
 *   attention), `norm2` [T, C] + `rstd2` [T], `gate`, `up`, `act` [T, I];
 * - final: `stream` [T, C] (last layer's output), `normF` + `rstdF`,
 *   `logits` [T, V] (overwritten by dlogits), `losses` [T];
 * - backward scratch: `dStream`, `dC` [T, C], `dq` [T, C], `dk`, `dv`
 *   [T, Ckv], `dI1`, `dI2`, `dI3` [T, I], `delta` [T, H], `dNorm` [C] (where
 *   RMSNorm weight gradients go when the model is frozen: the kernel always
 *   computes them, and they are O(T·C), unlike the linear layers' dW).
 *
 * @module
 */

import type { Gpu } from "../gpu/gpu.ts";
import type { ModelConfig } from "./config.ts";

/** Saved tensors of one decoder layer. */
export interface LayerActivations {
  /** Residual stream entering the layer [T, C]. */
  readonly input: GPUBuffer;
  /** Input RMSNorm output [T, C]. */
  readonly norm1: GPUBuffer;
  /** Its reciprocal RMS per token [T]. */
  readonly rstd1: GPUBuffer;
  /** Queries after RoPE [T, C]. */
  readonly q: GPUBuffer;
  /** Keys after RoPE [T, Ckv]. */
  readonly k: GPUBuffer;
  /** Values [T, Ckv]. */
  readonly v: GPUBuffer;
  /** Attention output [T, C]. */
  readonly attention: GPUBuffer;
  /** Softmax log-sum-exp per token and head [T, H]. */
  readonly lse: GPUBuffer;
  /** Residual stream after attention [T, C]. */
  readonly middle: GPUBuffer;
  /** Post-attention RMSNorm output [T, C]. */
  readonly norm2: GPUBuffer;
  /** Its reciprocal RMS per token [T]. */
  readonly rstd2: GPUBuffer;
  /** Gate projection [T, I]. */
  readonly gate: GPUBuffer;
  /** Up projection [T, I]. */
  readonly up: GPUBuffer;
  /** SwiGLU output [T, I]. */
  readonly act: GPUBuffer;
}

/** Every activation and scratch buffer of a pass over up to `maxTokens` tokens. */
export interface Activations {
  /** Longest pass the buffers hold. */
  readonly maxTokens: number;
  /** Per-layer saved tensors. */
  readonly layers: readonly LayerActivations[];
  /** Last layer's output [T, C]. */
  readonly stream: GPUBuffer;
  /** Final RMSNorm output [T, C]. */
  readonly normF: GPUBuffer;
  /** Its reciprocal RMS per token [T]. */
  readonly rstdF: GPUBuffer;
  /** Logits [T, V], overwritten by dlogits in the backward pass. */
  readonly logits: GPUBuffer;
  /** Per-token losses [T]. */
  readonly losses: GPUBuffer;
  /** Token ids (Int32) [T]. */
  readonly ids: GPUBuffer;
  /** Next-token targets (Int32, −100 masked) [T]. */
  readonly labels: GPUBuffer;
  /** Position of each token in its example (Int32) [T]. */
  readonly positions: GPUBuffer;
  /** First key each token may attend to (Int32) [T]. */
  readonly starts: GPUBuffer;
  /** Loss weight of each token of a packed row [T] (see `backward`'s `weighted`). */
  readonly weights: GPUBuffer;
  /** Gradient of the residual stream [T, C]. */
  readonly dStream: GPUBuffer;
  /** Scratch gradient [T, C]. */
  readonly dC: GPUBuffer;
  /** Gradient of the queries [T, C]. */
  readonly dq: GPUBuffer;
  /** Gradient of the keys [T, Ckv]. */
  readonly dk: GPUBuffer;
  /** Gradient of the values [T, Ckv]. */
  readonly dv: GPUBuffer;
  /** Scratch gradient [T, I]. */
  readonly dI1: GPUBuffer;
  /** Scratch gradient [T, I]. */
  readonly dI2: GPUBuffer;
  /** Scratch gradient [T, I]. */
  readonly dI3: GPUBuffer;
  /** Attention backward scratch [T, H]. */
  readonly delta: GPUBuffer;
  /** Norm-weight gradients of a frozen model (discarded) [C]. */
  readonly dNorm: GPUBuffer;
  /** Total bytes allocated (for the memory table). */
  readonly bytes: number;
}

/** Allocates the activations of `config` for passes of up to `maxTokens` tokens. */
export function allocateActivations(gpu: Gpu, config: ModelConfig, maxTokens: number): Activations {
  if (!Number.isInteger(maxTokens) || maxTokens < 1) {
    throw new RangeError(`Cannot allocate activations for ${maxTokens} tokens`);
  }
  const T = maxTokens;
  const C = config.hiddenSize;
  const H = config.numHeads;
  const Ckv = config.numKvHeads * (C / H);
  const I = config.intermediateSize;
  const V = config.vocabSize;
  let bytes = 0;
  const f32 = (elements: number, label: string) => {
    bytes += Math.max(16, Math.ceil(elements * 4 / 16) * 16);
    return gpu.buffer(elements * 4, label);
  };
  const layers = Array.from({ length: config.numLayers }, (_, l): LayerActivations => ({
    input: f32(T * C, `layer${l}.input`),
    norm1: f32(T * C, `layer${l}.norm1`),
    rstd1: f32(T, `layer${l}.rstd1`),
    q: f32(T * C, `layer${l}.q`),
    k: f32(T * Ckv, `layer${l}.k`),
    v: f32(T * Ckv, `layer${l}.v`),
    attention: f32(T * C, `layer${l}.attention`),
    lse: f32(T * H, `layer${l}.lse`),
    middle: f32(T * C, `layer${l}.middle`),
    norm2: f32(T * C, `layer${l}.norm2`),
    rstd2: f32(T, `layer${l}.rstd2`),
    gate: f32(T * I, `layer${l}.gate`),
    up: f32(T * I, `layer${l}.up`),
    act: f32(T * I, `layer${l}.act`),
  }));
  return {
    maxTokens,
    layers,
    stream: f32(T * C, "stream"),
    normF: f32(T * C, "normF"),
    rstdF: f32(T, "rstdF"),
    logits: f32(T * V, "logits"),
    losses: f32(T, "losses"),
    ids: f32(T, "ids"),
    labels: f32(T, "labels"),
    positions: f32(T, "positions"),
    starts: f32(T, "starts"),
    weights: f32(T, "weights"),
    dStream: f32(T * C, "dStream"),
    dC: f32(T * C, "dC"),
    dq: f32(T * C, "dq"),
    dk: f32(T * Ckv, "dk"),
    dv: f32(T * Ckv, "dv"),
    dI1: f32(T * I, "dI1"),
    dI2: f32(T * I, "dI2"),
    dI3: f32(T * I, "dI3"),
    delta: f32(T * H, "delta"),
    dNorm: f32(C, "dNorm"),
    get bytes() {
      return bytes;
    },
  };
}

/**
 * Frees every buffer of `activations`.
 *
 * @example
 * ```ts
 * import { allocateActivations, destroyActivations } from "./activations.ts";
 * import { Gpu } from "../gpu/gpu.ts";
 * import { PRESETS } from "./presets.ts";
 * const gpu = await Gpu.create();
 * const before = gpu.liveBytes;
 * destroyActivations(allocateActivations(gpu, PRESETS.ci, 8));
 * console.log(gpu.liveBytes === before); // true
 * gpu.destroy();
 * ```
 */
export function destroyActivations(activations: Activations): void {
  const free = (group: object) => {
    for (const value of Object.values(group)) if (value instanceof GPUBuffer) value.destroy();
  };
  activations.layers.forEach(free);
  free(activations);
}
