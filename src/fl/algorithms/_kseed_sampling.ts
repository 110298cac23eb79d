/**
 * FedKSeed-Pro's probability-differentiated seed sampling (paper.md §6):
 * the per-round probabilities from each candidate's mean |clipped
 * historical scalar gradient|, and the inverse-CDF draw of a candidate.
 * The history bookkeeping lives in src/fl/algorithms/fed_kseed.ts.
 *
 * @module
 */

/**
 * FedKSeed-Pro's sampling probabilities from each candidate's mean
 * |clipped historical g|: softmax((a − min a)/(max a − min a + 10⁻¹⁰)).
 *
 * @example
 * ```ts
 * import { seedProbabilities } from "./fed_kseed.ts";
 * const p = seedProbabilities([0, 0.25, 0.5]);
 * console.log(Array.from(p, (x) => x.toFixed(3))); // [ "0.186", "0.307", "0.506" ]
 * ```
 */
export function seedProbabilities(meanAbs: ArrayLike<number>): Float64Array<ArrayBuffer> {
  const n = meanAbs.length;
  if (n === 0) throw new RangeError("Cannot compute seed probabilities of no candidates");
  let min = Infinity;
  let max = -Infinity;
  for (let i = 0; i < n; i++) {
    const a = meanAbs[i]!;
    if (!Number.isFinite(a)) {
      throw new RangeError(`Cannot compute seed probabilities: candidate ${i} has mean ${a}`);
    }
    min = Math.min(min, a);
    max = Math.max(max, a);
  }
  const scaled = Float64Array.from(
    { length: n },
    (_, i) => (meanAbs[i]! - min) / (max + 1e-10 - min),
  );
  const top = scaled.reduce((m, v) => Math.max(m, v), -Infinity);
  const e = scaled.map((v) => Math.exp(v - top));
  const sum = e.reduce((s, v) => s + v, 0);
  return e.map((v) => v / sum);
}

/** Inverse-CDF draw from cumulative probabilities `cdf` (last entry ≈ 1). */
export function drawIndex(cdf: Float64Array, u: number): number {
  const x = u * cdf[cdf.length - 1]!;
  let lo = 0;
  let hi = cdf.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (cdf[mid]! > x) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}
