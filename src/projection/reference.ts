/**
 * Plain TypeScript references of the fused projection kernels (test oracles;
 * they materialise each basis, O(d_l) memory per basis, in float64 sums).
 *
 * @module
 */

import { basisElements, basisParams, type Distribution, type Seed } from "../random/basis.ts";
import type { Objective } from "./plan.ts";
import type { Segment } from "../gpu/vector.ts";

/** Block l's basis k under `seed`, materialised. */
function basis(
  distribution: Distribution,
  block: Segment,
  seed: Seed,
  l: number,
  k: number,
): Float32Array {
  const v = new Float32Array(block.length);
  basisElements(v, distribution, basisParams(distribution, block.length), seed, l, k, 0);
  return v;
}

/** The per-element term of an objective (see kernels/project.wgsl). */
function term(objective: Objective, v: number, x: number, eps: number): number {
  if (objective === "dot") return v * x;
  if (objective === "zo-square") return (2 * x + eps * v) * v;
  const d = eps * v;
  return (Math.sin(x + d) ** 2 - Math.sin(x) ** 2) / eps;
}

/**
 * γ_{l,k} = v_{l,k}ᵀ x_l for every block and basis (or the zeroth-order
 * differences of `objective`), in the plan's coordinate order.
 *
 * @example
 * ```ts
 * import { projectReference } from "./reference.ts";
 * const g = projectReference(new Float32Array([1, 2, 3]), [{ start: 0, length: 3 }], [2], "rademacher", 1);
 * console.log(g.length); // 2
 * ```
 */
export function projectReference(
  x: Float32Array,
  blocks: readonly Segment[],
  counts: readonly number[],
  distribution: Distribution,
  seed: Seed,
  objective: Objective = "dot",
  eps = 0,
): Float64Array {
  const out = new Float64Array(counts.reduce((a, b) => a + b, 0));
  let o = 0;
  blocks.forEach((block, l) => {
    for (let k = 0; k < counts[l]!; k++) {
      const v = basis(distribution, block, seed, l, k);
      let sum = 0;
      for (let i = 0; i < block.length; i++) {
        sum += term(objective, v[i]!, x[block.start + i]!, eps);
      }
      out[o++] = sum;
    }
  });
  return out;
}

/**
 * x + Σ_l s_l Σ_k c_{l,k} v_{l,k} (or without x when `accumulate` is false:
 * elements outside every block then keep x's values).
 *
 * @example
 * ```ts
 * import { reconstructReference } from "./reference.ts";
 * const x = reconstructReference(new Float32Array(3), [{ start: 0, length: 3 }], [1], "rademacher", 1, [1], [1]);
 * console.log(x.map(Math.abs)); // Float32Array(3) [0.577…, 0.577…, 0.577…]
 * ```
 */
export function reconstructReference(
  x: Float32Array,
  blocks: readonly Segment[],
  counts: readonly number[],
  distribution: Distribution,
  seed: Seed,
  coefficients: ArrayLike<number>,
  scales: ArrayLike<number>,
  accumulate = true,
): Float32Array {
  const out = new Float32Array(x);
  let o = 0;
  blocks.forEach((block, l) => {
    const acc = new Float64Array(block.length);
    for (let k = 0; k < counts[l]!; k++) {
      const v = basis(distribution, block, seed, l, k);
      const c = scales[l]! * coefficients[o++]!;
      for (let i = 0; i < block.length; i++) acc[i]! += c * v[i]!;
    }
    for (let i = 0; i < block.length; i++) {
      out[block.start + i] = (accumulate ? x[block.start + i]! : 0) + acc[i]!;
    }
  });
  return out;
}
