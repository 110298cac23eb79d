/**
 * RMSNorm as LLaMA defines it, `y = w ⊙ x / sqrt(mean(x²) + eps)` over each
 * row (DESIGN.md §3, model), forward and backward, with plain TypeScript
 * references.
 *
 * @module
 */

import * as kernels from "../../../kernels/mod.ts";
import type { Binding, Gpu } from "../../gpu/gpu.ts";
import { requireElements, requireFinite, requireInt } from "../../gpu/arguments.ts";
import { packUniform } from "../../gpu/uniform.ts";
import { groupsFor, type ModelRows, modelRows, WORKGROUP } from "./_common.ts";

/** Shape of an RMSNorm: T rows of C channels, and the epsilon. */
export interface RmsNormShape {
  /** Rows (tokens). */
  T: number;
  /** Channels. */
  C: number;
  /** Added to the mean square (LLaMA: 1e-5 or 1e-6). Defaults to 1e-5. */
  eps?: number;
}

function checkShape(action: string, shape: RmsNormShape): number {
  requireInt(action, "T", shape.T);
  requireInt(action, "C", shape.C);
  const eps = shape.eps ?? 1e-5;
  requireFinite(action, "eps", eps);
  if (eps < 0) throw new RangeError(`Cannot ${action}: eps must be ≥ 0, got ${eps}`);
  return eps;
}

/**
 * Whether the vec4 kernels run: rows of a multiple of 4 channels start on vec4
 * boundaries, so they move 4 values per storage access (binding offsets are
 * multiples of 256 bytes, so they stay aligned). Each model's w and dw do too
 * when the stride is a multiple of 4; otherwise the scalar kernels run, which
 * sum in the same order (the same results).
 */
function vec4Rows(C: number, count: number, stride: number): boolean {
  return C % 4 === 0 && (count === 1 || stride % 4 === 0);
}

/**
 * Records the RMSNorm forward pass: `y` [T, C] and the saved `rstd` [T].
 *
 * @param buffers `y` [T, C] and `rstd` [T] (written), `x` [T, C], `w` [C]
 *   (with `models`: [(count − 1)·stride + C], model b's weights at b·stride)
 * @param options `models`: B models of `rows` rows each in one call (T = count·rows), row t
 *   scaled by model ⌊t / rows⌋'s weights; each model's results are bit-identical to a call of
 *   its own. C a multiple of 4 runs the vec4 kernel when the stride is one too, else the scalar
 *   kernel (same results)
 *
 * @example
 * ```ts
 * import { rmsnormForward } from "./rmsnorm.ts";
 * import { Gpu } from "../../gpu/gpu.ts";
 * const gpu = await Gpu.create();
 * const x = gpu.upload(new Float32Array([3, 4]));
 * const w = gpu.upload(new Float32Array([1, 2]));
 * const y = gpu.buffer(8), rstd = gpu.buffer(4);
 * await rmsnormForward(gpu, { y, rstd, x, w }, { T: 1, C: 2, eps: 0 });
 * const out = new Float32Array(await gpu.read(y), 0, 2);
 * console.log(Array.from(out, (v) => v.toFixed(3))); // [ "0.849", "2.263" ]
 * gpu.destroy();
 * ```
 */
export async function rmsnormForward(
  gpu: Gpu,
  buffers: { y: Binding; rstd: Binding; x: Binding; w: Binding },
  shape: RmsNormShape,
  options: { models?: ModelRows } = {},
): Promise<void> {
  const action = "run RMSNorm forward";
  const eps = checkShape(action, shape);
  const { T, C } = shape;
  const { count, rows, stride } = modelRows(action, T, options.models);
  const step = count > 1 ? stride : 0; // one model: its stride is not used
  requireElements(action, "y", buffers.y, T * C);
  requireElements(action, "rstd", buffers.rstd, T);
  requireElements(action, "x", buffers.x, T * C);
  requireElements(action, "w", buffers.w, (count - 1) * stride + C);
  await gpu.dispatch({
    kernel: vec4Rows(C, count, stride) ? kernels.rmsnormForwardVec4 : kernels.rmsnormForward,
    constants: { WG: WORKGROUP },
    storage: [buffers.y, buffers.rstd, buffers.x, buffers.w],
    uniform: packUniform([["u", T], ["u", C], ["f", eps], ["u", rows], ["u", step]]),
    workgroups: groupsFor(T),
  });
}

/**
 * Records the RMSNorm backward pass in one dispatch: `dx` is written (or
 * added to, with `accumulate`), `dw` is always added to. Summation orders are
 * fixed, so results are bit-reproducible.
 *
 * @param buffers `dx` [T, C], `dw` [C], `dy` [T, C], `x` [T, C], `w` [C], `rstd` [T] (with
 *   `models`: `w` and `dw` [(count − 1)·stride + C], model b's at b·stride)
 * @param shape the forward shape (eps is not needed)
 * @param options `accumulate`: add into dx (e.g. the residual stream's gradient). `models`: B
 *   models of `rows` rows each in one call (T = count·rows): row t uses model ⌊t / rows⌋'s
 *   weights, and model b's dw (b·stride past the start; stride ≥ C when count > 1) sums its own
 *   rows only, so each model's dx and dw are bit-identical to a call of its own. C a multiple
 *   of 4 runs the vec4 kernel when the stride is one too, else the scalar kernel (same results)
 *
 * @example
 * ```ts
 * import { rmsnormBackward } from "./rmsnorm.ts";
 * import { Gpu } from "../../gpu/gpu.ts";
 * const gpu = await Gpu.create();
 * const x = gpu.upload(new Float32Array([3, 4]));
 * const w = gpu.upload(new Float32Array([1, 1]));
 * const rstd = gpu.upload(new Float32Array([1 / Math.sqrt(12.5)]));
 * const dy = gpu.upload(new Float32Array([1, 0]));
 * const dx = gpu.buffer(8), dw = gpu.buffer(8);
 * await rmsnormBackward(gpu, { dx, dw, dy, x, w, rstd }, { T: 1, C: 2 });
 * const [g] = await gpu.readMany([{ buffer: dx, size: 8 }]);
 * console.log(Array.from(new Float32Array(g!), (v) => v.toFixed(3))); // [ "0.181", "-0.136" ]
 * gpu.destroy();
 * ```
 */
