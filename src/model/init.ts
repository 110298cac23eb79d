/**
 * Deterministic initialisation of a model's flat parameter vector, as
 * `transformers`' LLaMA does it (`_init_weights` with
 * `initializer_range = 0.02`): every linear and embedding weight
 * ~ N(0, 0.02²), every RMSNorm weight = 1.
 *
 * Each tensor draws from its own stream, `stream.derive(<HF name>)`, so a
 * tensor's values do not depend on the chunking, on the other tensors or on
 * the order they are initialised in; the gaps between tensors stay zero.
 *
 * @module
 */

import type { RandomStream } from "../random/stream.ts";
import type { ParameterLayout } from "./layout.ts";

/** Options for {@linkcode initParameters}. */
export interface InitOptions {
  /** Standard deviation of linear and embedding weights (HF `initializer_range`, 0.02). */
  std?: number;
}

/**
 * A fresh flat Float32Array (`layout.length`) holding initial parameters,
 * ready to upload (`createParameters(gpu, config, { data })`).
 *
 * @example
 * ```ts
 * import { initParameters } from "./init.ts";
 * import { RandomStream } from "../random/stream.ts";
 * import { parameterLayout } from "./layout.ts";
 * import { PRESETS } from "./presets.ts";
 * const layout = parameterLayout(PRESETS.ci);
 * const flat = initParameters(layout, new RandomStream(1, "model/init"));
 * console.log(flat[layout.slot("model.norm.weight").offset]); // 1
 * ```
 */
export function initParameters(
  layout: ParameterLayout,
  stream: RandomStream,
  options: InitOptions = {},
): Float32Array {
  const std = options.std ?? 0.02;
  if (!Number.isFinite(std) || std < 0) {
    throw new RangeError(`Cannot initialise parameters with std ${std}`);
  }
  const flat = new Float32Array(layout.length);
  for (const slot of layout.tensors) {
    const values = flat.subarray(slot.offset, slot.offset + slot.numel);
    if (slot.kind === "norm") {
      values.fill(1);
      continue;
    }
    if (slot.kind === "bias") continue; // zero, as Hugging Face initialises biases
    const tensorStream = stream.derive(slot.name);
    for (let i = 0; i < values.length; i++) values[i] = std * tensorStream.normal();
  }
  return flat;
}
