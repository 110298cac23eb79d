/**
 * Figure 7 (paper.md §4): cosine similarity between the true gradient of
 * F(x) = Σ x_i² at one random x and (i) Ferret's reconstruction (7) of it,
 * (ii) the zeroth-order reconstruction Vg/K with g_k = [F(x + εv_k) − F(x)]/ε,
 * for growing K — on the GPU kernels, with K bases shared by both methods.
 *
 * @module
 */

import type { Gpu } from "../gpu/gpu.ts";
import { GpuVector } from "../gpu/vector.ts";
import { BasisPlan } from "../projection/plan.ts";
import { ferretCosine, reconstructionCosine } from "./cosine.ts";
import { dot, projectAll, uniformVector } from "./monte_carlo.ts";

/** Cosines per K for Ferret and for ZO at each ε (one seed). */
export interface Figure7Result {
  /** Further values by name. */
  [key: string]: number[];
  /** Number of bases K. */
  K: number[];
  /** ferret. */
  ferret: number[];
}

/**
 * Runs Figure 7's comparison for one seed.
 *
 * @example
 * ```ts
 * import { figure7Cosines } from "./cosine_vs_bases.ts";
 * import { Gpu } from "../gpu/gpu.ts";
 * const gpu = await Gpu.create();
 * const r = await figure7Cosines(gpu, { d: 1000, Ks: [10, 20], epsilons: [0.1], seed: 1 });
 * console.log(r.ferret.length, r["zo_0.1"]!.length); // 2 2
 * gpu.destroy();
 * ```
 */
export async function figure7Cosines(
  gpu: Gpu,
  options: { d: number; Ks: readonly number[]; epsilons: readonly number[]; seed: number },
): Promise<Figure7Result> {
  const { d, Ks, epsilons, seed } = options;
  const x = uniformVector(seed, `theory/figure7/x/${d}`, d, -1, 1);
  const grad = x.map((v) => 2 * v);
  const xv = GpuVector.from(gpu, x);
  const gv = GpuVector.from(gpu, grad);
  const scratch = xv.like("scratch");
  const Kmax = Math.max(...Ks);
  const full = BasisPlan.create(gpu, {
    blocks: [{ start: 0, length: d }],
    counts: [Kmax],
    vector: xv,
  });
  const basisSeed = seed * 7919 + 7;
  const plans: BasisPlan[] = [];
  try {
    const [gamma] = await projectAll(full, gv, [basisSeed]);
    const zo = [];
    for (const eps of epsilons) {
      zo.push((await projectAll(full, xv, [basisSeed], { objective: "zo-square", eps }))[0]!);
    }
    const normG2 = dot(grad, grad);
    const result: Figure7Result = { K: Ks.slice(), ferret: [] };
    epsilons.forEach((eps) => result[`zo_${eps}`] = []);
    for (const K of Ks) {
      const plan = BasisPlan.create(gpu, {
        blocks: [{ start: 0, length: d }],
        counts: [K],
        vector: xv,
      });
      plans.push(plan);
      const g = gamma!.subarray(0, K);
      result.ferret.push(
        await ferretCosine(plan, scratch, basisSeed, g, normG2),
      );
      for (const [i, eps] of epsilons.entries()) {
        result[`zo_${eps}`]!.push(
          await reconstructionCosine(
            plan,
            scratch,
            basisSeed,
            zo[i]!.subarray(0, K),
            [1 / K],
            g,
            normG2,
          ),
        );
      }
    }
    return result;
  } finally {
    for (const p of plans) p.destroy();
    full.destroy();
    xv.destroy();
    gv.destroy();
    scratch.destroy();
  }
}
