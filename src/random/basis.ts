/**
 * Random bases as a wire format (DESIGN.md §4): element `e` of basis `k` of
 * block `l` under seed `s` is a pure function of (s, l, k, e) — no state, so
 * any element of any basis can be generated anywhere, in any order, on any
 * device. The WGSL twin (`kernels/philox.wgsl`) implements the same layout;
 * this file is its reference and its specification.
 *
 * ## Generator
 *
 * Philox4x32-10 ({@linkcode philox4x32}): 4 counter words c0…c3 and 2 key
 * words k0, k1 in, 4 uniform u32 words w0…w3 out.
 *
 * ## Key and counter layout
 *
 * - key = (seed mod 2³², ⌊seed / 2³²⌋) — any seed in [0, 2⁶⁴) (the official
 *   code's seeds 1…10¹¹ use 37 bits).
 * - A block's elements are grouped into **granules** of G consecutive elements
 *   (G = 8 for `truncnormal`, 4 for `gaussian`, 128 for `rademacher`): element
 *   `e` (its index inside the block, 0-based, independent of where the block
 *   lies in the parameter vector and of how that vector is chunked) belongs
 *   to granule g = ⌊e/G⌋ at position j = e mod G.
 * - counter = (c0, c1, c2, c3) with
 *   - c0 = g mod 2³²
 *   - c1 = k (basis index)
 *   - c2 = l (block index)
 *   - c3 = tag·2²⁴ + draw·2¹⁶ + ⌊g/2³²⌋, where tag is the distribution's
 *     stream tag (1 truncnormal, 2 gaussian, 3 rademacher; so one seed gives
 *     independent bases in each distribution) and draw is 0 for the main
 *     draw and 1…255 for the further draws of the truncated normal's slow path.
 *   Blocks up to 2⁴⁸ granules, 2³² bases and 2³² blocks per seed.
 *
 * ## Transforms (all arithmetic in f32 on the GPU)
 *
 * - `rademacher`: value = ±1/√d_l; the sign is bit (j mod 32) of word
 *   ⌊j/32⌋ of the main draw (bit set → negative). ρ = 1/d_l, κ = 1, ‖v‖ = 1.
 * - `gaussian` (N(0, 1), unscaled): Box–Muller on the word pairs (w0, w1)
 *   → elements j = 0, 1 and (w2, w3) → j = 2, 3: u₁ = (⌊w_even/2⁹⌋ + ½)·2⁻²³
 *   ∈ (0, 1), u₂ = ⌊w_odd/2⁸⌋·2⁻²⁴, r = √(−2 ln u₁), θ = 2πu₂, value r·cos θ
 *   (even j) or r·sin θ (odd j). |value| ≤ 5.8 (a tail of 8·10⁻⁹ is cut).
 *   ρ = 1, κ = 3.
 * - `truncnormal` (the paper's N(0, 1) truncated to [−a, a], a = 1/√d_l),
 *   sampled exactly as a two-part mixture of the density ∝ e^{−x²/2}:
 *   e^{−x²/2} = m + (e^{−x²/2} − m) with m = e^{−a²/2}. The flat (uniform)
 *   part has weight p = 2am / (√(2π)·erf(a/√2)) ≈ 1 − 1/(3d_l).
 *   - Main draw, 16 bits per element (8 elements per Philox block): element j
 *     takes h = half (j mod 2) of word ⌊j/2⌋ (low half first). With
 *     H = min(65535, ⌊p·2¹⁶⌋), h < H is a flat-part level: value = h·S + O,
 *     S = 2a/H, O = S/2 − a (the flat part is quantised to H levels, which
 *     changes its variance by a relative 1/H² < 3·10⁻¹⁰).
 *   - Otherwise (probability 1 − H/2¹⁶ ≥ 2⁻¹⁶) the slow path, draws
 *     1 + 8r + j for attempts r = 0…30, words (w0, w1, w2): at r = 0 the
 *     element is flat with probability p' = (p − H/2¹⁶)/(1 − H/2¹⁶)
 *     (w0 < T' = ⌊p'·2³²⌋), value x = (⌊w1/2⁹⌋ + ½)·2⁻²³·2a − a; else it comes
 *     from the residual density ∝ e^{−x²/2} − m by rejection: proposal x as
 *     above, u = (⌊w2/2⁹⌋ + ½)·2⁻²³, accepted when
 *     u·(1 − m) < e^{−x²/2}·(1 − e^{−(a²−x²)/2}) (the same inequality without
 *     cancellation). Acceptance is ≈ 2/3 per attempt (0.63 at d = 1); the
 *     31st attempt is taken as is (probability < 10⁻¹³ per residual element).
 *   P(flat) = H/2¹⁶ + (1 − H/2¹⁶)·p' = p, so the mixture is exact.
 *   ρ = {@linkcode rho}(d_l), κ = {@linkcode kurtosis}(d_l), ‖v‖ ≤ 1.
 *
 * The TypeScript reference below follows the same f32 operations; the GPU
 * may fuse a multiply-add or evaluate ln/sin/cos/exp to a few ulp, so
 * values agree to ~1e-6 relative while the Philox words agree bit for bit.
 *
 * @module
 */

