/**
 * Exact least-squares projection (paper.md §1.3 Eqs. 4–5) for small d:
 * γ = (VᵀV)⁻¹VᵀΔ and Δ̃ = Vγ, the orthogonal projection of Δ onto span(V).
 * O(K²d + K³) time and O(Kd) memory, which is what Eqs. 6–8 avoid.
 *
 * @module
 */

import { basisParams, basisVector, type Distribution, type Seed } from "../random/basis.ts";

/**
 * Solves G y = b for a symmetric positive definite G (row-major K×K) by Cholesky.
 *
 * @example
 * ```ts
 * import { choleskySolve } from "./least_squares.ts";
 * // [[4, 2], [2, 3]] x = [2, 1]  →  x = [0.5, 0]
 * console.log(choleskySolve(new Float64Array([4, 2, 2, 3]), new Float64Array([2, 1]), 2));
 * ```
 */
export function choleskySolve(gram: Float64Array, b: Float64Array, K: number): Float64Array {
  const Lm = new Float64Array(K * K);
  for (let i = 0; i < K; i++) {
    for (let j = 0; j <= i; j++) {
      let s = gram[i * K + j]!;
      for (let p = 0; p < j; p++) s -= Lm[i * K + p]! * Lm[j * K + p]!;
      if (i === j) {
        if (!(s > 0)) {
          throw new RangeError(
            `Cannot solve the least-squares system: the Gram matrix is singular (pivot ${s} at ${i})`,
          );
        }
        Lm[i * K + i] = Math.sqrt(s);
      } else {
        Lm[i * K + j] = s / Lm[j * K + j]!;
      }
    }
  }
  const y = new Float64Array(K);
  for (let i = 0; i < K; i++) {
    let s = b[i]!;
    for (let p = 0; p < i; p++) s -= Lm[i * K + p]! * y[p]!;
    y[i] = s / Lm[i * K + i]!;
  }
  for (let i = K - 1; i >= 0; i--) {
    let s = y[i]!;
    for (let p = i + 1; p < K; p++) s -= Lm[p * K + i]! * y[p]!;
    y[i] = s / Lm[i * K + i]!;
  }
  return y;
}

/**
 * The least-squares coordinates and reconstruction of `delta` on the K bases
 * of block 0 under `seed` (Eq. 5). Requires K ≤ d.
 *
 * @example
 * ```ts
 * import { leastSquaresReconstruction } from "./least_squares.ts";
 * const delta = new Float32Array([1, -2, 3, 0.5]);
 * const { reconstruction } = leastSquaresReconstruction(delta, 4, "gaussian", 3);
 * console.log(reconstruction.map((x) => +x.toFixed(6))); // ≈ delta (K = d spans everything)
 * ```
 */
export function leastSquaresReconstruction(
  delta: Float32Array,
  K: number,
  distribution: Distribution,
  seed: Seed,
): { coordinates: Float64Array; reconstruction: Float64Array } {
  const d = delta.length;
  if (!Number.isInteger(K) || K < 1 || K > d) {
    throw new RangeError(`Cannot solve least squares with K = ${K} bases in d = ${d}`);
  }
  const params = basisParams(distribution, d);
  const V = Array.from({ length: K }, (_, k) => basisVector(distribution, params, seed, 0, k));
  const gram = new Float64Array(K * K);
  const b = new Float64Array(K);
  for (let i = 0; i < K; i++) {
    for (let j = 0; j <= i; j++) {
      let s = 0;
      for (let e = 0; e < d; e++) s += V[i]![e]! * V[j]![e]!;
      gram[i * K + j] = s;
      gram[j * K + i] = s;
    }
    let s = 0;
    for (let e = 0; e < d; e++) s += V[i]![e]! * delta[e]!;
    b[i] = s;
  }
  const coordinates = choleskySolve(gram, b, K);
  const reconstruction = new Float64Array(d);
  for (let k = 0; k < K; k++) {
    for (let e = 0; e < d; e++) reconstruction[e]! += coordinates[k]! * V[k]![e]!;
  }
  return { coordinates, reconstruction };
}
