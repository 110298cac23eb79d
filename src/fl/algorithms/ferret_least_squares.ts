/**
 * Ferret's exact least-squares coordinates (paper.md §1.3 Eqs. 4–5), block
 * by block, for small d: γ_l = (V_lᵀV_l)⁻¹ V_lᵀ Δ_l, so that V_l γ_l is the
 * orthogonal projection of Δ_l onto the span of its K_l bases (Δ_l itself
 * when K_l = d_l). O(K_l² d_l + K_l³) per block and O(K d) memory: what
 * Eqs. 6–8 exist to avoid, kept as an option to check them against.
 *
 * The bases are generated on the GPU by the same reconstruction kernel the
 * server applies (one-hot coefficients), read back once with Δ, and the
 * normal equations are solved in f64 — so the coordinates fit the very
 * basis values the server will use.
 *
 * @module
 */

import type { GpuVector } from "../../gpu/vector.ts";
import type { BasisPlan } from "../../projection/plan.ts";
import { choleskySolve } from "../../projection/least_squares.ts";
import type { Seed } from "../../random/basis.ts";

/**
 * Most basis elements (Σ K_l × vector length) generated for one solve (64 MiB of f32).
 *
 * @example
 * ```ts
 * import { LEAST_SQUARES_LIMIT } from "./ferret_least_squares.ts";
 * console.log(LEAST_SQUARES_LIMIT); // 16777216
 * ```
 */
export const LEAST_SQUARES_LIMIT = 2 ** 24;

/**
 * The least-squares coordinates of `delta` on `plan`'s bases under `seed`
 * (block l's at `plan.offsets[l]`), with `scratch` (shaped like `delta`)
 * as working space. Requires K_l ≤ d_l, a single-chunk vector, and
 * Σ K_l × length ≤ {@linkcode LEAST_SQUARES_LIMIT}. One readback.
 *
 * @example
 * ```ts
 * import { leastSquaresCoordinates } from "./ferret_least_squares.ts";
 * import { Gpu } from "../../gpu/gpu.ts";
 * import { GpuVector } from "../../gpu/vector.ts";
 * import { BasisPlan } from "../../projection/plan.ts";
 * const gpu = await Gpu.create();
 * const delta = GpuVector.from(gpu, new Float32Array([1, -2, 3, 0.5]));
 * const plan = BasisPlan.create(gpu, { blocks: [{ start: 0, length: 4 }], counts: [4], vector: delta });
 * const gamma = await leastSquaresCoordinates(plan, delta, 9, delta.like());
 * const back = delta.like();
 * const coefficients = plan.coordinateBuffer();
 * gpu.write(coefficients, gamma);
 * await plan.reconstruct(back, 9, coefficients);
 * console.log(Array.from(await back.read(), (x) => +x.toFixed(3))); // [ 1, -2, 3, 0.5 ] (K = d spans all)
 * plan.destroy();
 * gpu.destroy();
 * ```
 */
export async function leastSquaresCoordinates(
  plan: BasisPlan,
  delta: GpuVector,
  seed: Seed,
  scratch: GpuVector,
): Promise<Float32Array> {
  const gpu = plan.gpu;
  const n = delta.length;
  const K = plan.total;
  if (delta.chunks.length !== 1) {
    throw new RangeError(
      `Cannot solve exact least squares on a vector of ${delta.chunks.length} chunks: it is for small d`,
    );
  }
  if (K * n > LEAST_SQUARES_LIMIT) {
    throw new RangeError(
      `Cannot solve exact least squares with ${K} bases of ${n} elements: ` +
        `more than ${LEAST_SQUARES_LIMIT} basis elements (it is for small d)`,
    );
  }
  plan.blocks.forEach((b, l) => {
    if (plan.counts[l]! > b.length) {
      throw new RangeError(
        `Cannot solve exact least squares for block ${l}: K_l = ${
          plan.counts[l]
        } > d_l = ${b.length}`,
      );
    }
  });
  delta.assertSameShape(scratch, "solve exact least squares");
  const identity = new Float32Array(K * K);
  for (let j = 0; j < K; j++) identity[j * K + j] = 1;
  const coefficients = gpu.upload(identity, "one-hot coefficients");
  const bases = gpu.buffer(K * n * 4, "bases");
  try {
    scratch.clear();
    const chunk = scratch.chunks[0]!;
    for (let j = 0; j < K; j++) {
      await plan.reconstruct(scratch, seed, coefficients, { coefBase: j * K, accumulate: false });
      gpu.copy(chunk.buffer, 0, bases, j * n * 4, n * 4);
    }
    const [vBytes, dBytes] = await gpu.readMany([
      { buffer: bases, size: K * n * 4 },
      { buffer: delta.chunks[0]!.buffer, size: n * 4 },
    ]);
    const V = new Float32Array(vBytes!);
    const x = new Float32Array(dBytes!);
    const gamma = new Float32Array(K);
    plan.blocks.forEach((block, l) => {
      const k = plan.counts[l]!;
      const first = plan.offsets[l]!;
      const gram = new Float64Array(k * k);
      const b = new Float64Array(k);
      for (let i = 0; i < k; i++) {
        const vi = (first + i) * n + block.start;
        for (let j = 0; j <= i; j++) {
          const vj = (first + j) * n + block.start;
          let s = 0;
          for (let e = 0; e < block.length; e++) s += V[vi + e]! * V[vj + e]!;
          gram[i * k + j] = s;
          gram[j * k + i] = s;
        }
        let s = 0;
        for (let e = 0; e < block.length; e++) s += V[vi + e]! * x[block.start + e]!;
        b[i] = s;
      }
      gamma.set(choleskySolve(gram, b, k), first);
    });
    return gamma;
  } finally {
    coefficients.destroy();
    bases.destroy();
  }
}
