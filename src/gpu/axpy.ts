/**
 * `y ← y + a·x` on chunked GPU vectors (kernel `axpy`).
 *
 * @module
 */

import * as kernels from "../../kernels/mod.ts";
import type { GpuVector } from "./vector.ts";
import { laneLayout, LANES_PER_WORKGROUP } from "./lanes.ts";

/**
 * Records `y ← y + a·x` into the pending GPU batch.
 *
 * @example
 * ```ts
 * import { axpy } from "./axpy.ts";
 * import { Gpu } from "./gpu.ts";
 * import { GpuVector } from "./vector.ts";
 * const gpu = await Gpu.create();
 * const x = GpuVector.from(gpu, new Float32Array([1, 2, 3]));
 * const y = GpuVector.from(gpu, new Float32Array([10, 20, 30]));
 * await axpy(2, x, y);
 * console.log(await y.read()); // Float32Array [12, 24, 36]
 * gpu.destroy();
 * ```
 */
export async function axpy(a: number, x: GpuVector, y: GpuVector): Promise<void> {
  y.assertSameShape(x, "axpy");
  if (!Number.isFinite(a)) throw new RangeError(`Cannot axpy with a = ${a}`);
  const params = new ArrayBuffer(16);
  for (let i = 0; i < y.chunks.length; i++) {
    const target = y.chunks[i]!;
    const n4 = Math.ceil(target.length / 4);
    if (n4 === 0) continue;
    const { perLane, workgroups } = laneLayout(n4);
    new Uint32Array(params, 0, 2).set([n4, perLane]);
    new Float32Array(params, 8, 1)[0] = a;
    await y.gpu.dispatch({
      kernel: kernels.axpy,
      constants: { WG: LANES_PER_WORKGROUP },
      storage: [target.buffer, x.chunks[i]!.buffer],
      uniform: new Uint8Array(params.slice(0)),
      workgroups,
    });
  }
}

/**
 * Plain TypeScript reference of {@linkcode axpy} (f32 rounding, fused multiply-add).
 *
 * @example
 * ```ts
 * import { axpyReference } from "./axpy.ts";
 * console.log(axpyReference(2, new Float32Array([1, 2]), new Float32Array([3, 4]))); // Float32Array [5, 8]
 * ```
 */
export function axpyReference(a: number, x: Float32Array, y: Float32Array): Float32Array {
  const out = new Float32Array(y.length);
  for (let i = 0; i < y.length; i++) out[i] = Math.fround(a) * x[i]! + y[i]!;
  return out;
}
