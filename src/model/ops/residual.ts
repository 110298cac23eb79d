/**
 * The residual connection (DESIGN.md §3, model): `out = a + b`, the in-place
 * `y += x`, and the backward pass that adds the output gradient into both
 * branches, with plain TypeScript references.
 *
 * @module
 */

import * as kernels from "../../../kernels/mod.ts";
import type { Binding, Gpu } from "../../gpu/gpu.ts";
import { elementwise, LANES_PER_WORKGROUP } from "../../gpu/lanes.ts";

/** Shape of a residual op: n values per tensor. */
export interface ResidualShape {
  /** Elements of each tensor (tokens × channels). */
  n: number;
}

/**
 * Records `out = a + b`. Bindings must span ⌈n/4⌉·4 values (values past n
 * are left untouched).
 *
 * @example
 * ```ts
 * import { residualForward } from "./residual.ts";
 * import { Gpu } from "../../gpu/gpu.ts";
 * const gpu = await Gpu.create();
 * const a = gpu.upload(new Float32Array([1, 2, 3]));
 * const b = gpu.upload(new Float32Array([10, 20, 30]));
 * const out = gpu.buffer(12);
 * await residualForward(gpu, { out, a, b }, { n: 3 });
 * console.log(new Float32Array(await gpu.read(out), 0, 3)); // Float32Array [11, 22, 33]
 * gpu.destroy();
 * ```
 */
export async function residualForward(
  gpu: Gpu,
  buffers: { out: Binding; a: Binding; b: Binding },
  shape: ResidualShape,
): Promise<void> {
  const { uniform, workgroups } = elementwise("run residual forward", shape.n, buffers);
  await gpu.dispatch({
    kernel: kernels.residualForward,
    constants: { WG: LANES_PER_WORKGROUP },
    storage: [buffers.out, buffers.a, buffers.b],
    uniform,
    workgroups,
  });
}

/**
 * Records `y += x` in place.
 *
 * @example
 * ```ts
 * import { residualAccumulate } from "./residual.ts";
 * import { Gpu } from "../../gpu/gpu.ts";
 * const gpu = await Gpu.create();
 * const y = gpu.upload(new Float32Array([1, 2]));
 * const x = gpu.upload(new Float32Array([0.5, 0.5]));
 * await residualAccumulate(gpu, { y, x }, { n: 2 });
 * console.log(new Float32Array(await gpu.read(y), 0, 2)); // Float32Array [1.5, 2.5]
 * gpu.destroy();
 * ```
 */
export async function residualAccumulate(
  gpu: Gpu,
  buffers: { y: Binding; x: Binding },
  shape: ResidualShape,
): Promise<void> {
  const { uniform, workgroups } = elementwise("run residual accumulate", shape.n, buffers);
  await gpu.dispatch({
    kernel: kernels.residualAccumulate,
    constants: { WG: LANES_PER_WORKGROUP },
    storage: [buffers.y, buffers.x],
    uniform,
    workgroups,
  });
}

/**
 * Records the residual backward pass `da += dout; db += dout` (two
 * dispatches of the accumulate kernel).
 *
 * @example
 * ```ts
 * import { residualBackward } from "./residual.ts";
 * import { Gpu } from "../../gpu/gpu.ts";
 * const gpu = await Gpu.create();
 * const dout = gpu.upload(new Float32Array([1, 2]));
 * const da = gpu.buffer(8), db = gpu.upload(new Float32Array([1, 1]));
 * await residualBackward(gpu, { da, db, dout }, { n: 2 });
 * const [ga, gb] = await gpu.readMany([{ buffer: da, size: 8 }, { buffer: db, size: 8 }]);
 * console.log(new Float32Array(ga!), new Float32Array(gb!)); // Float32Array [1, 2] Float32Array [2, 3]
 * gpu.destroy();
 * ```
 */
export async function residualBackward(
  gpu: Gpu,
  buffers: { da: Binding; db: Binding; dout: Binding },
  shape: ResidualShape,
): Promise<void> {
  await residualAccumulate(gpu, { y: buffers.da, x: buffers.dout }, shape);
  await residualAccumulate(gpu, { y: buffers.db, x: buffers.dout }, shape);
}

/**
 * Plain TypeScript reference of {@linkcode residualForward}: `a + b`.
 *
 * @example
 * ```ts
 * import { residualForwardReference } from "./residual.ts";
 * console.log(residualForwardReference([1, 2], [3, 4])); // Float64Array [4, 6]
 * ```
 */
export function residualForwardReference(a: ArrayLike<number>, b: ArrayLike<number>): Float64Array {
  const out = new Float64Array(a.length);
  for (let i = 0; i < out.length; i++) out[i] = a[i]! + b[i]!;
  return out;
}

/**
 * Plain TypeScript reference of {@linkcode residualAccumulate}: returns `y + x`.
 *
 * @example
 * ```ts
 * import { residualAccumulateReference } from "./residual.ts";
 * console.log(residualAccumulateReference([1, 2], [3, 4])); // Float64Array [4, 6]
 * ```
 */
export function residualAccumulateReference(
  y: ArrayLike<number>,
  x: ArrayLike<number>,
): Float64Array {
  return residualForwardReference(y, x);
}
