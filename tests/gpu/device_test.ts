import assert from "node:assert/strict";
import { Gpu } from "../../mod.ts";
import { acquireDevice, GpuError, NoAdapterError } from "../../engine.ts";

Deno.test("acquireDevice requests the adapter's real limits", async () => {
  const { device, info } = await acquireDevice();
  try {
    // The WebGPU defaults are 128 MiB bindings and 256 MiB buffers; llvmpipe and real GPUs offer more.
    assert.ok(info.maxStorageBufferBindingSize >= 128 * 2 ** 20);
    assert.equal(device.limits.maxStorageBufferBindingSize, info.maxStorageBufferBindingSize);
    assert.ok(info.maxBufferSize > 256 * 2 ** 20, `maxBufferSize ${info.maxBufferSize}`);
    assert.equal(info.subgroups, device.features.has("subgroups"));
    assert.ok(info.description.length > 0);
  } finally {
    device.destroy();
  }
});

Deno.test("the portable option requests no optional feature", async () => {
  const gpu = await Gpu.create({ portable: true });
  try {
    assert.equal(gpu.info.subgroups, false);
    assert.equal(gpu.info.timestamps, false);
  } finally {
    gpu.destroy();
  }
});

Deno.test("an unknown backend is refused with the valid ones", async () => {
  await assert.rejects(
    // deno-lint-ignore no-explicit-any
    () => acquireDevice({ backend: "opencl" as any }),
    (e: Error) => e instanceof RangeError && /vulkan, gl/.test(e.message),
  );
});

Deno.test("NoAdapterError says what to install", () => {
  const error = new NoAdapterError("no adapter was found");
  assert.match(error.message, /apt-get install mesa-vulkan-drivers/);
  assert.match(error.message, /Cannot acquire a WebGPU adapter: no adapter was found/);
});

Deno.test("a kernel that does not compile is reported with its name and WGSL message", async () => {
  const gpu = await Gpu.create();
  try {
    const broken = {
      name: "broken_kernel",
      code: "@compute @workgroup_size(1) fn main() { let x: u32 = 1.5; }",
    };
    await assert.rejects(
      () => gpu.pipelines.get(broken),
      (e: Error) =>
        e instanceof GpuError && /Cannot compile kernel "broken_kernel"/.test(e.message) &&
        /error at 1:/.test(e.message),
    );
  } finally {
    gpu.destroy();
  }
});

Deno.test("a GPU validation error is never dropped: the next readback throws it", async () => {
  const gpu = await Gpu.create();
  try {
    const kernel = {
      name: "needs_two_buffers",
      code: `@group(0) @binding(0) var<storage, read_write> a: array<f32>;
             @group(0) @binding(1) var<storage, read> b: array<f32>;
             @compute @workgroup_size(1) fn main() { a[0] = b[0]; }`,
    };
    const a = gpu.buffer(16);
    // One buffer where the kernel binds two: createBindGroup fails validation.
    await gpu.dispatch({ kernel, storage: [a], workgroups: 1 });
    await assert.rejects(() => gpu.read(a), (e: Error) => e instanceof GpuError);
  } finally {
    gpu.destroy();
  }
});
