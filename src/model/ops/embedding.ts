/**
 * Token embedding (DESIGN.md §3, model): forward lookup and a deterministic
 * backward scatter-add, with their plain TypeScript references.
 *
 * @module
 */

import * as kernels from "../../../kernels/mod.ts";
import type { Binding, Gpu } from "../../gpu/gpu.ts";
import { requireElements, requireInt } from "../../gpu/arguments.ts";
import { packUniform } from "../../gpu/uniform.ts";
import { groupsFor, type ModelRows, modelRows, WORKGROUP } from "./_common.ts";

/** Shape of an embedding lookup: T tokens, C channels, V vocabulary rows. */
export interface EmbeddingShape {
  /** Tokens. */
  T: number;
  /** Channels (hidden size). */
  C: number;
  /** Rows of the embedding table (vocabulary size). */
  V: number;
}

function checkShape(action: string, shape: EmbeddingShape): void {
  requireInt(action, "T", shape.T);
  requireInt(action, "C", shape.C);
  requireInt(action, "V", shape.V);
}

/**
 * Records `x[t, :] = wte[ids[t], :]` into the pending batch. An id outside
 * [0, V) produces a row of NaN.
 *
 * @param buffers `x` [T, C] (written), `ids` Int32 [T], `wte` [V, C] (with `models`:
 *   [(count − 1)·stride + V·C], model b's table at b·stride)
 * @param options `models`: B models of `rows` tokens each in one call (T = count·rows), token t
 *   looking up model ⌊t / rows⌋'s table; each model's rows are those of a call of its own
 *
 * @example
 * ```ts
 * import { embeddingForward } from "./embedding.ts";
 * import { Gpu } from "../../gpu/gpu.ts";
 * const gpu = await Gpu.create();
 * const wte = gpu.upload(new Float32Array([1, 2, 3, 4, 5, 6])); // V = 3, C = 2
 * const ids = gpu.upload(new Int32Array([2, 0]));
 * const x = gpu.buffer(2 * 2 * 4);
 * await embeddingForward(gpu, { x, ids, wte }, { T: 2, C: 2, V: 3 });
 * console.log(new Float32Array(await gpu.read(x))); // Float32Array [5, 6, 1, 2]
 * gpu.destroy();
 * ```
 */
export async function embeddingForward(
  gpu: Gpu,
  buffers: { x: Binding; ids: Binding; wte: Binding },
  shape: EmbeddingShape,
  options: { models?: ModelRows } = {},
): Promise<void> {
  const action = "run embedding forward";
  checkShape(action, shape);
  const { T, C, V } = shape;
  const { count, rows, stride } = modelRows(action, T, options.models);
  const step = count > 1 ? stride : 0; // one model: its stride is not used
  requireElements(action, "x", buffers.x, T * C);
  requireElements(action, "ids", buffers.ids, T);
  requireElements(action, "wte", buffers.wte, (count - 1) * stride + V * C);
  const blocks = Math.ceil(C / 16);
  await gpu.dispatch({
    kernel: kernels.embeddingForward,
    constants: { WG: WORKGROUP },
    storage: [buffers.x, buffers.ids, buffers.wte],
    uniform: packUniform([["u", T], ["u", C], ["u", V], ["u", blocks], ["u", rows], ["u", step]]),
    workgroups: groupsFor(T * blocks),
  });
}

