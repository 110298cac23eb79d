/**
 * Theorem 1 (unbiased reconstruction, paper.md §2) on the GPU kernels:
 * the mean of Δ̃ over many seeds against Δ, at its Monte Carlo noise level
 * √((d + κ − 2)/(K·trials))·‖Δ‖, for the paper's 1/(ρK) scaling and for the
 * official code's d/K scaling, whose mean is d·ρ·Δ ≈ Δ/3 (paper.md §7 item 2).
 *
 * @module
 */

import type { Gpu } from "../gpu/gpu.ts";
import { basisKurtosis, basisVariance, type Distribution } from "../random/basis.ts";
import {
  dot,
  normalVector,
  projectAll,
  reconstructionNorms,
  trialSeeds,
  withOneBlock,
} from "./monte_carlo.ts";

/** How the coordinates are scaled. */
export type Scaling = "paper" | "official";

/** One row of the Theorem 1 check. */
export interface Theorem1Row {
  /** Further values by name. */
  [key: string]: number;
  /** Dimension d. */
  d: number;
  /** Number of bases K. */
  K: number;
  /** Monte Carlo trials (seeds). */
  trials: number;
  /** ‖mean(Δ̃) − slope·Δ‖/‖Δ‖ where slope is the scaling's expected factor (1 or dρ). */
  deviation: number;
  /** ‖mean(Δ̃) − Δ‖/‖Δ‖ (the bias against the true update). */
  bias: number;
  /** Monte Carlo noise level of `deviation`: slope·√((d + κ − 2)/(K·trials)). */
  noise: number;
  /** mean(Δ̃)ᵀΔ/‖Δ‖²: 1 when unbiased. */
  slope: number;
  /** Standard error of `slope`: noise/√d. */
  slope_se: number;
  /** The slope the scaling should give: 1 (paper) or d·ρ (official). */
  expected_slope: number;
}

/** Options of {@linkcode theorem1Row}. */
export interface Theorem1Options {
  /** Dimension d. */
  d: number;
  /** Number of bases K. */
  K: number;
  /** Monte Carlo trials (seeds). */
  trials: number;
  /** The cell seed. */
  seed: number;
  /** The coordinate scaling. */
  scaling: Scaling;
  /** Basis distribution (default truncnormal). */
  distribution?: Distribution;
  /** Multiplies the scaling factor (1 = as declared; anything else is a deliberate error). */
  miscale?: number;
}

/**
 * Averages the reconstruction over `trials` seeds on the GPU.
 *
 * @example
 * ```ts
 * import { theorem1Row } from "./unbiasedness.ts";
 * import { Gpu } from "../gpu/gpu.ts";
 * const gpu = await Gpu.create();
 * const row = await theorem1Row(gpu, { d: 100, K: 10, trials: 50, seed: 1, scaling: "official" });
 * console.log(row.slope.toFixed(2)); // ≈ "0.33"
 * gpu.destroy();
 * ```
 */
export async function theorem1Row(gpu: Gpu, options: Theorem1Options): Promise<Theorem1Row> {
  const { d, K, trials, seed, scaling } = options;
  const distribution = options.distribution ?? "truncnormal";
  const delta = normalVector(seed, `theory/theorem1/delta/${d}`, d);
  return await withOneBlock(gpu, delta, K, distribution, async ({ x, scratch, plan }) => {
    const sum = x.like("sum");
    try {
      const rho = basisVariance(distribution, d);
      const factor = scaling === "paper" ? 1 / (rho * K) : d / K;
      const expected = scaling === "paper" ? 1 : d * rho;
      const seeds = trialSeeds(seed, d * 31 + K + (scaling === "paper" ? 0 : 7), trials);
      const gammas = await projectAll(plan, x, seeds);
      await reconstructionNorms(
        plan,
        scratch,
        seeds,
        gammas,
        [factor * (options.miscale ?? 1)],
        sum,
      );
      const total = await sum.read();
      const mean = total.map((v) => v / trials);
      const n2 = dot(delta, delta);
      let dev = 0, bias = 0;
      for (let i = 0; i < d; i++) {
        dev += (mean[i]! - expected * delta[i]!) ** 2;
        bias += (mean[i]! - delta[i]!) ** 2;
      }
      const noise = expected * Math.sqrt((d + basisKurtosis(distribution, d) - 2) / (K * trials));
      return {
        d,
        K,
        trials,
        deviation: Math.sqrt(dev / n2),
        bias: Math.sqrt(bias / n2),
        noise,
        slope: dot(mean, delta) / n2,
        slope_se: noise / Math.sqrt(d),
        expected_slope: expected,
      };
    } finally {
      sum.destroy();
    }
  });
}
