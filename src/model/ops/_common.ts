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

/**
 * B independent models of one architecture run by one dispatch per kernel
 * (src/model/model_batch.ts): their tokens sit one model after another,
 * `rows` each, and their parameters (and gradients) `stride` elements apart
 * in one buffer, so a kernel finds a row's model as `row / rows` and that
 * model's weights `model · stride` elements past the first model's.
 * Absent: one model (`count` 1, all rows, stride 0).
 */
export interface ModelRows {
  /** Models B (≥ 1). */
  readonly count: number;
  /** Rows (tokens) per model: model b owns rows b·rows … b·rows + rows − 1. */
  readonly rows: number;
  /** Elements from one model's parameter tensor to the next model's same tensor. */
  readonly stride: number;
}

/**
 * Checks `models` against `T` rows in all and returns it, or one model of
 * `T` rows when absent.
 */
export function modelRows(action: string, T: number, models?: ModelRows): ModelRows {
  if (!models) return { count: 1, rows: T, stride: 0 };
  const { count, rows, stride } = models;
  if (
    !Number.isInteger(count) || count < 1 || !Number.isInteger(rows) || rows < 1 ||
    !Number.isInteger(stride) || stride < 0
  ) {
    throw new RangeError(
      `Cannot ${action}: models need a count ≥ 1, rows ≥ 1 and a stride ≥ 0, ` +
        `got ${count}, ${rows}, ${stride}`,
    );
  }
  if (count * rows !== T) {
    throw new RangeError(
      `Cannot ${action}: ${count} models of ${rows} rows are ${count * rows} rows, not T = ${T}`,
    );
  }
  return models;
}
