/**
 * SwiGLU, the gated activation of LLaMA's MLP (DESIGN.md §3, model):
 * `h = silu(gate) ⊙ up` with `silu(g) = g·σ(g)`, forward and backward, with
 * plain TypeScript references.
 *
 * @module
 */

import * as kernels from "../../../kernels/mod.ts";
import type { Binding, Gpu } from "../../gpu/gpu.ts";
import { elementwise, LANES_PER_WORKGROUP } from "../../gpu/lanes.ts";

/** Shape of a SwiGLU call: n = T · F values per tensor. */
export interface SwigluShape {
  /** Elements of each tensor (tokens × intermediate size). */
  n: number;
}

/**
 * Records `h = silu(gate) ⊙ up`. Bindings must span ⌈n/4⌉·4 values (values
 * past n are left untouched).
 *
 * @example
 * ```ts
 * import { swigluForward } from "./swiglu.ts";
 * import { Gpu } from "../../gpu/gpu.ts";
 * const gpu = await Gpu.create();
 * const gate = gpu.upload(new Float32Array([0, 1, -1]));
 * const up = gpu.upload(new Float32Array([5, 2, 2]));
 * const h = gpu.buffer(12);
 * await swigluForward(gpu, { h, gate, up }, { n: 3 });
 * const out = new Float32Array(await gpu.read(h), 0, 3);
 * console.log(Array.from(out, (v) => v.toFixed(4))); // [ "0.0000", "1.4621", "-0.5379" ]
 * gpu.destroy();
 * ```
 */
export async function swigluForward(
  gpu: Gpu,
  buffers: { h: Binding; gate: Binding; up: Binding },
  shape: SwigluShape,
): Promise<void> {
  const { uniform, workgroups } = elementwise("run SwiGLU forward", shape.n, buffers);
  await gpu.dispatch({
    kernel: kernels.swigluForward,
    constants: { WG: LANES_PER_WORKGROUP },
    storage: [buffers.h, buffers.gate, buffers.up],
    uniform,
    workgroups,
  });
}

/**
 * Records the SwiGLU backward pass: `dgate` and `dup` are overwritten.
 *
 * @example
 * ```ts
 * import { swigluBackward } from "./swiglu.ts";
 * import { Gpu } from "../../gpu/gpu.ts";
 * const gpu = await Gpu.create();
 * const gate = gpu.upload(new Float32Array([0]));
 * const up = gpu.upload(new Float32Array([3]));
 * const dh = gpu.upload(new Float32Array([1]));
 * const dgate = gpu.buffer(4), dup = gpu.buffer(4);
 * await swigluBackward(gpu, { dgate, dup, dh, gate, up }, { n: 1 });
 * console.log(new Float32Array(await gpu.read(dgate), 0, 1)); // Float32Array [1.5]
 * gpu.destroy();
 * ```
 */
export async function swigluBackward(
  gpu: Gpu,
  buffers: { dgate: Binding; dup: Binding; dh: Binding; gate: Binding; up: Binding },
  shape: SwigluShape,
): Promise<void> {
  const { uniform, workgroups } = elementwise("run SwiGLU backward", shape.n, buffers);
  await gpu.dispatch({
    kernel: kernels.swigluBackward,
    constants: { WG: LANES_PER_WORKGROUP },
    storage: [buffers.dgate, buffers.dup, buffers.dh, buffers.gate, buffers.up],
    uniform,
    workgroups,
  });
}

function sigmoid(g: number): number {
  return 1 / (1 + Math.exp(-g));
}

/**
 * Plain TypeScript reference of {@linkcode swigluForward} (double precision).
 *
 * @example
 * ```ts
 * import { swigluForwardReference } from "./swiglu.ts";
 * console.log(Array.from(swigluForwardReference([1], [2]), (v) => v.toFixed(4))); // [ "1.4621" ]
 * ```
 */
export function swigluForwardReference(
  gate: ArrayLike<number>,
  up: ArrayLike<number>,
): Float64Array {
  const h = new Float64Array(gate.length);
  for (let i = 0; i < h.length; i++) h[i] = gate[i]! * sigmoid(gate[i]!) * up[i]!;
  return h;
}

/**
 * Plain TypeScript reference of {@linkcode swigluBackward} (double precision).
 *
 * @example
 * ```ts
 * import { swigluBackwardReference } from "./swiglu.ts";
 * const { dgate, dup } = swigluBackwardReference([1], [0], [3]);
 * console.log(dgate, dup); // Float64Array [1.5] Float64Array [0]
 * ```
 */
export function swigluBackwardReference(
  dh: ArrayLike<number>,
  gate: ArrayLike<number>,
  up: ArrayLike<number>,
): { dgate: Float64Array; dup: Float64Array } {
  const dgate = new Float64Array(gate.length);
  const dup = new Float64Array(gate.length);
  for (let i = 0; i < gate.length; i++) {
    const g = gate[i]!;
    const s = sigmoid(g);
    dup[i] = dh[i]! * g * s;
    dgate[i] = dh[i]! * up[i]! * s * (1 + g * (1 - s));
  }
  return { dgate, dup };
}
