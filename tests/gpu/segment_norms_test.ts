import assert from "node:assert/strict";
import { Gpu } from "../../src/gpu/gpu.ts";
import { GpuVector } from "../../src/gpu/vector.ts";
import { BlockNorms, segmentSumSquaresReference } from "../../src/gpu/segment_norms.ts";
import { RandomStream } from "../../src/random/stream.ts";

Deno.test("block norms match the f64 reference on awkward sizes across chunks", async (t) => {
  const gpu = await Gpu.create();
  try {
    const stream = new RandomStream(3, "tests/fl/norms");
    const n = 70001;
    const data = Float32Array.from({ length: n }, () => stream.normal());
    // Blocks straddling chunk boundaries, one longer than a tile (65 536), one of a single element.
    const blocks = [
      { start: 0, length: 1 },
      { start: 5, length: 4098 },
      { start: 4103, length: 65800 },
      { start: 69950, length: 51 },
    ];
    for (const chunkElements of [4096, 2 ** 20]) {
      await t.step(`chunks of ${chunkElements}`, async () => {
        const x = GpuVector.from(gpu, data, { chunkElements });
        const plan = new BlockNorms(gpu, x, blocks);
        const got = await plan.norms(x);
        const want = segmentSumSquaresReference(data, blocks).map(Math.sqrt);
        got.forEach((g, l) => {
          // f32 sums of up to 66k positive terms: a few 1e-6 relative.
          assert.ok(Math.abs(g - want[l]!) <= 1e-5 * want[l]!, `block ${l}: ${g} vs ${want[l]}`);
        });
        plan.destroy();
        x.destroy();
      });
    }
    await t.step("a NaN or an infinity shows in its block's norm only", async () => {
      const bad = data.slice();
      bad[10] = NaN;
      bad[69960] = Infinity;
      const x = GpuVector.from(gpu, bad);
      const plan = new BlockNorms(gpu, x, blocks);
      const got = await plan.norms(x);
      assert.ok(Number.isFinite(got[0]!));
      assert.ok(Number.isNaN(got[1]!));
      assert.ok(Number.isFinite(got[2]!));
      assert.equal(got[3], Infinity);
      plan.destroy();
    });
    await t.step("blocks outside the vector are refused", () => {
      assert.throws(
        () => new BlockNorms(gpu, { length: 10, chunkElements: 16 }, [{ start: 8, length: 3 }]),
        RangeError,
      );
    });
  } finally {
    gpu.destroy();
  }
});
