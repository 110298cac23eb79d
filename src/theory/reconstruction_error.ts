/**
 * Theorem 2 (reconstruction error, paper.md §2) measured on the GPU kernels:
 * mean ‖Δ̃ − Δ‖/‖Δ‖ of the unbiased reconstruction (Eq. 7) against the
 * theorem's bound (max form and the proof's Eq. 16 form) and the exact law
 * E‖Δ̃ − Δ‖² = ‖Δ‖²(d + κ − 2)/K.
 *
 * @module
 */

import type { Gpu } from "../gpu/gpu.ts";
import { basisKurtosis, basisVariance, type Distribution } from "../random/basis.ts";
import {
  dot,
  meanAndError,
  normalVector,
  projectAll,
  reconstructionNorms,
  trialSeeds,
  withOneBlock,
} from "./monte_carlo.ts";

/**
 * The Thm 2 bound, max form: max{2√(2ln(2d)/(ρK)), 2ln(2d)/(ρK)}.
 *
 * @example
 * ```ts
 * import { theorem2BoundMax } from "./reconstruction_error.ts";
 * import { rho } from "../random/moments.ts";
 * console.log(theorem2BoundMax(2000, 50, rho(2000)).toFixed(1)); // ≈ 1990.7 (paper.md §2)
 * ```
 */
export function theorem2BoundMax(d: number, K: number, rho: number): number {
  const t = (2 * Math.log(2 * d)) / (rho * K);
  return Math.max(2 * Math.sqrt(t), t);
}

/**
 * The proof's Eq. 16: √(2ln(2d)/(ρK)) + 2ln(2d)/(3ρK).
 *
 * @example
 * ```ts
 * import { theorem2BoundEq16 } from "./reconstruction_error.ts";
 * import { rho } from "../random/moments.ts";
 * console.log(theorem2BoundEq16(2000, 50, rho(2000)).toFixed(1)); // ≈ 708.2 (paper.md §2)
 * ```
 */
export function theorem2BoundEq16(d: number, K: number, rho: number): number {
  const t = (2 * Math.log(2 * d)) / (rho * K);
  return Math.sqrt(t) + t / 3;
}

/**
 * The exact root-mean-square law √((d + κ − 2)/K) of ‖Δ̃ − Δ‖/‖Δ‖.
 *
 * @example
 * ```ts
 * import { exactErrorLaw } from "./reconstruction_error.ts";
 * import { kurtosis } from "../random/moments.ts";
 * console.log(exactErrorLaw(2000, 50, kurtosis(2000)).toFixed(3)); // ≈ 6.324 (√(39.996))
 * ```
 */
export function exactErrorLaw(d: number, K: number, kurtosis: number): number {
  return Math.sqrt((d + kurtosis - 2) / K);
}

/** One row of the Theorem 2 check. */
export interface Theorem2Row {
  /** Further values by name. */
  [key: string]: number;
  /** Dimension d. */
  d: number;
  /** Number of bases K. */
  K: number;
  /** Monte Carlo trials (seeds). */
  trials: number;
  /** Mean of ‖Δ̃ − Δ‖/‖Δ‖ over trials. */
  measured: number;
  /** Its standard error. */
  measured_se: number;
  /** √(mean of ‖Δ̃ − Δ‖²/‖Δ‖²). */
  measured_rms: number;
  /** Standard error of the mean squared relative error. */
  mse_se: number;
  /** exact law. */
  exact_law: number;
  /** bound max. */
  bound_max: number;
  /** The proof's Eq. 16 bound. */
  bound_eq16: number;
}

/** Options of {@linkcode theorem2Row}. */
export interface Theorem2Options {
  /** Dimension d. */
  d: number;
  /** Number of bases K. */
  K: number;
  /** Monte Carlo trials (seeds). */
  trials: number;
  /** The cell seed. */
  seed: number;
  /** Basis distribution (default truncnormal). */
  distribution?: Distribution;
  /** Multiplies the 1/(ρK) factor (1 = the paper's; anything else is a deliberate error). */
  miscale?: number;
}

/**
 * Measures the relative reconstruction error over `trials` seeds.
 *
 * @example
 * ```ts
 * import { theorem2Row } from "./reconstruction_error.ts";
 * import { Gpu } from "../gpu/gpu.ts";
 * const gpu = await Gpu.create();
 * const row = await theorem2Row(gpu, { d: 200, K: 20, trials: 20, seed: 1 });
 * console.log(row.measured < row.bound_eq16); // true
 * gpu.destroy();
 * ```
 */
export async function theorem2Row(gpu: Gpu, options: Theorem2Options): Promise<Theorem2Row> {
  const { d, K, trials, seed } = options;
  const distribution = options.distribution ?? "truncnormal";
  const delta = normalVector(seed, `theory/theorem2/delta/${d}`, d);
  return await withOneBlock(gpu, delta, K, distribution, async ({ x, scratch, plan }) => {
    const rho = basisVariance(distribution, d);
    const s = (options.miscale ?? 1) / (rho * K);
    const seeds = trialSeeds(seed, d * 7919 + K, trials);
    const gammas = await projectAll(plan, x, seeds);
    const norms = await reconstructionNorms(plan, scratch, seeds, gammas, [s]);
    const n2 = dot(delta, delta);
    const rel2 = gammas.map((g, i) => Math.max(0, norms[i]! - 2 * s * dot(g, g) + n2) / n2);
    const rel = meanAndError(rel2.map(Math.sqrt));
    const mse = meanAndError(rel2);
    return {
      d,
      K,
      trials,
      measured: rel.mean,
      measured_se: rel.se,
      measured_rms: Math.sqrt(mse.mean),
      mse_se: mse.se,
      exact_law: exactErrorLaw(d, K, basisKurtosis(distribution, d)),
      bound_max: theorem2BoundMax(d, K, rho),
      bound_eq16: theorem2BoundEq16(d, K, rho),
    };
  });
}