import { philox4x32Into } from "./philox.ts";
import { erf, kurtosis, rho } from "./moments.ts";

/** A basis distribution (DESIGN.md §4). */
export type Distribution = "truncnormal" | "gaussian" | "rademacher";

/**
 * Every distribution, the paper's first.
 *
 * @example
 * ```ts
 * import { DISTRIBUTIONS } from "./basis.ts";
 * console.log(DISTRIBUTIONS[0]); // "truncnormal"
 * ```
 */
export const DISTRIBUTIONS: readonly Distribution[] = ["truncnormal", "gaussian", "rademacher"];

/** Stream tag of each distribution (bits 24–31 of counter word c3). */
export const DISTRIBUTION_TAG: Readonly<Record<Distribution, number>> = {
  truncnormal: 1,
  gaussian: 2,
  rademacher: 3,
};

/** Elements per Philox block (granule) of each distribution. */
export const GRANULE: Readonly<Record<Distribution, number>> = {
  truncnormal: 8,
  gaussian: 4,
  rademacher: 128,
};

/** A seed: a safe integer or a bigint, in [0, 2⁶⁴). */
export type Seed = number | bigint;

/**
 * The Philox key words (lo, hi) of a seed.
 *
 * @example
 * ```ts
 * import { seedKey } from "./basis.ts";
 * console.log(seedKey(2n ** 32n + 5n)); // [5, 1]
 * ```
 */
export function seedKey(seed: Seed): [number, number] {
  if (typeof seed === "bigint") {
    if (seed < 0n || seed >= 1n << 64n) {
      throw new RangeError(`Cannot use seed ${seed}: expected 0 ≤ seed < 2⁶⁴`);
    }
    return [Number(seed & 0xffffffffn), Number(seed >> 32n)];
  }
  if (!Number.isSafeInteger(seed) || seed < 0) {
    throw new RangeError(
      `Cannot use seed ${seed}: expected an integer 0 ≤ seed < 2⁵³ (or a bigint below 2⁶⁴)`,
    );
  }
  return [seed >>> 0, Math.floor(seed / 2 ** 32) >>> 0];
}

/** Per-block constants of a distribution, as the kernels receive them. */
export interface BasisParams {
  /** Block dimension d_l. */
  readonly dimension: number;
  /** Truncation bound a = 1/√d_l (truncnormal), the ±value (rademacher), 0 (gaussian). */
  readonly a: number;
  /** Flat levels H of the 16-bit main draw (truncnormal). */
  readonly levels: number;
  /** Slow-path flat threshold T' (truncnormal). */
  readonly flat2: number;
  /** Flat-part scale S (truncnormal). */
  readonly scale: number;
  /** Flat-part offset O (truncnormal). */
  readonly offset: number;
  /** 1 − e^{−a²/2} (truncnormal). */
  readonly oneMinusM: number;
}

