import assert from "node:assert/strict";
import { Gpu } from "../../../src/gpu/gpu.ts";
import { attentionForward } from "../../../src/model/ops/attention.ts";
import {
  attentionDecode,
  attentionDecodeReference,
  type DecodeShape,
  kvScatter,
  kvScatterReference,
} from "../../../src/model/ops/decode.ts";
import { ropeForward, ropeTable } from "../../../src/model/ops/rope.ts";
import { assertClose, F32_EPS, randomF32, readAll, readF32 } from "./_helpers.ts";

// Awkward sizes: 5 sequences (more than one workgroup's worth), 6 query heads over 3 KV
// heads, head dims whose halves are not whole vec4s (12, 36), regions of 9 and 13 positions;
// positions past the region's end (no cache write, NaN output, as RoPE gives).
const SHAPES: readonly DecodeShape[] = [
  { B: 5, H: 6, Hkv: 3, headDim: 12, P: 9, offset: 2 },
  { B: 3, H: 4, Hkv: 4, headDim: 36, P: 13, offset: 0 },
  { B: 2, H: 2, Hkv: 1, headDim: 64, P: 7, offset: 5 },
];
const POSITIONS = [0, 3, 6, 7, 4];

Deno.test("attention_decode (RoPE, cache write, attention) matches its reference", async () => {
  const gpu = await Gpu.create();
  try {
    for (const shape of SHAPES) {
      const { B, H, Hkv, headDim: D, P } = shape;
      const positions = Int32Array.from(POSITIONS.slice(0, B));
      const inputs = {
        q: randomF32("decode/q", B * H * D),
        k: randomF32("decode/k", B * Hkv * D),
        v: randomF32("decode/v", B * Hkv * D),
        cacheK: randomF32("decode/cacheK", B * P * Hkv * D),
        cacheV: randomF32("decode/cacheV", B * P * Hkv * D),
        positions,
      };
      const out = gpu.buffer(B * H * D * 4);
      const cacheK = gpu.upload(inputs.cacheK), cacheV = gpu.upload(inputs.cacheV);
      await attentionDecode(gpu, {
        out,
        cacheK,
        cacheV,
        q: gpu.upload(inputs.q),
        k: gpu.upload(inputs.k),
        v: gpu.upload(inputs.v),
        positions: gpu.upload(positions),
        table: ropeTable(gpu, { headDim: D, maxPositions: P }),
      }, shape);
      const want = attentionDecodeReference(inputs, shape);
      const [gotOut, gotK, gotV] = await readAll(gpu, [
        [out, B * H * D],
        [cacheK, inputs.cacheK.length],
        [cacheV, inputs.cacheV.length],
      ]);
      const tolerance = { atol: 64 * F32_EPS, rtol: 64 * F32_EPS };
      assertClose(gotOut!, want.out, tolerance, `out, D=${D}`);
      assertClose(gotK!, want.cacheK, tolerance, `cache keys, D=${D}`);
      assert.deepEqual(gotV, Float32Array.from(want.cacheV), `cache values, D=${D}`);
      const past = positions.map((p) => p + shape.offset).filter((p) => p >= P).length;
      assert.equal(gotOut!.filter(Number.isNaN).length, past * H * D, `NaN rows, D=${D}`);
    }
  } finally {
    gpu.destroy();
  }
});

