/**
 * How element-wise kernels spread a chunk over lanes: each lane owns a
 * contiguous run of vec4s, which streams best on CPU adapters, and there
 * are enough lanes to keep every core of a real GPU busy.
 *
 * @module
 */

import { requireElements, requireInt } from "./arguments.ts";
import type { Binding } from "./gpu.ts";
import { packUniform } from "./uniform.ts";

/** Invocations per workgroup of the element-wise kernels. */
export const LANES_PER_WORKGROUP = 64;

/** Lanes × vec4s-per-lane covering `n4` vec4s, and the workgroups to launch. */
export function laneLayout(n4: number, targetLanes = 16384): {
  perLane: number;
  workgroups: number;
} {
  const lanes = Math.max(1, Math.min(targetLanes, n4));
  const perLane = Math.max(1, Math.ceil(n4 / lanes));
  const workgroups = Math.ceil(Math.ceil(n4 / perLane) / LANES_PER_WORKGROUP);
  return { perLane, workgroups };
}

/**
 * Checks an element-wise op's bindings and returns its uniform and grid. The
 * kernels read and write vec4s (the last one masked), so every binding must
 * span whole vec4s: ⌈n/4⌉·4 values (buffers from `gpu.buffer` always do).
 */
export function elementwise(
  action: string,
  n: number,
  bindings: Readonly<Record<string, Binding>>,
): { uniform: Uint8Array<ArrayBuffer>; workgroups: number } {
  requireInt(action, "n", n);
  const n4 = Math.ceil(n / 4);
  for (const [name, binding] of Object.entries(bindings)) {
    requireElements(action, name, binding, n4 * 4);
  }
  const { perLane, workgroups } = laneLayout(n4);
  return { uniform: packUniform([["u", n], ["u", n4], ["u", perLane]]), workgroups };
}