/**
 * The weight p of the flat part of the truncated normal (see the module doc):
 * 2a·e^{−a²/2} / ∫_{−a}^{a} e^{−x²/2}dx, with the integral as a series in a² for small a.
 */
export function flatWeight(dimension: number): number {
  const a2 = 1 / dimension;
  let meanDensity: number;
  if (dimension < 64) {
    const a = Math.sqrt(a2);
    meanDensity = (Math.sqrt(2 * Math.PI) * erf(a / Math.SQRT2)) / (2 * a);
  } else {
    meanDensity = 0;
    let c = 1;
    for (let j = 0; j < 60; j++) {
      meanDensity += c / (2 * j + 1);
      c *= -a2 / 2 / (j + 1);
    }
  }
  return Math.exp(-a2 / 2) / meanDensity;
}

/**
 * The constants of `distribution` for a block of `dimension` elements.
 *
 * @example
 * ```ts
 * import { basisParams } from "./basis.ts";
 * console.log(basisParams("truncnormal", 1e6).levels); // 65535
 * ```
 */
export function basisParams(distribution: Distribution, dimension: number): BasisParams {
  if (!Number.isSafeInteger(dimension) || dimension < 1) {
    throw new RangeError(`Cannot build a basis of dimension ${dimension}: expected an integer ≥ 1`);
  }
  const none = { dimension, a: 0, levels: 0, flat2: 0, scale: 0, offset: 0, oneMinusM: 0 };
  if (distribution === "gaussian") return none;
  const a = 1 / Math.sqrt(dimension);
  if (distribution === "rademacher") return { ...none, a: Math.fround(a) };
  if (distribution !== "truncnormal") {
    throw new TypeError(`Cannot build a "${distribution}" basis: expected ${DISTRIBUTIONS}`);
  }
  const p = flatWeight(dimension);
  const levels = Math.min(65535, Math.floor(p * 65536));
  const fast = levels / 65536;
  const flat2 = Math.min(0xffffffff, Math.max(0, Math.floor(((p - fast) / (1 - fast)) * 2 ** 32)));
  const scale = Math.fround((2 * a) / levels);
  return {
    dimension,
    a: Math.fround(a),
    levels,
    flat2,
    scale,
    offset: Math.fround(scale / 2 - a),
    oneMinusM: Math.fround(-Math.expm1(-1 / dimension / 2)),
  };
}

/**
 * ρ = E[v²] of one element of a basis of `distribution` over `dimension` elements.
 *
 * @example
 * ```ts
 * import { basisVariance } from "./basis.ts";
 * import { rho } from "./moments.ts";
 * console.log(basisVariance("truncnormal", 1000) === rho(1000)); // true
 * ```
 */
export function basisVariance(distribution: Distribution, dimension: number): number {
  if (distribution === "truncnormal") return rho(dimension);
  if (distribution === "gaussian") return 1;
  return 1 / dimension;
}

/**
 * κ = E[v⁴]/ρ² of one element of a basis of `distribution` over `dimension` elements.
 *
 * @example
 * ```ts
 * import { basisKurtosis } from "./basis.ts";
 * console.log(basisKurtosis("rademacher", 1000), basisKurtosis("gaussian", 1000)); // 1 3
 * ```
 */
export function basisKurtosis(distribution: Distribution, dimension: number): number {
  if (distribution === "truncnormal") return kurtosis(dimension);
  if (distribution === "gaussian") return 3;
  return 1;
}

const f32 = Math.fround;
const TWO_M23 = 2 ** -23;
const TWO_M24 = 2 ** -24;

/** 1 − e^{−t} in f32 as the kernel computes it (series below 0.01). */
function oneMinusExpF32(t: number): number {
  if (t < 0.01) return f32(t * f32(1 - f32(f32(t * 0.5) * f32(1 - f32(t / 3)))));
  return f32(1 - f32(Math.exp(-t)));
}