Deno.test("attention_decode equals RoPE and attention_forward over a cache, one sequence at a time", async () => {
  const gpu = await Gpu.create();
  try {
    const shape = { B: 3, H: 4, Hkv: 2, headDim: 32, P: 11, offset: 1 };
    const { B, H, Hkv, headDim: D, P } = shape;
    const positions = Int32Array.from([2, 9, 5]);
    const q = randomF32("decode/q1", B * H * D);
    const k = randomF32("decode/k1", B * Hkv * D);
    const v = randomF32("decode/v1", B * Hkv * D);
    const cache = randomF32("decode/cache1", B * P * Hkv * D);
    const table = ropeTable(gpu, { headDim: D, maxPositions: P });
    const out = gpu.buffer(B * H * D * 4);
    await attentionDecode(gpu, {
      out,
      cacheK: gpu.upload(cache),
      cacheV: gpu.upload(cache),
      q: gpu.upload(q),
      k: gpu.upload(k),
      v: gpu.upload(v),
      positions: gpu.upload(positions),
      table,
    }, shape);
    const batched = await readF32(gpu, out, B * H * D);
    for (let b = 0; b < B; b++) {
      // The single-sequence path: RoPE in place, the key and value copied into the cache.
      const past = positions[b]! + shape.offset;
      const rows = (a: Float32Array, from: number, count: number) =>
        gpu.upload(a.slice(from, from + count));
      const qb = rows(q, b * H * D, H * D), kb = rows(k, b * Hkv * D, Hkv * D);
      const rotary = { table, positions: gpu.upload(new Int32Array([0])) };
      const ropeShape = { T: 1, headDim: D, maxPositions: P, offset: past };
      await ropeForward(gpu, { x: qb, ...rotary }, { ...ropeShape, heads: H });
      await ropeForward(gpu, { x: kb, ...rotary }, { ...ropeShape, heads: Hkv });
      const keys = rows(cache, b * P * Hkv * D, (past + 1) * Hkv * D);
      const values = rows(cache, b * P * Hkv * D, (past + 1) * Hkv * D);
      gpu.copy(kb, 0, keys, past * Hkv * D * 4, Hkv * D * 4);
      gpu.write(values, v.slice(b * Hkv * D, (b + 1) * Hkv * D), past * Hkv * D * 4);
      const single = gpu.buffer(H * D * 4);
      await attentionForward(gpu, {
        out: single,
        lse: gpu.buffer(H * 4),
        q: qb,
        k: keys,
        v: values,
      }, { T: 1, H, Hkv, headDim: D, past });
      // Different kernels (the forward one may share keys by subgroup broadcasts): f32 agreement.
      assertClose(
        await readF32(gpu, single, H * D),
        batched.subarray(b * H * D, (b + 1) * H * D),
        { atol: 32 * F32_EPS, rtol: 32 * F32_EPS },
        `sequence ${b}`,
      );
    }
  } finally {
    gpu.destroy();
  }
});

Deno.test("kv_scatter moves rows of keys and values to the chosen cache rows", async () => {
  const gpu = await Gpu.create();
  try {
    const Ckv = 12, R = 7, rowsInCache = 20;
    const target = Uint32Array.from([19, 0, 5, 6, 13, 2, 11]);
    const start = randomF32("scatter/cache", rowsInCache * Ckv);
    const k = randomF32("scatter/k", R * Ckv), v = randomF32("scatter/v", R * Ckv);
    const cacheK = gpu.upload(start), cacheV = gpu.upload(start);
    await kvScatter(gpu, {
      cacheK,
      cacheV,
      k: gpu.upload(k),
      v: gpu.upload(v),
      rows: gpu.upload(target),
    }, { R, Ckv });
    const [gotK, gotV] = await readAll(gpu, [[cacheK, start.length], [cacheV, start.length]]);
    assert.deepEqual(gotK, kvScatterReference(start, k, target, Ckv));
    assert.deepEqual(gotV, kvScatterReference(start, v, target, Ckv));
  } finally {
    gpu.destroy();
  }
});

Deno.test("decoding ops refuse bad shapes with a reason", async () => {
  const gpu = await Gpu.create();
  try {
    const b = gpu.buffer(4096);
    const buffers = { out: b, cacheK: b, cacheV: b, q: b, k: b, v: b, positions: b, table: b };
    await assert.rejects(
      () => attentionDecode(gpu, buffers, { B: 1, H: 3, Hkv: 2, headDim: 4, P: 2, offset: 0 }),
      /Hkv = 2 does not divide H = 3/,
    );
    await assert.rejects(
      () => attentionDecode(gpu, buffers, { B: 1, H: 1, Hkv: 1, headDim: 6, P: 2, offset: 0 }),
      /multiple of 4/,
    );
    await assert.rejects(
      () => attentionDecode(gpu, buffers, { B: 64, H: 4, Hkv: 4, headDim: 8, P: 16, offset: 0 }),
      /out/,
    );
    await assert.rejects(
      () => kvScatter(gpu, { cacheK: b, cacheV: b, k: b, v: b, rows: b }, { R: 2, Ckv: 6 }),
      /multiple of 4/,
    );
  } finally {
    gpu.destroy();
  }
});
