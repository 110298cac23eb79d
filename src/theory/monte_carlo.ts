/**
 * Monte Carlo on the real kernels (paper.md §9): many seeds' projections and
 * reconstructions recorded in one GPU batch, with only scalars read back.
 *
 * The norm of a reconstruction Δ̃ = V diag(s) c never needs Δ̃ on the CPU:
 * ‖Δ̃‖² = (diag(s) c)ᵀ Vᵀ Δ̃, one more projection of Δ̃ onto the same bases.
 *
 * @module
 */

import type { Gpu } from "../gpu/gpu.ts";
import { GpuVector } from "../gpu/vector.ts";
import { BasisPlan, type ProjectOptions } from "../projection/plan.ts";
import type { Distribution } from "../random/basis.ts";
import { RandomStream } from "../random/stream.ts";

/** Seeds per GPU batch (bounds the coordinate buffers and pending work). */
const BATCH = 256;

/** Projects `x` under every seed; one readback per batch of seeds. */
export async function projectAll(
  plan: BasisPlan,
  x: GpuVector,
  seeds: readonly number[],
  options: ProjectOptions = {},
): Promise<Float32Array[]> {
  const out: Float32Array[] = [];
  const buffer = plan.gpu.buffer(Math.min(BATCH, seeds.length) * plan.total * 4, "mc coordinates");
  try {
    for (let from = 0; from < seeds.length; from += BATCH) {
      const batch = seeds.slice(from, from + BATCH);
      for (const [i, seed] of batch.entries()) {
        await plan.project(x, seed, buffer, { ...options, outBase: i * plan.total });
      }
      const all = new Float32Array(await plan.gpu.read(buffer, 0, batch.length * plan.total * 4));
      batch.forEach((_, i) => out.push(all.slice(i * plan.total, (i + 1) * plan.total)));
    }
  } finally {
    buffer.destroy();
  }
  return out;
}

/**
 * ‖V diag(s) c‖² for each seed's coefficients c (one readback per batch);
 * each reconstruction is also added to `meanInto` when given.
 */
export async function reconstructionNorms(
  plan: BasisPlan,
  scratch: GpuVector,
  seeds: readonly number[],
  coefficients: readonly Float32Array[],
  scales: readonly number[],
  meanInto?: GpuVector,
): Promise<number[]> {
  const gpu = plan.gpu;
  const n = Math.min(BATCH, seeds.length);
  const coef = gpu.buffer(n * plan.total * 4, "mc coefficients");
  const back = gpu.buffer(n * plan.total * 4, "mc reprojections");
  const scaleBuffer = plan.scaleBuffer(scales);
  const norms: number[] = [];
  try {
    for (let from = 0; from < seeds.length; from += BATCH) {
      const batch = seeds.slice(from, from + BATCH);
      const packed = new Float32Array(batch.length * plan.total);
      batch.forEach((_, i) => packed.set(coefficients[from + i]!, i * plan.total));
      gpu.write(coef, packed);
      for (const [i, seed] of batch.entries()) {
        const base = i * plan.total;
        await plan.reconstruct(scratch, seed, coef, {
          coefBase: base,
          scales: scaleBuffer,
          accumulate: false,
        });
        await plan.project(scratch, seed, back, { outBase: base });
        if (meanInto) {
          await plan.reconstruct(meanInto, seed, coef, { coefBase: base, scales: scaleBuffer });
        }
      }
      const reprojected = new Float32Array(await gpu.read(back, 0, packed.length * 4));
      batch.forEach((_, i) => {
        let sum = 0;
        plan.counts.forEach((K, l) => {
          for (let k = 0; k < K; k++) {
            const o = i * plan.total + plan.offsets[l]! + k;
            sum += scales[l]! * packed[o]! * reprojected[o]!;
          }
        });
        norms.push(sum);
      });
    }
  } finally {
    coef.destroy();
    back.destroy();
  }
  return norms;
}

/** A vector of `d` standard normal draws from the stream (seed, name). */
export function normalVector(seed: number, name: string, d: number): Float32Array {
  const stream = new RandomStream(seed, name);
  return Float32Array.from({ length: d }, () => stream.normal());
}

/** A vector of `d` uniform draws on [lo, hi) from the stream (seed, name). */
export function uniformVector(
  seed: number,
  name: string,
  d: number,
  lo: number,
  hi: number,
): Float32Array {
  const stream = new RandomStream(seed, name);
  return Float32Array.from({ length: d }, () => lo + (hi - lo) * stream.uniform());
}

/** Uploads `data` as a GpuVector. */
export function upload(gpu: Gpu, data: Float32Array): GpuVector {
  return GpuVector.from(gpu, data);
}

/** Σ a_i b_i in float64. */
export function dot(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
}

/** Mean and standard error of the mean. */
export function meanAndError(values: readonly number[]): { mean: number; se: number } {
  const n = values.length;
  const mean = values.reduce((a, b) => a + b, 0) / n;
  const variance = values.reduce((a, b) => a + (b - mean) ** 2, 0) / Math.max(1, n - 1);
  return { mean, se: Math.sqrt(variance / n) };
}

/** `count` distinct trial seeds derived from a cell seed (never 0-based collisions across cells). */
export function trialSeeds(seed: number, tag: number, count: number): number[] {
  const base = seed * 1_000_003 + tag * 65_537;
  return Array.from({ length: count }, (_, i) => base + i);
}

/** A Monte Carlo check's GPU setup: a vector, its scratch space, and one block of K bases over it. */
export interface OneBlock {
  /** The vector (Δ or u) on the GPU. */
  readonly x: GpuVector;
  /** Working space shaped like it. */
  readonly scratch: GpuVector;
  /** The plan of K bases over its one block. */
  readonly plan: BasisPlan;
}

/**
 * Runs `work` with `data` on the GPU and a one-block plan of `K` bases of
 * `distribution` over it, freeing them afterwards.
 *
 * @example
 * ```ts
 * import { withOneBlock } from "./monte_carlo.ts";
 * import { Gpu } from "../gpu/gpu.ts";
 * const gpu = await Gpu.create();
 * const bases = await withOneBlock(gpu, new Float32Array(8), 3, "gaussian", ({ plan }) =>
 *   Promise.resolve(plan.offsets.length));
 * console.log(bases); // 1
 * gpu.destroy();
 * ```
 */
export async function withOneBlock<T>(
  gpu: Gpu,
  data: Float32Array,
  K: number,
  distribution: Distribution,
  work: (setup: OneBlock) => Promise<T>,
): Promise<T> {
  const x = GpuVector.from(gpu, data);
  const scratch = x.like("scratch");
  const plan = BasisPlan.create(gpu, {
    blocks: [{ start: 0, length: data.length }],
    counts: [K],
    distribution,
    vector: x,
  });
  try {
    return await work({ x, scratch, plan });
  } finally {
    plan.destroy();
    x.destroy();
    scratch.destroy();
  }
}