/**
 * Fills `out[i]` with element `first + i` of basis `k` of block `block` under
 * `seed` — the reference of the kernels' basis generation.
 *
 * @example
 * ```ts
 * import { basisElements, basisParams } from "./basis.ts";
 * const v = new Float32Array(8);
 * basisElements(v, "rademacher", basisParams("rademacher", 4), 42, 0, 0, 0);
 * console.log(v.map((x) => Math.abs(x))); // Float32Array(8) [0.5, 0.5, …]
 * ```
 */
export function basisElements(
  out: Float32Array,
  distribution: Distribution,
  params: BasisParams,
  seed: Seed,
  block: number,
  k: number,
  first: number,
): void {
  const [k0, k1] = seedKey(seed);
  const tag = DISTRIBUTION_TAG[distribution];
  const G = GRANULE[distribution];
  const words = new Uint32Array(4);
  const extra = new Uint32Array(4);
  let lastGranule = -1;
  for (let i = 0; i < out.length; i++) {
    const e = first + i;
    const g = Math.floor(e / G);
    const j = e - g * G;
    const gLo = g >>> 0;
    const gHi = Math.floor(g / 2 ** 32);
    if (g !== lastGranule) {
      philox4x32Into(gLo, k >>> 0, block >>> 0, (tag << 24 | gHi) >>> 0, k0, k1, words);
      lastGranule = g;
    }
    if (distribution === "rademacher") {
      const bit = (words[j >>> 5]! >>> (j & 31)) & 1;
      out[i] = bit ? -params.a : params.a;
    } else if (distribution === "gaussian") {
      const even = j & ~1;
      const u1 = f32(f32((words[even]! >>> 9) + 0.5) * TWO_M23);
      const u2 = f32((words[even + 1]! >>> 8) * TWO_M24);
      const r = f32(Math.sqrt(f32(-2 * f32(Math.log(u1)))));
      const theta = f32(f32(2 * Math.PI) * u2);
      out[i] = f32(r * f32((j & 1) ? Math.sin(theta) : Math.cos(theta)));
    } else {
      const h = (words[j >>> 1]! >>> ((j & 1) * 16)) & 0xffff;
      if (h < params.levels) {
        out[i] = f32(f32(h * params.scale) + params.offset);
        continue;
      }
      const a = params.a;
      let x = 0;
      for (let r = 0; r < 31; r++) {
        const draw = 1 + 8 * r + j;
        philox4x32Into(
          gLo,
          k >>> 0,
          block >>> 0,
          (tag << 24 | draw << 16 | gHi) >>> 0,
          k0,
          k1,
          extra,
        );
        x = f32(f32(f32(f32((extra[1]! >>> 9) + 0.5) * TWO_M23) * f32(2 * a)) - a);
        if (r === 0 && extra[0]! < params.flat2) break;
        const u = f32(f32((extra[2]! >>> 9) + 0.5) * TWO_M23);
        const half = f32(f32(x * x) * 0.5);
        const rhs = f32(f32(Math.exp(-half)) * oneMinusExpF32(f32(f32(f32(a * a) * 0.5) - half)));
        if (f32(u * params.oneMinusM) < rhs) break;
      }
      out[i] = x;
    }
  }
}

/**
 * Basis `k` of block `block` (dimension `params.dimension`) under `seed`, materialised
 * (tests, small references; the kernels never materialise a basis).
 *
 * @example
 * ```ts
 * import { basisParams, basisVector } from "./basis.ts";
 * const v = basisVector("rademacher", basisParams("rademacher", 4), 7, 0, 0);
 * console.log(v.length, v.every((x) => Math.abs(Math.abs(x) - 0.5) < 1e-7)); // 4 true
 * ```
 */
export function basisVector(
  distribution: Distribution,
  params: BasisParams,
  seed: Seed,
  block: number,
  k: number,
): Float32Array {
  const out = new Float32Array(params.dimension);
  basisElements(out, distribution, params, seed, block, k, 0);
  return out;
}
