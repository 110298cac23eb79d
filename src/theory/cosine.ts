/**
 * Cosine similarity between a reconstruction V diag(s) c and a vector u,
 * from scalars only: Δ̃ᵀu = Σ s_l c_{l,k} (Vᵀu)_{l,k} and ‖Δ̃‖² by reprojection.
 *
 * @module
 */

import type { GpuVector } from "../gpu/vector.ts";
import type { BasisPlan } from "../projection/plan.ts";
import { reconstructionNorms } from "./monte_carlo.ts";

/**
 * cos(V diag(s) c, u) for one seed, given γ_u = Vᵀu (same plan, same seed) and ‖u‖².
 */
export async function reconstructionCosine(
  plan: BasisPlan,
  scratch: GpuVector,
  seed: number,
  coefficients: Float32Array,
  scales: readonly number[],
  gammaU: Float32Array,
  normU2: number,
): Promise<number> {
  let cross = 0;
  plan.counts.forEach((K, l) => {
    for (let k = 0; k < K; k++) {
      const o = plan.offsets[l]! + k;
      cross += scales[l]! * coefficients[o]! * gammaU[o]!;
    }
  });
  const [n2] = await reconstructionNorms(plan, scratch, [seed], [coefficients], scales);
  return cross / Math.sqrt(n2! * normU2);
}

/**
 * The typical cosine (1 + (d + κ − 2)/K)^(−1/2) of the unbiased reconstruction (paper.md §2).
 *
 * @example
 * ```ts
 * import { predictedCosine } from "./cosine.ts";
 * console.log(predictedCosine(1e5, 500, 1.8).toFixed(3)); // "0.071" (Fig. 7 at K = 500)
 * ```
 */
export function predictedCosine(d: number, K: number, kurtosis: number): number {
  return 1 / Math.sqrt(1 + (d + kurtosis - 2) / K);
}

/**
 * Ferret's own accuracy: cos(Δ̃, u) of the reconstruction from u's
 * coordinates γ_u = Vᵀu under Eq. (8)'s scales 1/(ρ_l K_l), given ‖u‖².
 *
 * @example
 * ```ts
 * import { ferretCosine } from "./cosine.ts";
 * import { projectAll } from "./monte_carlo.ts";
 * import { Gpu } from "../gpu/gpu.ts";
 * import { GpuVector } from "../gpu/vector.ts";
 * import { BasisPlan } from "../projection/plan.ts";
 * const gpu = await Gpu.create();
 * const u = GpuVector.from(gpu, new Float32Array([1, 2, 3, 4]));
 * const plan = BasisPlan.create(gpu, { blocks: [{ start: 0, length: 4 }], counts: [4], vector: u });
 * const [gamma] = await projectAll(plan, u, [7]);
 * console.log((await ferretCosine(plan, u.like(), 7, gamma!, 30)) > 0); // true
 * gpu.destroy();
 * ```
 */
export function ferretCosine(
  plan: BasisPlan,
  scratch: GpuVector,
  seed: number,
  gammaU: Float32Array,
  normU2: number,
): Promise<number> {
  return reconstructionCosine(plan, scratch, seed, gammaU, plan.paperScales(), gammaU, normU2);
}
