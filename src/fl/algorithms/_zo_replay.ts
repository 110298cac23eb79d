/**
 * Replaying a seed pool: x (+)= Σ_k c_k·z(seed_k), every z_k the N(0, I)
 * direction a one-block Gaussian plan with K_l = 1 generates for seed_k
 * (src/fl/algorithms/_zo_step.ts), all K directions in one pass over the
 * vector (`kernels/zo_replay.wgsl`). FedKSeed's server rebuilds its global
 * model this way every round, w = w₀ − η Σ_s pool[s]·z_s (paper.md §6); the
 * O(K·d) random numbers are the "Global Aggr." cost that paper.md §3
 * Tables 4, 5 and 10 time.
 *
 * @module
 */

import * as kernels from "../../../kernels/mod.ts";
import type { GpuVector } from "../../gpu/vector.ts";
import { basisElements, basisParams, type Seed, seedKey } from "../../random/basis.ts";

/**
 * Seeds per dispatch. llvmpipe silently ends an invocation's loops after
 * 65535 iterations in total; a lane runs one iteration per seed, so 8192
 * is well inside. The grouping also fixes the summation order (a dispatch
 * adds its seeds' sum to the vector), so changing it would change results.
 */
export const REPLAY_SEEDS_PER_DISPATCH = 8192;

/** Lanes per workgroup and granules (4 elements) per lane of the replay kernel. */
const LANES = 64;
const GRANULES_PER_LANE = 8;

/** The Philox key words (lo, hi) of each seed, as the replay kernel reads them. */
export function seedKeys(seeds: readonly Seed[]): Uint32Array<ArrayBuffer> {
  const keys = new Uint32Array(Math.max(2, 2 * seeds.length));
  seeds.forEach((seed, k) => keys.set(seedKey(seed), 2 * k));
  return keys;
}

/** Options of {@linkcode replaySeeds}. */
export interface ReplayOptions {
  /** Index in `keys` of the first seed (default 0). */
  readonly seedBase?: number;
  /** Index in `coefficients` of the first seed's coefficient (default 0). */
  readonly coefBase?: number;
  /** Add to the target (default) or overwrite it. */
  readonly accumulate?: boolean;
  /**
   * Several models in the target's one chunk (src/model/model_batch.ts):
   * `count` models of `length` elements, `stride` elements apart (a
   * multiple of 32: a lane's granules stay in one model), model m with its own seeds from `seedBase + m·keyStride`
   * and coefficients from `coefBase + m·coefStride`; each gets what a lone
   * vector of `length` elements gets.
   */
  readonly models?: {
    readonly count: number;
    readonly length: number;
    readonly stride: number;
    readonly keyStride: number;
    readonly coefStride: number;
  };
}

/**
 * Records `target (+)= Σ_{k<count} coef[coefBase + k]·z(seed_{seedBase + k})`
 * into the pending batch; `keys` holds {@linkcode seedKeys} of the seeds,
 * `coefficients` f32 values. No readback. With one seed and a coefficient
 * computed on the GPU this is also the zeroth-order perturbation w += c·z.
 */
export async function replaySeeds(
  target: GpuVector,
  keys: GPUBuffer,
  coefficients: GPUBuffer,
  count: number,
  options: ReplayOptions = {},
): Promise<void> {
  if (!Number.isInteger(count) || count < 0) {
    throw new RangeError(`Cannot replay ${count} seeds: expected an integer ≥ 0`);
  }
  const seedBase = options.seedBase ?? 0;
  const coefBase = options.coefBase ?? 0;
  const models = options.models;
  if (models) {
    const { length, stride } = models;
    if (
      target.chunks.length !== 1 || stride % (4 * GRANULES_PER_LANE) !== 0 || length > stride ||
      models.count * stride > target.length
    ) {
      throw new RangeError(
        `Cannot replay seeds over ${models.count} models of ${length} elements ${stride} apart ` +
          `in a vector of ${target.length} in ${target.chunks.length} chunks`,
      );
    }
  }
  const lastKey = models ? (models.count - 1) * models.keyStride : 0;
  const lastCoef = models ? (models.count - 1) * models.coefStride : 0;
  if (
    !Number.isInteger(seedBase) || !Number.isInteger(coefBase) || seedBase < 0 || coefBase < 0 ||
    (lastKey + seedBase + count) * 8 > keys.size ||
    (lastCoef + coefBase + count) * 4 > coefficients.size
  ) {
    throw new RangeError(
      `Cannot replay seeds ${seedBase}…${seedBase + count} with coefficients from ${coefBase}: ` +
        `${keys.size} key bytes, ${coefficients.size} coefficient bytes`,
    );
  }
  if (target.length / 4 >= 2 ** 32) {
    throw new RangeError(`Cannot replay seeds over ${target.length} elements: at most 2³⁴`);
  }
  const gpu = target.gpu;
  let accumulate = options.accumulate ?? true;
  if (count === 0) {
    if (!accumulate) target.clear();
    return;
  }
  for (let first = 0; first < count; first += REPLAY_SEEDS_PER_DISPATCH) {
    const n = Math.min(REPLAY_SEEDS_PER_DISPATCH, count - first);
    for (const chunk of target.chunks) {
      if (chunk.length === 0) continue;
      // With several models, only theirs (a batch may hold more than a step uses).
      const elements = models ? models.count * models.stride : chunk.length;
      const lanes = Math.ceil(Math.ceil(elements / 4) / GRANULES_PER_LANE);
      await gpu.dispatch({
        kernel: kernels.zoReplay,
        constants: { WG: LANES },
        storage: [chunk.buffer, coefficients, keys],
        uniform: new Uint32Array([
          chunk.start / 4,
          elements,
          seedBase + first,
          n,
          coefBase + first,
          accumulate ? 1 : 0,
          models ? models.stride / 4 : 0xffffffff,
          models?.keyStride ?? 0,
          models?.coefStride ?? 0,
          models ? models.length : chunk.length,
          0,
          0,
        ]),
        workgroups: Math.ceil(lanes / LANES),
      });
    }
    accumulate = true;
  }
}

/**
 * Plain TypeScript reference of {@linkcode replaySeeds} (directions from
 * `basisElements`, sums in double precision).
 *
 * @example
 * ```ts
 * import { replayReference } from "./_zo_replay.ts";
 * const x = replayReference(new Float32Array(4), [7, 9], [1, -1]);
 * console.log(x.length); // 4 (z(7) − z(9))
 * ```
 */
export function replayReference(
  x: Float32Array,
  seeds: readonly Seed[],
  coefficients: ArrayLike<number>,
  accumulate = true,
): Float32Array {
  const acc = new Float64Array(x.length);
  const z = new Float32Array(x.length);
  const params = basisParams("gaussian", Math.max(1, x.length));
  seeds.forEach((seed, k) => {
    basisElements(z, "gaussian", params, seed, 0, 0, 0);
    const c = Math.fround(coefficients[k]!);
    for (let i = 0; i < x.length; i++) acc[i]! += c * z[i]!;
  });
  return Float32Array.from(x, (v, i) => (accumulate ? v : 0) + acc[i]!);
}
