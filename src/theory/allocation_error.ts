/**
 * Proposition 2 (block-wise reconstruction error, paper.md §2, §8 item 1):
 * the exact block MSE Σ_l ‖Δ_l‖²(d_l + κ_l − 2)/K_l under each allocation
 * rule, in closed form and by Monte Carlo on the GPU kernels, next to the
 * printed bound's objective Σ_l ‖Δ_l‖/(ρ_l K_l) that Prop. 2 minimises.
 *
 * @module
 */

import type { Gpu } from "../gpu/gpu.ts";
import { GpuVector } from "../gpu/vector.ts";
import { allocateBases, type AllocationRule, blockMse } from "../projection/allocation.ts";
import { BasisPlan } from "../projection/plan.ts";
import type { Segment } from "../gpu/vector.ts";
import { kurtosis, rho } from "../random/moments.ts";
import {
  dot,
  meanAndError,
  normalVector,
  projectAll,
  reconstructionNorms,
  trialSeeds,
} from "./monte_carlo.ts";

/**
 * The rules compared: the experiments' and the code's, the printed and the corrected Prop. 2.
 *
 * @example
 * ```ts
 * import { PROPOSITION2_RULES } from "./allocation_error.ts";
 * console.log(PROPOSITION2_RULES.length > 3); // true
 * ```
 */
export const PROPOSITION2_RULES: readonly AllocationRule[] = [
  "uniform",
  "dim",
  "norm",
  "norm-over-rho",
  "sqrt-norm-over-rho",
  "mse-optimal",
];

/** One row: one allocation rule. */
export interface Proposition2Row {
  /** Further values by name. */
  [key: string]: number;
  /** Closed-form Σ_l ‖Δ_l‖²(d_l + κ_l − 2)/K_l, relative to ‖Δ‖². */
  closed_form: number;
  /** Monte Carlo mean of ‖Δ̃ − Δ‖²/‖Δ‖². */
  measured: number;
  /** Its standard error. */
  measured_se: number;
  /** Prop. 2's objective Σ_l ‖Δ_l‖/(ρ_l K_l), relative to ‖Δ‖. */
  bound_objective: number;
  /** Σ K_l (= K for every rule). */
  total: number;
}

/** A Δ whose blocks have very different sizes and norms (seeded). */
export function proposition2Delta(
  seed: number,
  dims: readonly number[],
  norms: readonly number[],
): { blocks: Segment[]; delta: Float32Array } {
  const blocks: Segment[] = [];
  let start = 0;
  for (const d of dims) {
    blocks.push({ start, length: d });
    start += d;
  }
  const delta = normalVector(seed, "theory/proposition2/delta", start);
  blocks.forEach((b, l) => {
    const part = delta.subarray(b.start, b.start + b.length);
    const n = Math.sqrt(dot(part, part));
    for (let i = 0; i < part.length; i++) part[i] = (part[i]! / n) * norms[l]!;
  });
  return { blocks, delta };
}

/**
 * Closed form and Monte Carlo of one allocation rule.
 *
 * @example
 * ```ts
 * import { proposition2Row } from "./allocation_error.ts";
 * import { Gpu } from "../gpu/gpu.ts";
 * const gpu = await Gpu.create();
 * const row = await proposition2Row(gpu, { rule: "dim", dims: [50, 150], norms: [1, 2], K: 8, trials: 20, seed: 1 });
 * console.log(row.total); // 8
 * gpu.destroy();
 * ```
 */
export async function proposition2Row(
  gpu: Gpu,
  options: {
    rule: AllocationRule;
    dims: readonly number[];
    norms: readonly number[];
    K: number;
    trials: number;
    seed: number;
  },
): Promise<Proposition2Row> {
  const { rule, dims, norms, K, trials, seed } = options;
  const { blocks, delta } = proposition2Delta(seed, dims, norms);
  const counts = allocateBases(rule, dims, K, norms);
  const n2 = dot(delta, delta);
  const closed = blockMse(dims, norms, counts, dims.map(kurtosis)) / n2;
  const bound = dims.reduce((s, d, l) => s + norms[l]! / (rho(d) * counts[l]!), 0) / Math.sqrt(n2);
  const x = GpuVector.from(gpu, delta);
  const scratch = x.like("scratch");
  const plan = BasisPlan.create(gpu, { blocks, counts, vector: x });
  try {
    const seeds = trialSeeds(seed, 17 + PROPOSITION2_RULES.indexOf(rule), trials);
    const gammas = await projectAll(plan, x, seeds);
    const scales = plan.paperScales();
    const recon = await reconstructionNorms(plan, scratch, seeds, gammas, scales);
    const errors = gammas.map((g, i) => {
      let cross = 0;
      counts.forEach((k, l) => {
        for (let j = 0; j < k; j++) cross += scales[l]! * g[plan.offsets[l]! + j]! ** 2;
      });
      return Math.max(0, recon[i]! - 2 * cross + n2) / n2;
    });
    const { mean, se } = meanAndError(errors);
    return {
      closed_form: closed,
      measured: mean,
      measured_se: se,
      bound_objective: bound,
      total: counts.reduce((a, b) => a + b, 0),
    };
  } finally {
    plan.destroy();
    x.destroy();
    scratch.destroy();
  }
}
