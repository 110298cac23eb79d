/**
 * What the layer kernels' TypeScript wrappers share beyond the GPU plumbing
 * of `src/gpu/` (argument checks, uniforms, specialisation, lane layout):
 * the workgroup size of the row- and lane-parallel layer kernels. Private to
 * `src/model/ops/` (not re-exported).
 *
 * Two facts about CPU adapters (Mesa llvmpipe) shape the kernels:
 * - The shader compiler ends every loop of an invocation once the
 *   invocation has run 65535 loop iterations in total, silently. Loops with
 *   a constant trip count of at most 32 (and a small body) are unrolled and
 *   do not count. Kernels therefore step through long rows in unrolled
 *   blocks (4 or 8 values per iteration), split long loops over dispatches,
 *   and write NaN where a loop could still be cut short.
 * - Every storage load is a scalar loop over the SIMD lanes, even when all
 *   lanes read the same address, so kernels whose lanes share rows (attention)
 *   load each row once per subgroup and hand it on with subgroup broadcasts.
 * - lavapipe (Mesa 22.x) inlines uniform values that decide a loop bound or
 *   a branch into the shader and, when that shrinks the shader by half (a
 *   short loop unrolled away), recompiles it with LLVM at every dispatch
 *   whose uniform buffer is new — which is every dispatch here: 1–8 ms each,
 *   seen at small T as kernels far slower than their work. Kernels therefore
 *   pass such sizes and flags through `arrayLength` of a binding
 *   (`min(p.T, arrayLength(&rstd))`), which no compiler can fold.
 *
 * @module
 */

/** Invocations per workgroup of the row- and lane-parallel layer kernels. */
export const WORKGROUP = 64;

/** Workgroups of {@linkcode WORKGROUP} lanes covering `lanes` lanes. */
export function groupsFor(lanes: number): number {
  return Math.ceil(lanes / WORKGROUP);
}