export async function rmsnormBackward(
  gpu: Gpu,
  buffers: { dx: Binding; dw: Binding; dy: Binding; x: Binding; w: Binding; rstd: Binding },
  shape: RmsNormShape,
  options: { accumulate?: boolean; models?: ModelRows } = {},
): Promise<void> {
  const action = "run RMSNorm backward";
  checkShape(action, shape);
  const { T, C } = shape;
  const { count, rows, stride } = modelRows(action, T, options.models);
  const step = count > 1 ? stride : 0; // one model: its stride is not used
  if (count > 1 && stride < C) {
    throw new RangeError(
      `Cannot ${action}: the models' dw overlap (stride ${stride} < C = ${C})`,
    );
  }
  for (const name of ["dx", "dy", "x"] as const) {
    requireElements(action, name, buffers[name], T * C);
  }
  requireElements(action, "dw", buffers.dw, (count - 1) * stride + C);
  requireElements(action, "w", buffers.w, (count - 1) * stride + C);
  requireElements(action, "rstd", buffers.rstd, T);
  const vec4 = vec4Rows(C, count, stride);
  await gpu.dispatch({
    kernel: vec4 ? kernels.rmsnormBackwardVec4 : kernels.rmsnormBackward,
    constants: { WG: WORKGROUP, ACCUMULATE: options.accumulate ? 1 : 0 },
    storage: [buffers.dx, buffers.dw, buffers.dy, buffers.x, buffers.w, buffers.rstd],
    uniform: packUniform([["u", T], ["u", C], ["u", rows], ["u", step]]),
    workgroups: groupsFor(T + count * (vec4 ? C / 4 : C)),
  });
}

/**
 * Plain TypeScript reference of {@linkcode rmsnormForward} (double precision).
 *
 * @example
 * ```ts
 * import { rmsnormForwardReference } from "./rmsnorm.ts";
 * const { y, rstd } = rmsnormForwardReference([3, 4], [1, 2], { T: 1, C: 2, eps: 0 });
 * console.log(Array.from(y, (v) => v.toFixed(3)), rstd[0]!.toFixed(4)); // [ "0.849", "2.263" ] 0.2828
 * ```
 */
export function rmsnormForwardReference(
  x: ArrayLike<number>,
  w: ArrayLike<number>,
  shape: RmsNormShape,
): { y: Float64Array; rstd: Float64Array } {
  const { T, C } = shape;
  const eps = shape.eps ?? 1e-5;
  const y = new Float64Array(T * C);
  const rstd = new Float64Array(T);
  for (let t = 0; t < T; t++) {
    let ss = 0;
    for (let c = 0; c < C; c++) ss += x[t * C + c]! ** 2;
    const r = 1 / Math.sqrt(ss / C + eps);
    rstd[t] = r;
    for (let c = 0; c < C; c++) y[t * C + c] = w[c]! * (x[t * C + c]! * r);
  }
  return { y, rstd };
}

/**
 * Plain TypeScript reference of {@linkcode rmsnormBackward} (double
 * precision): `dx` (not accumulated) and `dw` (the gradient alone; the
 * kernel adds it to its `dw` buffer). rstd is recomputed from x.
 *
 * @example
 * ```ts
 * import { rmsnormBackwardReference } from "./rmsnorm.ts";
 * const { dx, dw } = rmsnormBackwardReference([1, 0], [3, 4], [1, 1], { T: 1, C: 2, eps: 0 });
 * console.log(Array.from(dx, (v) => v.toFixed(3)), Array.from(dw, (v) => v.toFixed(3))); // [ "0.181", "-0.136" ] [ "0.849", "0.000" ]
 * ```
 */
export function rmsnormBackwardReference(
  dy: ArrayLike<number>,
  x: ArrayLike<number>,
  w: ArrayLike<number>,
  shape: RmsNormShape,
): { dx: Float64Array; dw: Float64Array } {
  const { T, C } = shape;
  const { rstd } = rmsnormForwardReference(x, w, shape);
  const dx = new Float64Array(T * C);
  const dw = new Float64Array(C);
  for (let t = 0; t < T; t++) {
    const r = rstd[t]!;
    let s = 0;
    for (let c = 0; c < C; c++) s += w[c]! * dy[t * C + c]! * x[t * C + c]!;
    for (let c = 0; c < C; c++) {
      const i = t * C + c;
      dx[i] = r * w[c]! * dy[i]! - (r * r * r * s / C) * x[i]!;
      dw[c]! += dy[i]! * x[i]! * r;
    }
  }
  return { dx, dw };
}
