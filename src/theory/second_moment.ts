/**
 * The gap in Theorem 4's proof (paper.md §2, §8 item 2): step (30) uses
 * E[VVᵀVVᵀ] = ρ²I (after the 1/(ρK) scaling: the reconstruction has the true
 * update's second moment), but for K i.i.d. bases
 * E[(VVᵀ)²] = ρ²K(K + d + κ − 2)·I. Monte Carlo on the GPU kernels of the
 * quadratic form uᵀ(VVᵀ)²u = ‖VVᵀu‖² for random unit vectors u.
 *
 * @module
 */

import type { Gpu } from "../gpu/gpu.ts";
import { basisKurtosis, basisVariance } from "../random/basis.ts";
import {
  dot,
  meanAndError,
  normalVector,
  projectAll,
  reconstructionNorms,
  trialSeeds,
  withOneBlock,
} from "./monte_carlo.ts";

/** One row of the check, everything divided by (ρK)² (the scaled reconstruction's factor). */
export interface Theorem4GapRow {
  /** Further values by name. */
  [key: string]: number;
  /** Dimension d. */
  d: number;
  /** Number of bases K. */
  K: number;
  /** Monte Carlo trials (seeds). */
  trials: number;
  /** MC mean of uᵀ(VVᵀ)²u/(ρK)². */
  measured: number;
  /** Its standard error. */
  measured_se: number;
  /** What the proof uses: 1. */
  printed: number;
  /** The truth: 1 + (d + κ − 2)/K. */
  correct: number;
}

/**
 * Estimates E[uᵀ(VVᵀ)²u]/(ρK)² over `trials` seeds (a fresh unit u per seed block).
 *
 * @example
 * ```ts
 * import { theorem4GapRow } from "./second_moment.ts";
 * import { Gpu } from "../gpu/gpu.ts";
 * const gpu = await Gpu.create();
 * const row = await theorem4GapRow(gpu, { d: 100, K: 10, trials: 40, seed: 1 });
 * console.log(row.correct.toFixed(1)); // "10.9"
 * gpu.destroy();
 * ```
 */
export async function theorem4GapRow(
  gpu: Gpu,
  options: { d: number; K: number; trials: number; seed: number },
): Promise<Theorem4GapRow> {
  const { d, K, trials, seed } = options;
  const u = normalVector(seed, `theory/theorem4_gap/u/${d}`, d);
  const n = Math.sqrt(dot(u, u));
  for (let i = 0; i < d; i++) u[i] = u[i]! / n;
  return await withOneBlock(gpu, u, K, "truncnormal", async ({ x, scratch, plan }) => {
    const rho = basisVariance("truncnormal", d);
    const seeds = trialSeeds(seed, d + 104729 * K, trials);
    const gammas = await projectAll(plan, x, seeds);
    const s = 1 / (rho * K);
    // ‖s·VVᵀu‖² = s²·uᵀ(VVᵀ)²u.
    const norms = await reconstructionNorms(plan, scratch, seeds, gammas, [s]);
    const { mean, se } = meanAndError(norms);
    return {
      d,
      K,
      trials,
      measured: mean,
      measured_se: se,
      printed: 1,
      correct: 1 + (d + basisKurtosis("truncnormal", d) - 2) / K,
    };
  });
}
