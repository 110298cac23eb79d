/**
 * Test helpers of the layer and optimizer kernels: seeded data, GPU
 * round trips, tolerance checks and central finite differences.
 *
 * @module
 */

import assert from "node:assert/strict";
import type { Gpu } from "../../../src/gpu/gpu.ts";
import { RandomStream } from "../../../src/random/stream.ts";

/** Unit roundoff of f32 (2⁻²⁴). */
export const F32_EPS = 2 ** -24;

/** `n` normal draws × `scale`, rounded to f32. */
export function randomF32(name: string, n: number, scale = 1): Float32Array {
  const stream = new RandomStream(1234, `tests/ops/${name}`);
  return Float32Array.from({ length: n }, () => stream.normal() * scale);
}

/** `n` uniform integers in [0, k) (Int32). */
export function randomInts(name: string, n: number, k: number): Int32Array {
  const stream = new RandomStream(1234, `tests/ops/${name}`);
  return Int32Array.from({ length: n }, () => stream.int(k));
}

/** Reads `n` f32 values of `buffer`. */
export async function readF32(gpu: Gpu, buffer: GPUBuffer, n: number): Promise<Float32Array> {
  return new Float32Array(await gpu.read(buffer, 0, n * 4));
}

/** Reads several f32 ranges with one map. */
export async function readAll(
  gpu: Gpu,
  ranges: readonly [GPUBuffer, number][],
): Promise<Float32Array[]> {
  const parts = await gpu.readMany(ranges.map(([buffer, n]) => ({ buffer, size: n * 4 })));
  return parts.map((p) => new Float32Array(p));
}

/**
 * Asserts |actual − expected| ≤ atol + rtol·|expected| elementwise (NaN must
 * match NaN), naming the worst element.
 */
export function assertClose(
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  tolerance: { atol?: number; rtol?: number },
  label: string,
): void {
  assert.equal(actual.length, expected.length, `${label}: length`);
  const atol = tolerance.atol ?? 0;
  const rtol = tolerance.rtol ?? 0;
  let worst = -1;
  let worstExcess = 0;
  for (let i = 0; i < actual.length; i++) {
    const a = actual[i]!;
    const e = expected[i]!;
    if (Number.isNaN(e) || Number.isNaN(a)) {
      assert.ok(Number.isNaN(a) && Number.isNaN(e), `${label}[${i}]: ${a} vs ${e}`);
      continue;
    }
    const excess = Math.abs(a - e) - (atol + rtol * Math.abs(e));
    if (excess > worstExcess) {
      worstExcess = excess;
      worst = i;
    }
  }
  if (worst >= 0) {
    assert.fail(
      `${label}[${worst}]: ${actual[worst]} vs ${expected[worst]} ` +
        `(|diff| ${Math.abs(actual[worst]! - expected[worst]!)}, atol ${atol}, rtol ${rtol})`,
    );
  }
}

/** The largest |value|. */
export function maxAbs(values: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < values.length; i++) m = Math.max(m, Math.abs(values[i]!));
  return m;
}

/**
 * Central finite differences of the scalar `loss` at `x`:
 * (loss(x + h·eᵢ) − loss(x − h·eᵢ)) / 2h for every i, in double precision.
 */
export function finiteDifferences(
  loss: (x: Float64Array) => number,
  x: ArrayLike<number>,
  h = 1e-5,
): Float64Array {
  const at = Float64Array.from(x);
  const grad = new Float64Array(at.length);
  for (let i = 0; i < at.length; i++) {
    const keep = at[i]!;
    at[i] = keep + h;
    const up = loss(at);
    at[i] = keep - h;
    const down = loss(at);
    at[i] = keep;
    grad[i] = (up - down) / (2 * h);
  }
  return grad;
}

/** Σ a·b: the scalar loss ⟨dy, y⟩ whose gradient a backward pass returns for dy. */
export function dot(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
}

/**
 * Asserts two f32 arrays hold the same bits (not merely close values). With
 * `anyZeroSign`, +0 and −0 count as the same: where a padding row adds an
 * exact zero, its sign may differ while every value is equal.
 */
export function assertSameBits(
  actual: Float32Array,
  expected: Float32Array,
  label: string,
  options: { anyZeroSign?: boolean } = {},
): void {
  assert.equal(actual.length, expected.length, `${label}: length`);
  const a = new Uint32Array(actual.buffer, actual.byteOffset, actual.length);
  const e = new Uint32Array(expected.buffer, expected.byteOffset, expected.length);
  for (let i = 0; i < a.length; i++) {
    if (a[i] === e[i] || (options.anyZeroSign && actual[i] === 0 && expected[i] === 0)) continue;
    assert.fail(`${label}[${i}]: ${actual[i]} vs ${expected[i]} (bits differ)`);
  }
}
