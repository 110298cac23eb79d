import assert from "node:assert/strict";
import { Gpu, RandomStream } from "../../mod.ts";
import { axpy, axpyReference, GpuVector } from "../../engine.ts";

function randomVector(n: number, stream: RandomStream): Float32Array {
  return Float32Array.from({ length: n }, () => stream.normal());
}

Deno.test("axpy matches its reference on awkward sizes and chunkings", async () => {
  const gpu = await Gpu.create();
  const stream = new RandomStream(1, "tests/axpy");
  try {
    for (
      const [n, chunk] of [[1, 4], [3, 4], [5, 4], [17, 8], [1001, 64], [65537, 4096], [
        300_001,
        undefined,
      ]] as const
    ) {
      const x = randomVector(n, stream);
      const y = randomVector(n, stream);
      const a = stream.normal();
      const gx = GpuVector.from(gpu, x, chunk ? { chunkElements: chunk } : {});
      const gy = GpuVector.from(gpu, y, chunk ? { chunkElements: chunk } : {});
      await axpy(a, gx, gy);
      const got = await gy.read();
      const want = axpyReference(a, x, y);
      for (let i = 0; i < n; i++) {
        // fma vs multiply-then-add differ by at most one rounding of the result.
        const tolerance = 2 * 2 ** -23 * (Math.abs(want[i]!) + Math.abs(a * x[i]!)) + 1e-30;
        if (Math.abs(got[i]! - want[i]!) > tolerance) {
          assert.fail(`n=${n} i=${i}: ${got[i]} vs ${want[i]}`);
        }
      }
      gx.destroy();
      gy.destroy();
    }
  } finally {
    gpu.destroy();
  }
});

Deno.test("axpy refuses mismatched vectors and non-finite scalars", async () => {
  const gpu = await Gpu.create();
  try {
    const x = GpuVector.create(gpu, 8);
    await assert.rejects(() => axpy(1, x, GpuVector.create(gpu, 9)), TypeError);
    await assert.rejects(() => axpy(NaN, x, x.like()), RangeError);
  } finally {
    gpu.destroy();
  }
});

Deno.test("axpy runs on the GL backend (portable path) too", async () => {
  const script = `
    import { Gpu } from "${new URL("../../mod.ts", import.meta.url).href}";
    import { axpy, GpuVector } from "${new URL("../../engine.ts", import.meta.url).href}";
    const gpu = await Gpu.create({ backend: "gl" });
    const x = GpuVector.from(gpu, new Float32Array([1, 2, 3, 4, 5]));
    const y = GpuVector.from(gpu, new Float32Array([1, 1, 1, 1, 1]));
    await axpy(3, x, y);
    console.log(JSON.stringify({ subgroups: gpu.info.subgroups, y: [...await y.read()] }));
    gpu.destroy();`;
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["eval", "--no-config", script],
    env: { XDG_RUNTIME_DIR: Deno.env.get("XDG_RUNTIME_DIR") ?? "/tmp" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const stderr = new TextDecoder().decode(output.stderr);
  assert.equal(output.code, 0, stderr);
  const result = JSON.parse(new TextDecoder().decode(output.stdout).trim().split("\n").at(-1)!);
  assert.deepEqual(result, { subgroups: false, y: [4, 7, 10, 13, 16] });
});
