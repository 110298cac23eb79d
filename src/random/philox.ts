/**
 * Philox4x32-10 (Salmon, Moraes, Dror, Shaw: "Parallel random numbers: as
 * easy as 1, 2, 3", SC'11), the counter-based generator behind every random
 * draw of the toolkit. The WGSL twin lives in `kernels/philox.wgsl`; the two
 * are bit-identical and checked against the Random123 known-answer vectors.
 *
 * @module
 */

const M0 = 0xd2511f53;
const M1 = 0xcd9e8d57;
const W0 = 0x9e3779b9;
const W1 = 0xbb67ae85;

/** High 32 bits of the 64-bit product of two u32 (exact, no BigInt). */
function mulhi(a: number, b: number): number {
  const aLo = a & 0xffff, aHi = a >>> 16;
  const bLo = b & 0xffff, bHi = b >>> 16;
  const lolo = aLo * bLo;
  const mid1 = aHi * bLo;
  const mid2 = aLo * bHi;
  const carry = ((lolo >>> 16) + (mid1 & 0xffff) + (mid2 & 0xffff)) >>> 16;
  return (aHi * bHi + (mid1 >>> 16) + (mid2 >>> 16) + carry) >>> 0;
}

/**
 * Philox4x32 with 10 rounds into `out` (allocation-free inner loop).
 * Arguments are u32 values; `out` receives four u32 values.
 */
export function philox4x32Into(
  c0: number,
  c1: number,
  c2: number,
  c3: number,
  k0: number,
  k1: number,
  out: Uint32Array,
): void {
  for (let round = 0; round < 10; round++) {
    const hi0 = mulhi(M0, c0), lo0 = Math.imul(M0, c0) >>> 0;
    const hi1 = mulhi(M1, c2), lo1 = Math.imul(M1, c2) >>> 0;
    c0 = (hi1 ^ c1 ^ k0) >>> 0;
    c1 = lo1;
    c2 = (hi0 ^ c3 ^ k1) >>> 0;
    c3 = lo0;
    k0 = (k0 + W0) >>> 0;
    k1 = (k1 + W1) >>> 0;
  }
  out[0] = c0;
  out[1] = c1;
  out[2] = c2;
  out[3] = c3;
}

/**
 * One Philox4x32-10 block: four u32 counter words and two u32 key words in,
 * four uniformly distributed u32 words out.
 *
 * @example
 * ```ts
 * import { philox4x32 } from "./philox.ts";
 * const out = philox4x32([0, 0, 0, 0], [0, 0]);
 * console.log([...out].map((x) => x.toString(16))); // ["6627e8d5", "e169c58d", "bc57ac4c", "9b00dbd8"]
 * ```
 */
export function philox4x32(
  counter: ArrayLike<number>,
  key: ArrayLike<number>,
): Uint32Array {
  if (counter.length !== 4 || key.length !== 2) {
    throw new TypeError(
      `Cannot run Philox4x32: expected 4 counter and 2 key words, got ${counter.length} and ${key.length}`,
    );
  }
  for (const word of [...Array.from(counter), ...Array.from(key)]) {
    if (!Number.isInteger(word) || word < 0 || word > 0xffffffff) {
      throw new RangeError(`Cannot run Philox4x32 on ${word}: words must be u32`);
    }
  }
  const out = new Uint32Array(4);
  philox4x32Into(counter[0]!, counter[1]!, counter[2]!, counter[3]!, key[0]!, key[1]!, out);
  return out;
}
