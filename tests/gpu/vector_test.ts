import assert from "node:assert/strict";
import { Gpu } from "../../mod.ts";
import { defaultChunkElements, GpuVector } from "../../engine.ts";

Deno.test("GpuVector", async (t) => {
  const gpu = await Gpu.create();
  try {
    await t.step("chunks a vector and round-trips it", async () => {
      const data = Float32Array.from({ length: 21 }, (_, i) => i * 0.5 - 3);
      const v = GpuVector.from(gpu, data, { chunkElements: 8 });
      assert.deepEqual(v.chunks.map((c) => [c.start, c.length]), [[0, 8], [8, 8], [16, 5]]);
      assert.deepEqual(await v.read(), data);
      v.destroy();
    });
    await t.step("the default chunk is one storage binding", () => {
      const v = GpuVector.create(gpu, 10);
      assert.equal(v.chunks.length, 1);
      assert.ok(defaultChunkElements(gpu) * 4 <= gpu.info.maxStorageBufferBindingSize);
      v.destroy();
    });
    await t.step("an empty vector still has one (empty) chunk", async () => {
      const v = GpuVector.create(gpu, 0);
      assert.equal(v.chunks.length, 1);
      assert.equal((await v.read()).length, 0);
    });
    await t.step("copyTo copies every chunk", async () => {
      const data = Float32Array.from({ length: 13 }, (_, i) => i);
      const a = GpuVector.from(gpu, data, { chunkElements: 4 });
      const b = a.like();
      a.copyTo(b);
      assert.deepEqual(await b.read(), data);
    });
    await t.step("clear zeroes every chunk", async () => {
      const v = GpuVector.from(gpu, Float32Array.from({ length: 13 }, (_, i) => i + 1), {
        chunkElements: 4,
      });
      v.clear();
      assert.deepEqual(await v.read(), new Float32Array(13));
    });
    await t.step("bad sizes and shapes are refused", () => {
      assert.throws(() => GpuVector.create(gpu, -1), RangeError);
      assert.throws(() => GpuVector.create(gpu, 10, { chunkElements: 6 }), RangeError);
      assert.throws(() => GpuVector.create(gpu, 10, { chunkElements: 2 ** 40 }), RangeError);
      const v = GpuVector.create(gpu, 4);
      assert.throws(() => v.write(new Float32Array(5)), TypeError);
      assert.throws(() => v.copyTo(GpuVector.create(gpu, 5)), TypeError);
    });
  } finally {
    gpu.destroy();
  }
});
