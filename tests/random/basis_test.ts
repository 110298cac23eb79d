import assert from "node:assert/strict";
import { Gpu } from "../../src/gpu/gpu.ts";
import {
  basisElements,
  basisKurtosis,
  basisParams,
  basisVariance,
  DISTRIBUTIONS,
  flatWeight,
  seedKey,
} from "../../src/random/basis.ts";
import { basisElementsGpu } from "../../src/random/basis_gpu.ts";

Deno.test("basis wire format", async (t) => {
  await t.step("seeds up to 2^64 split into key words", () => {
    assert.deepEqual(seedKey(1e11), [1e11 % 2 ** 32, Math.floor(1e11 / 2 ** 32)]);
    assert.deepEqual(seedKey(2n ** 64n - 1n), [0xffffffff, 0xffffffff]);
    assert.throws(() => seedKey(2n ** 64n), RangeError);
    assert.throws(() => seedKey(-1), RangeError);
  });

  await t.step("elements are the same generated in any order or offset", () => {
    const p = basisParams("truncnormal", 1000);
    const whole = new Float32Array(1000);
    basisElements(whole, "truncnormal", p, 5, 2, 3, 0);
    const part = new Float32Array(37);
    basisElements(part, "truncnormal", p, 5, 2, 3, 501);
    assert.deepEqual(part, whole.subarray(501, 538));
  });

  await t.step("truncated normal stays in [−1/√d, 1/√d]", () => {
    for (const d of [1, 2, 7, 1000]) {
      const v = new Float32Array(20000);
      basisElements(v, "truncnormal", basisParams("truncnormal", d), 1, 0, 0, 0);
      const a = 1 / Math.sqrt(d);
      assert.ok(v.every((x) => Math.abs(x) <= a * (1 + 1e-6)), `d = ${d}`);
    }
  });

  const gpu = await Gpu.create();
  try {
    await t.step("GPU elements match the TypeScript reference", async () => {
      for (const dist of DISTRIBUTIONS) {
        for (const d of [1, 3, 1000, 1e8]) {
          const n = 4099;
          const g = await basisElementsGpu(gpu, dist, d, 2 ** 40 + 17, 3, 11, 1, n);
          const r = new Float32Array(n);
          basisElements(r, dist, basisParams(dist, d), 2 ** 40 + 17, 3, 11, 1);
          // ln/sin/cos on the GPU are a few ulp off; a flipped rejection would differ by O(a).
          const tol = dist === "gaussian" ? 2e-5 : 1e-6 / Math.sqrt(d);
          const bad = [...g].filter((x, i) => !(Math.abs(x - r[i]!) <= tol)).length;
          assert.equal(bad, 0, `${dist} d = ${d}`);
        }
      }
    });

    await t.step(
      "moments of generated samples: mean 0, variance ρ, E[v⁴] = κρ² (4 s.e.)",
      async () => {
        for (const dist of DISTRIBUTIONS) {
          for (const d of [1, 10, 1e6]) {
            const n = 1 << 18;
            const v = await basisElementsGpu(gpu, dist, d, 77, 0, 1, 0, n);
            let m1 = 0, m2 = 0, m4 = 0, m8 = 0;
            for (const x of v) {
              const x2 = x * x;
              m1 += x;
              m2 += x2;
              m4 += x2 * x2;
              m8 += x2 * x2 * x2 * x2;
            }
            [m1, m2, m4, m8] = [m1 / n, m2 / n, m4 / n, m8 / n];
            const r = basisVariance(dist, d);
            const k = basisKurtosis(dist, d);
            const label = `${dist} d = ${d}`;
            assert.ok(Math.abs(m1) <= 4 * Math.sqrt(r / n), `${label}: mean ${m1}`);
            const seVar = Math.sqrt(Math.max(k * r * r - r * r, 1e-30 * r * r) / n);
            assert.ok(Math.abs(m2 - r) <= 4 * seVar + 1e-7 * r, `${label}: var ${m2} vs ${r}`);
            const se4 = Math.sqrt(Math.max(m8 - m4 * m4, 1e-30 * m4 * m4) / n);
            assert.ok(
              Math.abs(m4 - k * r * r) <= 4 * se4 + 1e-6 * m4,
              `${label}: m4 ${m4} vs ${k * r * r}`,
            );
          }
        }
      },
    );
  } finally {
    gpu.destroy();
  }

  await t.step("the flat-part weight is 1 − 1/(3d) + O(1/d²)", () => {
    for (const d of [1e3, 1e6]) {
      assert.ok(Math.abs((1 - flatWeight(d)) * 3 * d - 1) < 5 / d);
    }
  });
});
