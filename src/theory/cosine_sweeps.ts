/**
 * Figure 8 (paper.md §4), all on F(x) = Σ sin²(x_i), on the GPU kernels:
 * (a) cosine between the true T-step gradient-descent update (lr 0.1) and
 *     Ferret's reconstruction of it, and the update of T zeroth-order steps
 *     (ε, K bases of one shared seed per step, Vg/K scaling as in Thm 3);
 * (b) cosine of both reconstructions of the gradient at one random x vs d;
 * (c) Ferret's cosine and reconstruction time vs the number of equal blocks L.
 *
 * @module
 */

import type { Gpu } from "../gpu/gpu.ts";
import { GpuVector } from "../gpu/vector.ts";
import { largestRemainder } from "../projection/allocation.ts";
import { BasisPlan } from "../projection/plan.ts";
import { ferretCosine, reconstructionCosine } from "./cosine.ts";
import { dot, projectAll, uniformVector } from "./monte_carlo.ts";
import { equalBlocks, fastestReconstruction } from "./block_speedup.ts";

function cosine(a: ArrayLike<number>, b: ArrayLike<number>): number {
  return dot(a, b) / Math.sqrt(dot(a, a) * dot(b, b));
}

/**
 * Panel (a): cosines per T for Ferret and ZO (one seed).
 *
 * @example
 * ```ts
 * import { figure8a } from "./cosine_sweeps.ts";
 * import { Gpu } from "../gpu/gpu.ts";
 * const gpu = await Gpu.create();
 * const r = await figure8a(gpu, { d: 500, K: 10, eps: 0.1, lr: 0.1, Ts: [1, 2], seed: 1 });
 * console.log(r.ferret.length); // 2
 * gpu.destroy();
 * ```
 */
export async function figure8a(
  gpu: Gpu,
  options: { d: number; K: number; eps: number; lr: number; Ts: readonly number[]; seed: number },
): Promise<{ T: number[]; ferret: number[]; zo: number[] }> {
  const { d, K, eps, lr, Ts, seed } = options;
  const w0 = uniformVector(seed, `theory/figure8/x/${d}`, d, -Math.PI, Math.PI);
  const wz = GpuVector.from(gpu, w0);
  const scratch = wz.like("scratch");
  const target = wz.like("target");
  const plan = BasisPlan.create(gpu, {
    blocks: [{ start: 0, length: d }],
    counts: [K],
    vector: wz,
  });
  const basisSeed = seed * 7919 + 11;
  const coef = plan.coordinateBuffer();
  const step = plan.scaleBuffer([-lr / K]);
  const out = { T: Ts.slice(), ferret: [] as number[], zo: [] as number[] };
  try {
    const w = new Float32Array(w0);
    let t = 0;
    for (const T of Ts) {
      for (; t < T; t++) {
        for (let i = 0; i < d; i++) w[i] = w[i]! - lr * Math.sin(2 * w[i]!);
        await plan.project(wz, basisSeed, coef, { objective: "zo-sin2", eps });
        await plan.reconstruct(wz, basisSeed, coef, { scales: step });
      }
      const delta = w0.map((v, i) => v - w[i]!);
      target.write(delta);
      const [gamma] = await projectAll(plan, target, [basisSeed]);
      out.ferret.push(await ferretCosine(plan, scratch, basisSeed, gamma!, dot(delta, delta)));
      const zoW = await wz.read();
      out.zo.push(cosine(w0.map((v, i) => v - zoW[i]!), delta));
    }
    return out;
  } finally {
    plan.destroy();
    wz.destroy();
    scratch.destroy();
    target.destroy();
  }
}

/**
 * Panel (b): cosines of Ferret's and the ZO reconstruction of ∇F at one random x, per d.
 *
 * @example
 * ```ts
 * import { figure8b } from "./cosine_sweeps.ts";
 * import { Gpu } from "../gpu/gpu.ts";
 * const gpu = await Gpu.create();
 * const r = await figure8b(gpu, { ds: [500], K: 10, eps: 0.1, seed: 1 });
 * console.log(r.d); // [500]
 * gpu.destroy();
 * ```
 */
export async function figure8b(
  gpu: Gpu,
  options: { ds: readonly number[]; K: number; eps: number; seed: number },
): Promise<{ d: number[]; ferret: number[]; zo: number[] }> {
  const { ds, K, eps, seed } = options;
  const out = { d: ds.slice(), ferret: [] as number[], zo: [] as number[] };
  for (const d of ds) {
    const x = uniformVector(seed, `theory/figure8/x/${d}`, d, -Math.PI, Math.PI);
    const grad = x.map((v) => Math.sin(2 * v));
    const xv = GpuVector.from(gpu, x);
    const gv = GpuVector.from(gpu, grad);
    const scratch = xv.like("scratch");
    const plan = BasisPlan.create(gpu, {
      blocks: [{ start: 0, length: d }],
      counts: [K],
      vector: xv,
    });
    const basisSeed = seed * 7919 + 13;
    try {
      const [gamma] = await projectAll(plan, gv, [basisSeed]);
      const [g] = await projectAll(plan, xv, [basisSeed], { objective: "zo-sin2", eps });
      const n2 = dot(grad, grad);
      out.ferret.push(await ferretCosine(plan, scratch, basisSeed, gamma!, n2));
      out.zo.push(await reconstructionCosine(plan, scratch, basisSeed, g!, [1 / K], gamma!, n2));
    } finally {
      plan.destroy();
      xv.destroy();
      gv.destroy();
      scratch.destroy();
    }
  }
  return out;
}

/**
 * Panel (c): Ferret's cosine for ∇F at one random x and the reconstruction time
 * (best of `repeats`, see fastestReconstruction), per L.
 *
 * @example
 * ```ts
 * import { figure8c } from "./cosine_sweeps.ts";
 * import { Gpu } from "../gpu/gpu.ts";
 * const gpu = await Gpu.create();
 * const r = await figure8c(gpu, { d: 1024, K: 8, Ls: [1, 2], repeats: 1, seed: 1 });
 * console.log(r.L); // [1, 2]
 * gpu.destroy();
 * ```
 */
export async function figure8c(
  gpu: Gpu,
  options: { d: number; K: number; Ls: readonly number[]; repeats: number; seed: number },
): Promise<{ L: number[]; ferret: number[]; seconds: number[] }> {
  const { d, K, Ls, repeats, seed } = options;
  const x = uniformVector(seed, `theory/figure8/x/${d}`, d, -Math.PI, Math.PI);
  const grad = x.map((v) => Math.sin(2 * v));
  const gv = GpuVector.from(gpu, grad);
  const scratch = gv.like("scratch");
  const out = { L: Ls.slice(), ferret: [] as number[], seconds: [] as number[] };
  try {
    for (const L of Ls) {
      const blocks = equalBlocks(d, L);
      const counts = largestRemainder(blocks.map(() => 1), K);
      const plan = BasisPlan.create(gpu, { blocks, counts, vector: gv });
      const basisSeed = seed * 7919 + 17;
      try {
        const [gamma] = await projectAll(plan, gv, [basisSeed]);
        out.ferret.push(await ferretCosine(plan, scratch, basisSeed, gamma!, dot(grad, grad)));
        const coef = plan.coordinateBuffer();
        gpu.write(coef, gamma!);
        out.seconds.push(
          await fastestReconstruction(gpu, plan, scratch, coef, { seed: basisSeed, repeats }),
        );
      } finally {
        plan.destroy();
      }
    }
    return out;
  } finally {
    gv.destroy();
    scratch.destroy();
  }
}
