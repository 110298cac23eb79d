/**
 * The ℓ2 norm of a chunked vector and clip-by-norm, both staying on the GPU
 * (DESIGN.md §3: one readback per step at most). The norm is a two-stage
 * reduction with fixed summation orders, so it is bit-reproducible; clipping
 * reads the norm from its GPU buffer, so it needs no readback.
 *
 * @module
 */

import * as kernels from "../../kernels/mod.ts";
import type { Binding } from "../gpu/gpu.ts";
import type { GpuVector } from "../gpu/vector.ts";
import { laneLayout, LANES_PER_WORKGROUP } from "../gpu/lanes.ts";
import { requireElements } from "../gpu/arguments.ts";
import { packUniform } from "../gpu/uniform.ts";

/** Partial-sum buffers, one per vector (their size depends only on its chunking). */
const scratch = new WeakMap<GpuVector, { buffer: GPUBuffer; count: number }>();

function partials(vector: GpuVector): { buffer: GPUBuffer; count: number } {
  let entry = scratch.get(vector);
  if (!entry) {
    let count = 0;
    for (const chunk of vector.chunks) {
      const n4 = Math.ceil(chunk.length / 4);
      if (n4 > 0) count += laneLayout(n4).workgroups;
    }
    entry = { buffer: vector.gpu.buffer(Math.max(1, count) * 4, "grad norm partials"), count };
    scratch.set(vector, entry);
  }
  return entry;
}

/**
 * Records `result[0] = ‖x‖₂` and `result[1] = ‖x‖₂²` into the pending batch.
 * An empty vector has norm 0.
 *
 * @param result a binding of at least 2 f32 values
 *
 * @example
 * ```ts
 * import { gradNorm } from "./grad_norm.ts";
 * import { Gpu } from "../gpu/gpu.ts";
 * import { GpuVector } from "../gpu/vector.ts";
 * const gpu = await Gpu.create();
 * const g = GpuVector.from(gpu, new Float32Array([3, 4, 0, 0, 0]), { chunkElements: 4 });
 * const result = gpu.buffer(8);
 * await gradNorm(g, result);
 * console.log(new Float32Array(await gpu.read(result), 0, 2)); // Float32Array [5, 25]
 * gpu.destroy();
 * ```
 */
export async function gradNorm(x: GpuVector, result: Binding): Promise<void> {
  requireElements("compute a gradient norm", "result", result, 2);
  const gpu = x.gpu;
  const { buffer, count } = partials(x);
  let offset = 0;
  for (const chunk of x.chunks) {
    const n4 = Math.ceil(chunk.length / 4);
    if (n4 === 0) continue;
    const { perLane, workgroups } = laneLayout(n4);
    await gpu.dispatch({
      kernel: kernels.gradnormPartial,
      constants: { WG: LANES_PER_WORKGROUP },
      storage: [buffer, chunk.buffer],
      uniform: packUniform([["u", n4], ["u", perLane], ["u", offset]]),
      workgroups,
    });
    offset += workgroups;
  }
  await gpu.dispatch({
    kernel: kernels.gradnormFinalize,
    constants: { WG: LANES_PER_WORKGROUP },
    storage: [result, buffer],
    uniform: packUniform([["u", count], ["u", Math.ceil(count / LANES_PER_WORKGROUP)]]),
    workgroups: 1,
  });
}

/**
 * Records `x ← x · min(1, maxNorm / (norm + 1e−6))` with `norm` read from
 * the GPU at `norm[0]` (e.g. {@linkcode gradNorm}'s result), as
 * `torch.nn.utils.clip_grad_norm_` scales.
 *
 * @example
 * ```ts
 * import { clipByNorm, gradNorm } from "./grad_norm.ts";
 * import { Gpu } from "../gpu/gpu.ts";
 * import { GpuVector } from "../gpu/vector.ts";
 * const gpu = await Gpu.create();
 * const g = GpuVector.from(gpu, new Float32Array([3, 4]));
 * const norm = gpu.buffer(8);
 * await gradNorm(g, norm);
 * await clipByNorm(g, norm, 1);
 * console.log(Array.from(await g.read(), (v) => v.toFixed(3))); // [ "0.600", "0.800" ]
 * gpu.destroy();
 * ```
 */
export async function clipByNorm(x: GpuVector, norm: Binding, maxNorm: number): Promise<void> {
  requireElements("clip by norm", "norm", norm, 1);
  if (!(maxNorm > 0) || !Number.isFinite(maxNorm)) {
    throw new RangeError(`Cannot clip by norm: maxNorm must be finite and > 0, got ${maxNorm}`);
  }
  for (const chunk of x.chunks) {
    const n4 = Math.ceil(chunk.length / 4);
    if (n4 === 0) continue;
    const { perLane, workgroups } = laneLayout(n4);
    await x.gpu.dispatch({
      kernel: kernels.clipByNorm,
      constants: { WG: LANES_PER_WORKGROUP },
      storage: [chunk.buffer, norm],
      uniform: packUniform([["u", n4], ["u", perLane], ["f", maxNorm]]),
      workgroups,
    });
  }
}

/**
 * Records {@linkcode gradNorm} into `result` then {@linkcode clipByNorm}
 * by it: the gradient is clipped and its pre-clipping norm stays in `result[0]`.
 *
 * @example
 * ```ts
 * import { clipGradNorm } from "./grad_norm.ts";
 * import { Gpu } from "../gpu/gpu.ts";
 * import { GpuVector } from "../gpu/vector.ts";
 * const gpu = await Gpu.create();
 * const g = GpuVector.from(gpu, new Float32Array([0.3, 0.4]));
 * const result = gpu.buffer(8);
 * await clipGradNorm(g, result, 1); // below the threshold: unchanged
 * const [norm] = new Float32Array(await gpu.read(result), 0, 1);
 * console.log(norm, Array.from(await g.read(), (v) => v.toFixed(2))); // 0.5 [ "0.30", "0.40" ]
 * gpu.destroy();
 * ```
 */
export async function clipGradNorm(x: GpuVector, result: Binding, maxNorm: number): Promise<void> {
  await gradNorm(x, result);
  await clipByNorm(x, result, maxNorm);
}

/**
 * Plain TypeScript reference of {@linkcode gradNorm} (double precision): ‖x‖₂.
 *
 * @example
 * ```ts
 * import { gradNormReference } from "./grad_norm.ts";
 * console.log(gradNormReference([3, 4])); // 5
 * ```
 */
export function gradNormReference(x: ArrayLike<number>): number {
  let sum = 0;
  for (let i = 0; i < x.length; i++) sum += x[i]! * x[i]!;
  return Math.sqrt(sum);
}

/**
 * Plain TypeScript reference of {@linkcode clipByNorm}: `x · min(1, maxNorm / (norm + 1e−6))`.
 *
 * @example
 * ```ts
 * import { clipByNormReference } from "./grad_norm.ts";
 * console.log(clipByNormReference([3, 4], 5, 10)); // Float64Array [3, 4]
 * ```
 */
export function clipByNormReference(
  x: ArrayLike<number>,
  norm: number,
  maxNorm: number,
): Float64Array {
  const coef = Math.min(1, maxNorm / (norm + 1e-6));
  return Float64Array.from(x, (v) => v * coef);
}
