/**
 * The JavaScript cost of recording one dispatch, shared by the engine and
 * round benchmarks.
 *
 * @module
 */
import { axpy } from "../../src/gpu/axpy.ts";
import type { Gpu } from "../../src/gpu/gpu.ts";
import { GpuVector } from "../../src/gpu/vector.ts";

/**
 * JavaScript microseconds to record one dispatch (an axpy on 64 floats, with
 * its uniform), best of `rounds` runs of 2,000: what every kernel launch
 * costs before the GPU does anything.
 */
export async function recordingMicroseconds(gpu: Gpu, rounds = 3): Promise<number> {
  const x = GpuVector.from(gpu, new Float32Array(64).fill(1));
  const y = GpuVector.from(gpu, new Float32Array(64));
  await axpy(1, x, y);
  await gpu.sync();
  let best = Infinity;
  for (let round = 0; round < rounds; round++) {
    const start = performance.now();
    for (let i = 0; i < 2000; i++) await axpy(1e-3, x, y);
    best = Math.min(best, ((performance.now() - start) / 2000) * 1000);
    await gpu.sync();
  }
  x.destroy();
  y.destroy();
  return best;
}