/**
 * Records `dwte[ids[t], :] += dx[t, :]` (t in order) into the pending batch.
 * One lane per channel owns a column, so no float atomics are needed and the
 * result is bit-reproducible. Ids outside [0, V) are skipped.
 *
 * @param buffers `dwte` [V, C] (accumulated; with `models`: [(count − 1)·stride + V·C], model
 *   b's at b·stride), `ids` Int32 [T], `dx` [T, C]
 * @param options `models`: B models of `rows` tokens each in one call (T = count·rows, stride
 *   ≥ V·C when count > 1): model b's dwte collects its own tokens only, bit-identical to a call
 *   of its own
 *
 * @example
 * ```ts
 * import { embeddingBackward } from "./embedding.ts";
 * import { Gpu } from "../../gpu/gpu.ts";
 * const gpu = await Gpu.create();
 * const dwte = gpu.buffer(3 * 2 * 4); // V = 3, C = 2, zeros
 * const ids = gpu.upload(new Int32Array([2, 2]));
 * const dx = gpu.upload(new Float32Array([1, 2, 10, 20]));
 * await embeddingBackward(gpu, { dwte, ids, dx }, { T: 2, C: 2, V: 3 });
 * console.log(new Float32Array(await gpu.read(dwte), 0, 6)); // Float32Array [0, 0, 0, 0, 11, 22]
 * gpu.destroy();
 * ```
 */
export async function embeddingBackward(
  gpu: Gpu,
  buffers: { dwte: Binding; ids: Binding; dx: Binding },
  shape: EmbeddingShape,
  options: { models?: ModelRows } = {},
): Promise<void> {
  const action = "run embedding backward";
  checkShape(action, shape);
  const { T, C, V } = shape;
  const { count, rows, stride } = modelRows(action, T, options.models);
  const step = count > 1 ? stride : 0; // one model: its stride is not used
  if (count > 1 && stride < V * C) {
    throw new RangeError(
      `Cannot ${action}: the models' dwte overlap (stride ${stride} < V·C = ${V * C})`,
    );
  }
  requireElements(action, "dwte", buffers.dwte, (count - 1) * stride + V * C);
  requireElements(action, "ids", buffers.ids, T);
  requireElements(action, "dx", buffers.dx, T * C);
  await gpu.dispatch({
    kernel: kernels.embeddingBackward,
    constants: { WG: WORKGROUP },
    storage: [buffers.dwte, buffers.ids, buffers.dx],
    uniform: packUniform([["u", T], ["u", C], ["u", V], ["u", rows], ["u", step]]),
    workgroups: groupsFor(count * C),
  });
}

/**
 * Plain TypeScript reference of {@linkcode embeddingForward} (double
 * precision): `x[t, :] = wte[ids[t], :]`, NaN rows for ids outside [0, V).
 *
 * @example
 * ```ts
 * import { embeddingForwardReference } from "./embedding.ts";
 * const x = embeddingForwardReference([1, 0], [1, 2, 3, 4], { T: 2, C: 2, V: 2 });
 * console.log(x); // Float64Array [3, 4, 1, 2]
 * ```
 */
export function embeddingForwardReference(
  ids: ArrayLike<number>,
  wte: ArrayLike<number>,
  shape: EmbeddingShape,
): Float64Array {
  const { T, C, V } = shape;
  const x = new Float64Array(T * C);
  for (let t = 0; t < T; t++) {
    const id = ids[t]!;
    for (let c = 0; c < C; c++) {
      x[t * C + c] = id >= 0 && id < V ? wte[id * C + c]! : NaN;
    }
  }
  return x;
}

/**
 * Plain TypeScript reference of {@linkcode embeddingBackward}: returns
 * `dwte + scatter(dx)` (double precision; tokens added in order).
 *
 * @example
 * ```ts
 * import { embeddingBackwardReference } from "./embedding.ts";
 * const dwte = embeddingBackwardReference([1, 1], [1, 2], new Float64Array(2), { T: 2, C: 1, V: 2 });
 * console.log(dwte); // Float64Array [0, 3]
 * ```
 */
export function embeddingBackwardReference(
  ids: ArrayLike<number>,
  dx: ArrayLike<number>,
  dwte: ArrayLike<number>,
  shape: EmbeddingShape,
): Float64Array {
  const { T, C, V } = shape;
  const out = Float64Array.from(dwte);
  for (let t = 0; t < T; t++) {
    const id = ids[t]!;
    if (id < 0 || id >= V) continue;
    for (let c = 0; c < C; c++) out[id * C + c]! += dx[t * C + c]!;
  }
  return out;
}
