/**
 * Allocating K bases over L blocks (paper.md §1.3, §2 Prop. 2, §7 item 4).
 *
 * @module
 */

import { kurtosis, rho } from "../random/moments.ts";

/** An allocation rule with a fixed total Σ_l K_l = K. */
export type AllocationRule =
  | "uniform"
  | "dim"
  | "norm"
  | "sqrt-norm-over-rho"
  | "norm-over-rho"
  | "mse-optimal";

/**
 * Every fixed-total allocation rule.
 *
 * @example
 * ```ts
 * import { ALLOCATION_RULES } from "./allocation.ts";
 * console.log(ALLOCATION_RULES.includes("norm")); // true
 * ```
 */
export const ALLOCATION_RULES: readonly AllocationRule[] = [
  "uniform",
  "dim",
  "norm",
  "sqrt-norm-over-rho",
  "norm-over-rho",
  "mse-optimal",
];

/**
 * Splits `total` into integers ≥ 1 proportional to `weights` with Σ = total
 * exactly (largest-remainder rounding): each block gets ⌊K·w_l/Σw⌋ (at least
 * 1), the blocks with the largest remainders get the units left over, and
 * when the minimum of 1 overshoots, the blocks with the smallest remainders
 * (among those above 1) give units back.
 *
 * @example
 * ```ts
 * import { largestRemainder } from "./allocation.ts";
 * console.log(largestRemainder([1, 1, 2], 7)); // [2, 2, 3]
 * ```
 */
export function largestRemainder(weights: readonly number[], total: number): number[] {
  const L = weights.length;
  if (L === 0) throw new RangeError("Cannot allocate bases to no blocks");
  if (!Number.isInteger(total) || total < L) {
    throw new RangeError(`Cannot allocate K = ${total} bases to ${L} blocks with K_l ≥ 1 each`);
  }
  if (!weights.every((w) => w >= 0 && Number.isFinite(w))) {
    throw new RangeError(
      `Cannot allocate by weights [${weights.slice(0, 4)}…]: expected finite ≥ 0`,
    );
  }
  const sum = weights.reduce((a, b) => a + b, 0);
  const shares = weights.map((w) => (sum > 0 ? (w / sum) * total : total / L));
  const counts = shares.map((s) => Math.max(1, Math.floor(s)));
  const remainder = shares.map((s, i) => s - counts[i]!);
  let left = total - counts.reduce((a, b) => a + b, 0);
  const byRemainder = remainder.map((r, i) => ({ r, i })).sort((a, b) => b.r - a.r || a.i - b.i);
  for (let j = 0; left > 0; j = (j + 1) % L, left--) counts[byRemainder[j]!.i]!++;
  for (let j = L - 1; left < 0; j = (j - 1 + L) % L) {
    const i = byRemainder[j]!.i;
    if (counts[i]! > 1) {
      counts[i]!--;
      left++;
    }
  }
  return counts;
}

/**
 * K_l for each block under `rule`, Σ K_l = `total` exactly, K_l ≥ 1.
 *
 * - `uniform`: K_l ∝ 1; `dim`: ∝ d_l; `norm`: ∝ ‖Δ_l‖ (what the experiments use).
 * - `sqrt-norm-over-rho`: ∝ sqrt(‖Δ_l‖/ρ_l) — Prop. 2's Lagrangian solved
 *   correctly (Eq. 24 gives K_l² ∝ ‖Δ_l‖/ρ_l).
 * - `norm-over-rho`: ∝ ‖Δ_l‖/ρ_l, Prop. 2 as printed (paper.md §8 item 1).
 * - `mse-optimal`: ∝ ‖Δ_l‖·√(d_l + κ_l − 2), the minimiser of the exact block
 *   MSE Σ_l ‖Δ_l‖²(d_l + κ_l − 2)/K_l (truncated-normal κ_l).
 *
 * `norms` (‖Δ_l‖) is needed by the norm rules; non-finite norms count as 0.
 *
 * @example
 * ```ts
 * import { allocateBases } from "./allocation.ts";
 * console.log(allocateBases("dim", [100, 300], 8)); // [2, 6]
 * ```
 */
export function allocateBases(
  rule: AllocationRule,
  dims: readonly number[],
  total: number,
  norms?: readonly number[],
): number[] {
  return largestRemainder(allocationWeights(rule, dims, norms), total);
}

