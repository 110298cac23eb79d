import assert from "node:assert/strict";
import { Gpu } from "../../mod.ts";
import { workgroupGrid } from "../../engine.ts";

const INDEX_KERNEL = {
  name: "test_workgroup_index",
  code: `
@group(0) @binding(0) var<storage, read_write> out: array<u32>; // [count]
@group(1) @binding(0) var<uniform> count: vec4<u32>;
@compute @workgroup_size(1)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = wid.x + wid.y * nwg.x;
  if (i < count.x) { out[i] = i + 1u; }
}`,
};

Deno.test("workgroupGrid splits beyond the per-dimension limit", () => {
  assert.deepEqual(workgroupGrid(0), [0, 1, 1]);
  assert.deepEqual(workgroupGrid(65535), [65535, 1, 1]);
  const [x, y, z] = workgroupGrid(65536);
  assert.ok(x <= 65535 && y === 2 && z === 1 && x * y >= 65536);
  for (const n of [100_000, 1_000_003, 65535 * 65535]) {
    const [gx, gy] = workgroupGrid(n);
    assert.ok(gx <= 65535 && gy <= 65535 && gx * gy >= n && gx * gy - n < gy, `${n}`);
  }
  assert.throws(() => workgroupGrid(65535 * 65535 + 1), RangeError);
  assert.throws(() => workgroupGrid(-1), RangeError);
  assert.throws(() => workgroupGrid(1.5), RangeError);
});

Deno.test("a dispatch of more than 65535 workgroups reaches every workgroup once", async () => {
  const gpu = await Gpu.create();
  try {
    const count = 70_001;
    const out = gpu.buffer(count * 4);
    await gpu.dispatch({
      kernel: INDEX_KERNEL,
      storage: [out],
      uniform: new Uint32Array([count, 0, 0, 0]),
      workgroups: count,
    });
    const values = new Uint32Array(await gpu.read(out, 0, count * 4));
    for (let i = 0; i < count; i++) {
      if (values[i] !== i + 1) assert.fail(`workgroup ${i} wrote ${values[i]}`);
    }
  } finally {
    gpu.destroy();
  }
});

Deno.test("pipelines are cached by kernel and constants", async () => {
  const gpu = await Gpu.create();
  try {
    const kernel = {
      name: "test_override",
      code: `override WG: u32 = 1;
@group(0) @binding(0) var<storage, read_write> out: array<u32>;
@compute @workgroup_size(WG) fn main(@builtin(local_invocation_index) i: u32) { out[i] = WG; }`,
    };
    const a = await gpu.pipelines.get(kernel, { WG: 4 });
    const b = await gpu.pipelines.get(kernel, { WG: 4 });
    const c = await gpu.pipelines.get(kernel, { WG: 8 });
    assert.equal(a, b);
    assert.notEqual(a, c);
    assert.equal(gpu.pipelines.size, 2);
    const out = gpu.buffer(32);
    await gpu.dispatch({ kernel, constants: { WG: 8 }, storage: [out], workgroups: 1 });
    assert.deepEqual([...new Uint32Array(await gpu.read(out))], [8, 8, 8, 8, 8, 8, 8, 8]);
  } finally {
    gpu.destroy();
  }
});

Deno.test("readMany returns several ranges with one map, and refuses misaligned ones", async () => {
  const gpu = await Gpu.create();
  try {
    const a = gpu.upload(new Float32Array([1, 2, 3, 4]));
    const b = gpu.upload(new Int32Array([-1, -2, -3, -4, -5]));
    const [ra, rb] = await gpu.readMany([
      { buffer: a, offset: 4, size: 8 },
      { buffer: b, size: 20 },
    ]);
    assert.deepEqual([...new Float32Array(ra!)], [2, 3]);
    assert.deepEqual([...new Int32Array(rb!)], [-1, -2, -3, -4, -5]);
    await assert.rejects(() => gpu.readMany([{ buffer: a, offset: 2, size: 4 }]), RangeError);
    await assert.rejects(() => gpu.readMany([{ buffer: a, offset: 0, size: 64 }]), RangeError);
  } finally {
    gpu.destroy();
  }
});

Deno.test("storage bytes are accounted: live, peak, and released on destroy", async () => {
  const gpu = await Gpu.create();
  try {
    const base = gpu.liveBytes;
    const a = gpu.buffer(1000);
    const b = gpu.buffer(24);
    assert.equal(gpu.liveBytes - base, 1008 + 32);
    a.destroy();
    a.destroy();
    assert.equal(gpu.liveBytes - base, 32);
    assert.equal(gpu.peakBytes - base, 1040);
    gpu.resetPeak();
    assert.equal(gpu.peakBytes, gpu.liveBytes);
    b.destroy();
  } finally {
    gpu.destroy();
  }
});

Deno.test("a buffer destroyed while the batch that writes it is pending frees after the submit", async () => {
  const gpu = await Gpu.create();
  try {
    const kept = gpu.upload(new Float32Array([1, 2, 3, 4]));
    const dropped = gpu.upload(new Float32Array([5, 6, 7, 8])); // a pending arena copy writes it
    dropped.destroy();
    assert.deepEqual(Array.from(new Float32Array(await gpu.read(kept))), [1, 2, 3, 4]);
    kept.destroy();
  } finally {
    gpu.destroy();
  }
});

Deno.test("gpu.time measures recorded work", async () => {
  const gpu = await Gpu.create();
  try {
    const out = gpu.buffer(4 * 1000);
    const timing = await gpu.time(() =>
      gpu.dispatch({
        kernel: INDEX_KERNEL,
        storage: [out],
        uniform: new Uint32Array([1000, 0, 0, 0]),
        workgroups: 1000,
      })
    );
    assert.ok(timing.seconds > 0 && timing.seconds < 10, `${timing.seconds}`);
    assert.equal(timing.source, gpu.info.timestamps ? timing.source : "wall");
    assert.equal(new Uint32Array(await gpu.read(out))[999], 1000);
  } finally {
    gpu.destroy();
  }
});
