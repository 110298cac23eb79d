import assert from "node:assert/strict";
import { Gpu } from "../../../src/gpu/gpu.ts";
import {
  ropeBackward,
  ropeBackwardReference,
  ropeForward,
  ropeForwardReference,
  ropeTable,
  ropeTableReference,
} from "../../../src/model/ops/rope.ts";
import { assertClose, dot, F32_EPS, finiteDifferences, randomF32, readF32 } from "./_helpers.ts";

Deno.test("rope kernels", async (t) => {
  const gpu = await Gpu.create();
  try {
    await t.step("the table holds cos and sin of pos · θ^(−2i/D)", () => {
      const [D, P, theta] = [8, 3000, 500000];
      const table = ropeTableReference({ headDim: D, maxPositions: P, theta });
      for (const pos of [0, 1, 17, 2999]) {
        for (let i = 0; i < D / 2; i++) {
          const angle = pos * theta ** (-2 * i / D);
          // The f32 angle (as Hugging Face computes it) is off by ≤ ~2 ulp of the angle.
          const tol = 4 * F32_EPS * Math.max(1, angle) + 2 * F32_EPS;
          const at = (pos * (D / 2) + i) * 2;
          assert.ok(Math.abs(table[at]! - Math.cos(angle)) <= tol, `cos pos=${pos} i=${i}`);
          assert.ok(Math.abs(table[at + 1]! - Math.sin(angle)) <= tol, `sin pos=${pos} i=${i}`);
        }
      }
    });

    const cases = [
      { T: 1, heads: 3, headDim: 2, offset: 5 },
      { T: 7, heads: 3, headDim: 6, offset: 0 },
      { T: 33, heads: 2, headDim: 64, offset: 1000 },
    ];
    for (const c of cases) {
      const maxPositions = 1100;
      const theta = 10000;
      const table = ropeTable(gpu, { headDim: c.headDim, maxPositions, theta });
      const n = c.T * c.heads * c.headDim;
      const shape = { ...c, maxPositions };
      const x = randomF32(`rope/x/${n}`, n);
      // Two f32 products and a sum per value.
      const tol = { atol: 4 * F32_EPS * 4 };
      for (const withPositions of [false, true]) {
        const positions = withPositions
          ? Int32Array.from({ length: c.T }, (_, t) => t % 4) // packed sequences of 4
          : undefined;
        const label = `T=${c.T} heads=${c.heads} D=${c.headDim} offset=${c.offset}` +
          (withPositions ? " with positions" : "");
        await t.step(`forward and backward in place, ${label}`, async () => {
          const buffer = gpu.upload(x);
          const posBuffer = positions ? gpu.upload(positions) : undefined;
          await ropeForward(gpu, { x: buffer, table, positions: posBuffer }, shape);
          const y = await readF32(gpu, buffer, n);
          assertClose(y, ropeForwardReference(x, { ...shape, theta, positions }), tol, "y");
          await ropeBackward(gpu, { x: buffer, table, positions: posBuffer }, shape);
          const back = await readF32(gpu, buffer, n);
          assertClose(back, ropeBackwardReference(y, { ...shape, theta, positions }), tol, "dx");
          assertClose(back, x, { atol: 8 * 4 * F32_EPS * 4 }, "inverse");
        });
      }
      await t.step(`out of place leaves the input, T=${c.T}`, async () => {
        const input = gpu.upload(x);
        const out = gpu.buffer(n * 4);
        await ropeForward(gpu, { x: input, out, table }, shape);
        assert.deepEqual(await readF32(gpu, input, n), x);
        assertClose(
          await readF32(gpu, out, n),
          ropeForwardReference(x, { ...shape, theta }),
          tol,
          "y",
        );
      });
    }

    await t.step("positions outside the table give NaN", async () => {
      const table = ropeTable(gpu, { headDim: 4, maxPositions: 3 });
      const x = gpu.upload(new Float32Array(12).fill(1));
      await ropeForward(gpu, { x, table }, {
        T: 3,
        heads: 1,
        headDim: 4,
        maxPositions: 3,
        offset: 1,
      });
      const y = await readF32(gpu, x, 12);
      assert.ok(y.subarray(0, 8).every(Number.isFinite));
      assert.ok(y.subarray(8).every(Number.isNaN));
    });

    await t.step("the reference backward is the gradient of the reference forward", () => {
      const options = { T: 3, heads: 2, headDim: 4, maxPositions: 10, offset: 2, theta: 100 };
      const x = randomF32("rope/fd/x", 24);
      const dy = randomF32("rope/fd/dy", 24);
      const numeric = finiteDifferences((v) => dot(dy, ropeForwardReference(v, options)), x);
      assertClose(ropeBackwardReference(dy, options), numeric, { atol: 1e-8 }, "dx");
    });

    await t.step("shapes are validated", async () => {
      const b = gpu.buffer(64);
      const shape = { T: 1, heads: 1, headDim: 3, maxPositions: 1 };
      await assert.rejects(ropeForward(gpu, { x: b, table: b }, shape), TypeError);
      assert.throws(() => ropeTable(gpu, { headDim: 4, maxPositions: 2, theta: 0 }), RangeError);
    });
  } finally {
    gpu.destroy();
  }
});

