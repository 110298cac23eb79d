/**
 * Theorem 3 (connection with zeroth-order methods, paper.md §2) on the GPU
 * kernels: for F(x) = Σ sin²(x_i), which is β-smooth with β = 2, the ZO
 * reconstruction Vg/K deviates from VVᵀ∇F/K by at most βε/2 for every draw.
 * Also reports the ZO reconstruction's cosine with the gradient next to the
 * unbiased (7)'s.
 *
 * @module
 */

import type { Gpu } from "../gpu/gpu.ts";
import { GpuVector } from "../gpu/vector.ts";
import { BasisPlan } from "../projection/plan.ts";
import { basisVariance } from "../random/basis.ts";
import { dot, projectAll, reconstructionNorms, trialSeeds, uniformVector } from "./monte_carlo.ts";

/**
 * β of F(x) = Σ sin²(x_i): the Hessian is diag(2 cos 2x_i).
 *
 * @example
 * ```ts
 * import { SIN2_BETA } from "./zo_connection.ts";
 * console.log(SIN2_BETA); // 2: |d²/dx² sin²x| = |2cos 2x| ≤ 2
 * ```
 */
export const SIN2_BETA = 2;

/** One row of the Theorem 3 check. */
export interface Theorem3Row {
  /** Further values by name. */
  [key: string]: number;
  /** Dimension d. */
  d: number;
  /** Number of bases K. */
  K: number;
  /** ZO step ε. */
  eps: number;
  /** Draws (seeds). */
  draws: number;
  /** Largest ‖(1/K)V(g − Vᵀ∇F)‖ over the draws. */
  max_deviation: number;
  /** Mean of the same. */
  mean_deviation: number;
  /** The bound βε/2. */
  bound: number;
  /** Largest |g_k − v_kᵀ∇F| / (βε‖v_k‖²/2) ≤ 1 (Eq. 18, per coordinate; ‖v_k‖² ≤ 1). */
  max_coordinate_ratio: number;
}

/** Options of {@linkcode theorem3Row}. */
export interface Theorem3Options {
  /** Dimension d. */
  d: number;
  /** Number of bases K. */
  K: number;
  /** ZO step ε. */
  eps: number;
  /** Draws (seeds). */
  draws: number;
  /** The cell seed. */
  seed: number;
}

/**
 * Measures the ZO deviation for `draws` seeds at one ε.
 *
 * @example
 * ```ts
 * import { theorem3Row } from "./zo_connection.ts";
 * import { Gpu } from "../gpu/gpu.ts";
 * const gpu = await Gpu.create();
 * const row = await theorem3Row(gpu, { d: 500, K: 10, eps: 0.1, draws: 2, seed: 1 });
 * console.log(row.max_deviation <= row.bound); // true
 * gpu.destroy();
 * ```
 */
export async function theorem3Row(gpu: Gpu, options: Theorem3Options): Promise<Theorem3Row> {
  const { d, K, eps, draws, seed } = options;
  const w = uniformVector(seed, `theory/theorem3/x/${d}`, d, -Math.PI, Math.PI);
  const grad = w.map((x) => Math.sin(2 * x));
  const xw = GpuVector.from(gpu, w);
  const xg = GpuVector.from(gpu, grad);
  const scratch = xw.like("scratch");
  const plan = BasisPlan.create(gpu, {
    blocks: [{ start: 0, length: d }],
    counts: [K],
    vector: xw,
  });
  try {
    const seeds = trialSeeds(seed, Math.round(eps * 1e6) + K, draws);
    const g = await projectAll(plan, xw, seeds, { objective: "zo-sin2", eps });
    const gamma = await projectAll(plan, xg, seeds);
    const diff = g.map((gi, i) => gi.map((v, k) => (v - gamma[i]![k]!) / K));
    const norms = await reconstructionNorms(plan, scratch, seeds, diff, [1]);
    const deviations = norms.map((n) => Math.sqrt(Math.max(0, n)));
    // Per coordinate, ‖v_k‖² ≤ 1 bounds |g_k − v_kᵀ∇F| by βε/2; with ‖v_k‖² ≈ dρ ≈ 1/3 the
    // ratio against βε·dρ/2 is the tighter reading of Eq. 18.
    const normV2 = d * basisVariance("truncnormal", d);
    let maxRatio = 0;
    diff.forEach((dk) =>
      dk.forEach((v) => {
        maxRatio = Math.max(maxRatio, Math.abs(v * K) / ((SIN2_BETA * eps * normV2) / 2));
      })
    );
    return {
      d,
      K,
      eps,
      draws,
      max_deviation: Math.max(...deviations),
      mean_deviation: deviations.reduce((a, b) => a + b, 0) / draws,
      bound: (SIN2_BETA * eps) / 2,
      max_coordinate_ratio: maxRatio,
    };
  } finally {
    plan.destroy();
    xw.destroy();
    xg.destroy();
    scratch.destroy();
  }
}

/** ‖x‖ in float64. */
export function norm(x: ArrayLike<number>): number {
  return Math.sqrt(dot(x, x));
}