/**
 * {@linkcode allocateBases} with at most `cap` bases per block (a seed pool
 * of `cap` seeds): blocks the rule would give more get `cap`, and the rest of
 * the total is split over the other blocks by the same rule, until none is
 * over. Σ K_l = `total` exactly, which needs `total` ≤ `cap` · L.
 *
 * @example
 * ```ts
 * import { cappedAllocation } from "./allocation.ts";
 * console.log(cappedAllocation("dim", [100, 100, 800], 10, 4)); // [3, 3, 4]
 * ```
 */
export function cappedAllocation(
  rule: AllocationRule,
  dims: readonly number[],
  total: number,
  cap: number,
  norms?: readonly number[],
): number[] {
  if (!Number.isInteger(cap) || cap < 1 || total > cap * dims.length) {
    throw new RangeError(
      `Cannot allocate K = ${total} bases to ${dims.length} blocks with at most ${cap} each`,
    );
  }
  const weights = allocationWeights(rule, dims, norms);
  const counts: number[] = new Array(dims.length).fill(cap);
  let open = dims.map((_, l) => l);
  for (;;) {
    const left = total - cap * (dims.length - open.length);
    const shares = largestRemainder(open.map((l) => weights[l]!), left);
    const over = open.filter((_, j) => shares[j]! > cap);
    if (over.length === 0) {
      open.forEach((l, j) => (counts[l] = shares[j]!));
      return counts;
    }
    open = open.filter((l) => !over.includes(l));
  }
}

/** The weights w_l of `rule` (K_l ∝ w_l), non-finite or negative norms counting as 0. */
function allocationWeights(
  rule: AllocationRule,
  dims: readonly number[],
  norms?: readonly number[],
): number[] {
  const needsNorms = rule !== "uniform" && rule !== "dim";
  if (needsNorms && (!norms || norms.length !== dims.length)) {
    throw new TypeError(`Cannot allocate by "${rule}": it needs one norm per block`);
  }
  const n = (l: number) => {
    const v = norms?.[l] ?? 0;
    return Number.isFinite(v) && v > 0 ? v : 0;
  };
  switch (rule) {
    case "uniform":
      return dims.map(() => 1);
    case "dim":
      return dims.slice();
    case "norm":
      return dims.map((_, l) => n(l));
    case "sqrt-norm-over-rho":
      return dims.map((d, l) => Math.sqrt(n(l) / rho(d)));
    case "norm-over-rho":
      return dims.map((d, l) => n(l) / rho(d));
    case "mse-optimal":
      return dims.map((d, l) => n(l) * Math.sqrt(d + kurtosis(d) - 2));
    default:
      throw new TypeError(`Cannot allocate by "${rule}": expected ${ALLOCATION_RULES}`);
  }
}

/**
 * The official code's allocation: K_l = max(int(‖Δ_l‖ / max_l′ ‖Δ_l′‖ × K), 2),
 * a NaN norm giving 2; Σ K_l is not fixed (paper.md §7 item 4).
 *
 * @example
 * ```ts
 * import { officialAllocation } from "./allocation.ts";
 * console.log(officialAllocation([1, 0.5, 0.001, NaN], 200)); // [200, 100, 2, 2]
 * ```
 */
export function officialAllocation(norms: readonly number[], maxBases: number): number[] {
  if (!Number.isInteger(maxBases) || maxBases < 1) {
    throw new RangeError(`Cannot allocate with K = ${maxBases}: expected an integer ≥ 1`);
  }
  const finite = norms.filter((v) => Number.isFinite(v));
  const top = finite.length > 0 ? Math.max(...finite) : NaN;
  return norms.map((v) => {
    const k = Math.trunc((v / top) * maxBases);
    return Number.isFinite(k) ? Math.max(k, 2) : 2;
  });
}

/**
 * The exact block-wise MSE E‖Δ̃ − Δ‖² = Σ_l ‖Δ_l‖²(d_l + κ_l − 2)/K_l of the
 * unbiased reconstruction (paper.md §2, Thm 2 [our check], Prop. 2).
 *
 * @example
 * ```ts
 * import { blockMse } from "./allocation.ts";
 * console.log(blockMse([1000], [1], [10], [1.8])); // 99.98
 * ```
 */
export function blockMse(
  dims: readonly number[],
  norms: readonly number[],
  counts: readonly number[],
  kurtoses: readonly number[],
): number {
  return dims.reduce(
    (sum, d, l) => sum + (norms[l]! ** 2 * (d + kurtoses[l]! - 2)) / counts[l]!,
    0,
  );
}