// The cases above compare the kernel with the repository's reference only, so flipping the
// rotation (or pairing i with i + 1) in both at once would go unnoticed. Here the expected values
// are Hugging Face LLaMA's `rotate_half` convention written out in the test: for i < half = D/2,
// angle = pos · θ^(−2i/D), out[i] = x[i]·cos − x[i+half]·sin, out[i+half] = x[i+half]·cos + x[i]·sin;
// the backward pass is the transpose, the rotation by −angle.
Deno.test("rope kernels follow Hugging Face's rotate_half convention", async (t) => {
  const gpu = await Gpu.create();
  try {
    const [cos1, sin1] = [0.5403023058681398, 0.8414709848078965]; // cos 1, sin 1
    const [cosC, sinC] = [0.9999500004166653, 0.009999833334166664]; // cos 0.01, sin 0.01
    /** Runs the GPU pass on x [T, heads, D] at positions offset + t. */
    const run = async (
      pass: typeof ropeForward,
      x: readonly number[],
      shape: { T: number; heads: number; headDim: number; offset?: number; theta?: number },
    ) => {
      const maxPositions = 16;
      const table = ropeTable(gpu, { headDim: shape.headDim, maxPositions, theta: shape.theta });
      const buffer = gpu.upload(new Float32Array(x));
      await pass(gpu, { x: buffer, table }, { ...shape, maxPositions });
      return Array.from(await readF32(gpu, buffer, x.length));
    };
    // The table's f32 angles and cos/sin, and two f32 products and a sum per value.
    const tol = { atol: 16 * F32_EPS };

    await t.step("D = 4, position 1, θ = 10000: literal values", async () => {
      // One token at position 1, four heads: each unit vector. inv_freq = [1, 0.01], so pair 0
      // (components 0 and 2) turns by 1 radian and pair 1 (components 1 and 3) by 0.01.
      const x = [1, 0, 0, 0, /**/ 0, 0, 1, 0, /**/ 0, 1, 0, 0, /**/ 0, 0, 0, 1];
      const shape = { T: 1, heads: 4, headDim: 4, offset: 1, theta: 10000 };
      assertClose(
        await run(ropeForward, x, shape),
        [
          ...[cos1, 0, sin1, 0],
          ...[-sin1, 0, cos1, 0],
          ...[0, cosC, 0, sinC],
          ...[0, -sinC, 0, cosC],
        ],
        tol,
        "forward",
      );
      // The backward pass turns the other way (Rᵀ = R(−angle)).
      assertClose(
        await run(ropeBackward, x, shape),
        [
          ...[cos1, 0, -sin1, 0],
          ...[sin1, 0, cos1, 0],
          ...[0, cosC, 0, -sinC],
          ...[0, sinC, 0, cosC],
        ],
        tol,
        "backward",
      );
    });

    await t.step("random heads match the formula, forward and backward", async () => {
      // D = 8: the pairs are (0, 4), (1, 5), (2, 6), (3, 7), not (0, 1), (2, 3), …
      const [T, heads, D, offset, theta] = [5, 3, 8, 2, 10000];
      const half = D / 2;
      const x = Array.from(randomF32("rope/hf/x", T * heads * D));
      const expected = (sign: 1 | -1) => {
        const out = new Array<number>(x.length);
        for (let t = 0; t < T; t++) {
          for (let h = 0; h < heads; h++) {
            const base = (t * heads + h) * D;
            for (let i = 0; i < half; i++) {
              const angle = sign * (offset + t) * theta ** (-2 * i / D);
              const [a, b] = [x[base + i]!, x[base + i + half]!];
              out[base + i] = a * Math.cos(angle) - b * Math.sin(angle);
              out[base + i + half] = b * Math.cos(angle) + a * Math.sin(angle);
            }
          }
        }
        return out;
      };
      const shape = { T, heads, headDim: D, offset, theta };
      // Values up to ~4 and angles up to 6 rad (the f32 angle is off by ~1 ulp).
      const loose = { atol: 4 * 16 * F32_EPS * 6 };
      assertClose(await run(ropeForward, x, shape), expected(1), loose, "forward");
      assertClose(await run(ropeBackward, x, shape), expected(-1), loose, "backward");
    });
  } finally {
    gpu.destroy();
  }
});
