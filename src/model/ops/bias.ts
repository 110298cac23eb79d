/**
 * Biases of the attention projections (Qwen2: q, k and v have one,
 * paper.md §5.2 Table 9): the forward `y[t, :] += b` after the matmul and
 * its gradient `db += Σ_t dy[t, :]`, with plain TypeScript references.
 *
 * @module
 */

import * as kernels from "../../../kernels/mod.ts";
import type { Binding, Gpu } from "../../gpu/gpu.ts";
import { requireElements, requireInt } from "../../gpu/arguments.ts";
import { laneLayout, LANES_PER_WORKGROUP } from "../../gpu/lanes.ts";
import { packUniform } from "../../gpu/uniform.ts";
import { groupsFor } from "./_common.ts";

/** Shape of a bias op: T rows of C values (C a multiple of 4). */
export interface BiasShape {
  /** Rows (tokens). */
  T: number;
  /** Values per row. */
  C: number;
}

function check(action: string, shape: BiasShape, rows: Binding, bias: Binding): void {
  requireInt(action, "T", shape.T);
  requireInt(action, "C", shape.C);
  if (shape.C % 4 !== 0) {
    throw new RangeError(`Cannot ${action} with C = ${shape.C}: expected a multiple of 4`);
  }
  requireElements(action, "rows", rows, shape.T * shape.C);
  requireElements(action, "bias", bias, shape.C);
}

/**
 * Records `y[t, c] += b[c]` for every row.
 *
 * @example
 * ```ts
 * import { biasAdd } from "./bias.ts";
 * import { Gpu } from "../../gpu/gpu.ts";
 * const gpu = await Gpu.create();
 * const y = gpu.upload(new Float32Array([1, 2, 3, 4, 5, 6, 7, 8]));
 * const b = gpu.upload(new Float32Array([10, 20, 30, 40]));
 * await biasAdd(gpu, { y, b }, { T: 2, C: 4 });
 * console.log(new Float32Array(await gpu.read(y))); // Float32Array(8) [ 11, 22, 33, 44, 15, 26, 37, 48 ]
 * gpu.destroy();
 * ```
 */
export async function biasAdd(
  gpu: Gpu,
  buffers: { y: Binding; b: Binding },
  shape: BiasShape,
): Promise<void> {
  check("add a bias", shape, buffers.y, buffers.b);
  const n4 = (shape.T * shape.C) / 4;
  const { perLane, workgroups } = laneLayout(n4);
  await gpu.dispatch({
    kernel: kernels.biasAdd,
    constants: { WG: LANES_PER_WORKGROUP },
    storage: [buffers.y, buffers.b],
    uniform: packUniform([["u", n4], ["u", shape.C / 4], ["u", perLane]]),
    workgroups,
  });
}

/**
 * Records `db[c] += Σ_t dy[t, c]`.
 *
 * @example
 * ```ts
 * import { biasGrad } from "./bias.ts";
 * import { Gpu } from "../../gpu/gpu.ts";
 * const gpu = await Gpu.create();
 * const dy = gpu.upload(new Float32Array([1, 2, 3, 4, 5, 6, 7, 8]));
 * const db = gpu.upload(new Float32Array([0.5, 0, 0, 0]));
 * await biasGrad(gpu, { db, dy }, { T: 2, C: 4 });
 * console.log(new Float32Array(await gpu.read(db))); // Float32Array(4) [ 6.5, 8, 10, 12 ]
 * gpu.destroy();
 * ```
 */
export async function biasGrad(
  gpu: Gpu,
  buffers: { db: Binding; dy: Binding },
  shape: BiasShape,
): Promise<void> {
  check("take a bias gradient", shape, buffers.dy, buffers.db);
  const c4 = shape.C / 4;
  await gpu.dispatch({
    kernel: kernels.biasGrad,
    constants: { WG: LANES_PER_WORKGROUP },
    storage: [buffers.db, buffers.dy],
    uniform: packUniform([["u", shape.T], ["u", c4]]),
    workgroups: groupsFor(c4),
  });
}

/**
 * Plain TypeScript reference of {@linkcode biasAdd}: `y + b` row by row.
 *
 * @example
 * ```ts
 * import { biasAddReference } from "./bias.ts";
 * console.log(biasAddReference([1, 2, 3, 4], [1, 0], 2)); // Float64Array(4) [ 2, 2, 4, 4 ]
 * ```
 */
export function biasAddReference(
  y: ArrayLike<number>,
  b: ArrayLike<number>,
  C: number,
): Float64Array {
  return Float64Array.from({ length: y.length }, (_, i) => y[i]! + b[i % C]!);
}

/**
 * Plain TypeScript reference of {@linkcode biasGrad}: the column sums of `dy` added to `db`.
 *
 * @example
 * ```ts
 * import { biasGradReference } from "./bias.ts";
 * console.log(biasGradReference([1, 2, 3, 4], [0, 1], 2)); // Float64Array(2) [ 4, 7 ]
 * ```
 */
export function biasGradReference(
  dy: ArrayLike<number>,
  db: ArrayLike<number>,
  C: number,
): Float64Array {
  const out = Float64Array.from(db);
  for (let i = 0; i < dy.length; i++) out[i % C]! += dy[i]!;
  return out;
}
