/**
 * Materialising Philox words and basis elements on the GPU (kernel
 * `basis_generate`): the parity oracle for `kernels/philox.wgsl` and a way to
 * build the few explicit bases small exact computations need (Eq. 5).
 *
 * @module
 */

import * as kernels from "../../kernels/mod.ts";
import type { Gpu } from "../gpu/gpu.ts";
import { BLOCK_BYTES, writeBlockParams } from "../projection/plan.ts";
import { basisParams, type Distribution, DISTRIBUTION_TAG, type Seed, seedKey } from "./basis.ts";

/**
 * Philox4x32-10 words on the GPU for the `count` counters (first + i, c1, c2, c3)
 * under `key`: `4·count` u32, block i at 4i.
 *
 * @example
 * ```ts
 * import { philoxWordsGpu } from "./basis_gpu.ts";
 * import { Gpu } from "../gpu/gpu.ts";
 * const gpu = await Gpu.create();
 * const w = await philoxWordsGpu(gpu, [0, 0], 0, 1, [0, 0, 0]);
 * console.log(w[0]!.toString(16)); // "6627e8d5"
 * gpu.destroy();
 * ```
 */
export async function philoxWordsGpu(
  gpu: Gpu,
  key: readonly [number, number],
  first: number,
  count: number,
  c123: readonly [number, number, number],
): Promise<Uint32Array> {
  if (!Number.isInteger(count) || count < 1 || first + count > 2 ** 32) {
    throw new RangeError(`Cannot generate ${count} Philox blocks from counter ${first}`);
  }
  const out = gpu.buffer(count * 16, "philox words");
  const blocks = gpu.buffer(BLOCK_BYTES, "unused block");
  try {
    await gpu.dispatch({
      kernel: kernels.basisGenerate,
      constants: { WG: 64, MODE: 0 },
      storage: [out, blocks],
      uniform: new Uint32Array([key[0], key[1], count, first, c123[0], c123[1], c123[2], 0]),
      workgroups: Math.ceil(count / 64),
    });
    return new Uint32Array(await gpu.read(out, 0, count * 16));
  } finally {
    out.destroy();
    blocks.destroy();
  }
}

/**
 * Elements `first … first + count − 1` of basis `k` of block `block`
 * (dimension `dimension`) under `seed`, generated on the GPU.
 *
 * @example
 * ```ts
 * import { basisElementsGpu } from "./basis_gpu.ts";
 * import { Gpu } from "../gpu/gpu.ts";
 * const gpu = await Gpu.create();
 * const v = await basisElementsGpu(gpu, "truncnormal", 100, 1, 0, 0, 0, 4);
 * console.log(v.every((x) => Math.abs(x) <= 0.1)); // true
 * gpu.destroy();
 * ```
 */
export async function basisElementsGpu(
  gpu: Gpu,
  distribution: Distribution,
  dimension: number,
  seed: Seed,
  block: number,
  k: number,
  first: number,
  count: number,
): Promise<Float32Array> {
  if (!Number.isInteger(count) || count < 1 || first + count > 2 ** 32) {
    throw new RangeError(`Cannot generate ${count} basis elements from element ${first}`);
  }
  const [k0, k1] = seedKey(seed);
  const table = new ArrayBuffer(BLOCK_BYTES);
  writeBlockParams(table, 0, basisParams(distribution, dimension), block, 1, 0);
  const out = gpu.buffer(count * 4, "basis elements");
  const blocks = gpu.upload(new Uint8Array(table), "basis block");
  try {
    await gpu.dispatch({
      kernel: kernels.basisGenerate,
      constants: { WG: 64, MODE: 1, DIST: DISTRIBUTION_TAG[distribution] },
      storage: [out, blocks],
      uniform: new Uint32Array([k0, k1, count, first, k, 0, 0, 0]),
      workgroups: Math.ceil(count / 64),
    });
    return new Float32Array(await gpu.read(out, 0, count * 4));
  } finally {
    out.destroy();
    blocks.destroy();
  }
}
