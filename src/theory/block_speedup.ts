/**
 * Proposition 1 (block-wise reconstruction speed-up, paper.md §2): the work
 * Σ_l d_l K_l against dK, exactly, and the measured time of the fused
 * reconstruction kernel as the number of equal blocks L grows at fixed K.
 *
 * @module
 */

import type { Gpu } from "../gpu/gpu.ts";
import { GpuVector } from "../gpu/vector.ts";
import { BasisPlan } from "../projection/plan.ts";
import type { Segment } from "../gpu/vector.ts";
import { largestRemainder } from "../projection/allocation.ts";

/**
 * L equal (up to one element) contiguous blocks of a d-vector.
 *
 * @example
 * ```ts
 * import { equalBlocks } from "./block_speedup.ts";
 * console.log(equalBlocks(10, 3)); // [{start: 0, length: 3}, {start: 3, length: 3}, {start: 6, length: 4}]
 * ```
 */
export function equalBlocks(d: number, L: number): Segment[] {
  return Array.from({ length: L }, (_, l) => {
    const start = Math.floor((l * d) / L);
    return { start, length: Math.floor(((l + 1) * d) / L) - start };
  });
}

/**
 * Seconds of one reconstruction into `x` with coordinates `coef`: the best of
 * `repeats` timed runs after one untimed run that compiles the pipelines, so
 * neither compilation nor a busy neighbour decides a comparison of times.
 * Seeds `seed`, `seed + 1`, … are used, one per run.
 */
export async function fastestReconstruction(
  gpu: Gpu,
  plan: BasisPlan,
  x: GpuVector,
  coef: GPUBuffer,
  options: { seed: number; repeats: number },
): Promise<number> {
  const { seed, repeats } = options;
  if (!(Number.isInteger(repeats) && repeats >= 1)) {
    throw new RangeError(`repeats must be a positive integer, got ${repeats}`);
  }
  await plan.reconstruct(x, seed, coef);
  await gpu.sync();
  let best = Infinity;
  for (let r = 0; r < repeats; r++) {
    const t = await gpu.time(() => plan.reconstruct(x, seed + r + 1, coef));
    best = Math.min(best, t.seconds);
  }
  return best;
}

/** One row: L blocks of a d-vector with K bases in total. */
export interface Proposition1Row {
  /** Further values by name. */
  [key: string]: number;
  /** Dimension d. */
  d: number;
  /** Number of bases K. */
  K: number;
  /** Number of blocks L. */
  L: number;
  /** Σ_l d_l K_l. */
  work: number;
  /** d·K. */
  full: number;
  /** work/full (1/L for equal blocks). */
  ratio: number;
  /** Seconds of one reconstruction (best of `repeats`). */
  seconds: number;
}

/**
 * Times the reconstruction with L blocks.
 *
 * @example
 * ```ts
 * import { proposition1Row } from "./block_speedup.ts";
 * import { Gpu } from "../gpu/gpu.ts";
 * const gpu = await Gpu.create();
 * const row = await proposition1Row(gpu, { d: 4096, K: 8, L: 4, repeats: 1, seed: 1 });
 * console.log(row.ratio); // 0.25
 * gpu.destroy();
 * ```
 */
export async function proposition1Row(
  gpu: Gpu,
  options: { d: number; K: number; L: number; repeats: number; seed: number },
): Promise<Proposition1Row> {
  const { d, K, L, repeats, seed } = options;
  const blocks = equalBlocks(d, L);
  const counts = largestRemainder(blocks.map(() => 1), K);
  const work = blocks.reduce((s, b, l) => s + b.length * counts[l]!, 0);
  const x = GpuVector.create(gpu, d);
  const plan = BasisPlan.create(gpu, { blocks, counts, vector: x });
  const coef = plan.coordinateBuffer();
  try {
    gpu.write(coef, new Float32Array(plan.total).fill(1e-3));
    const seconds = await fastestReconstruction(gpu, plan, x, coef, { seed, repeats });
    return { d, K, L, work, full: d * K, ratio: work / (d * K), seconds };
  } finally {
    plan.destroy();
    x.destroy();
  }
}
