import assert from "node:assert/strict";
import {
  allocateBases,
  ALLOCATION_RULES,
  blockMse,
  cappedAllocation,
  largestRemainder,
  officialAllocation,
} from "../../src/projection/allocation.ts";
import { kurtosis, rho } from "../../src/random/moments.ts";
import { leastSquaresReconstruction } from "../../src/projection/least_squares.ts";
import { RandomStream } from "../../src/random/stream.ts";

Deno.test("allocation of bases to blocks", async (t) => {
  const dims = [2048, 2048, 20000, 80000, 300000];
  const norms = [3, 0.5, 2, 1, 0.25];

  await t.step("every rule sums to K exactly with K_l ≥ 1", () => {
    for (const rule of ALLOCATION_RULES) {
      for (const K of [5, 64, 257]) {
        const k = allocateBases(rule, dims, K, norms);
        assert.equal(k.reduce((a, b) => a + b, 0), K, rule);
        assert.ok(k.every((x) => Number.isInteger(x) && x >= 1), rule);
      }
    }
    assert.throws(() => allocateBases("uniform", dims, 4), RangeError);
    assert.throws(() => allocateBases("norm", dims, 64), TypeError);
  });

  await t.step("proportional rules follow their weights", () => {
    assert.deepEqual(largestRemainder([1, 1, 2], 7), [2, 2, 3]);
    assert.deepEqual(allocateBases("dim", [100, 300], 8), [2, 6]);
    const k = allocateBases("sqrt-norm-over-rho", [1000, 1000], 1002, [1, 4]);
    assert.deepEqual(k, [334, 668]);
  });

  await t.step("the square-root rule minimises Prop. 2's objective Σ‖Δ_l‖/(ρ_l K_l)", () => {
    const objective = (k: number[]) =>
      dims.reduce((s, d, l) => s + norms[l]! / (rho(d) * k[l]!), 0);
    const best = objective(allocateBases("sqrt-norm-over-rho", dims, 256, norms));
    for (const rule of ALLOCATION_RULES) {
      assert.ok(best <= objective(allocateBases(rule, dims, 256, norms)) * (1 + 1e-3), rule);
    }
  });

  await t.step("the mse-optimal rule minimises the exact block MSE", () => {
    const mse = (k: number[]) => blockMse(dims, norms, k, dims.map(kurtosis));
    const best = mse(allocateBases("mse-optimal", dims, 256, norms));
    for (const rule of ALLOCATION_RULES) {
      assert.ok(best <= mse(allocateBases(rule, dims, 256, norms)) * (1 + 1e-3), rule);
    }
  });

  await t.step("a cap per block: full blocks stay at the cap, the rest split by the rule", () => {
    assert.deepEqual(cappedAllocation("dim", [100, 100, 800], 10, 4), [3, 3, 4]);
    // Uncapped [47, 8, 31, 16, 4]; block 0 capped leaves 76 for the rest, [10, 41, 20, 5]: block 2
    // capped too leaves 46 split 0.5 : 1 : 0.25 → [13, 26, 7] (largest remainders).
    assert.deepEqual(allocateBases("norm", dims, 106, norms), [47, 8, 31, 16, 4]);
    assert.deepEqual(cappedAllocation("norm", dims, 106, 30, norms), [30, 13, 30, 26, 7]);
    for (const rule of ALLOCATION_RULES) {
      for (const [total, cap] of [[5, 1], [64, 20], [150, 30]] as const) {
        const k = cappedAllocation(rule, dims, total, cap, norms);
        assert.equal(k.reduce((a, b) => a + b, 0), total, rule);
        assert.ok(k.every((x) => Number.isInteger(x) && x >= 1 && x <= cap), `${rule} ${k}`);
      }
    }
    assert.deepEqual(cappedAllocation("uniform", dims, 64, 64), allocateBases("uniform", dims, 64));
    assert.throws(() => cappedAllocation("uniform", dims, 151, 30), /at most 30 each/);
    assert.throws(() => cappedAllocation("uniform", dims, 4, 30), RangeError);
  });

  await t.step("official allocation: max(int(‖Δ_l‖/max·K), 2), NaN → 2", () => {
    assert.deepEqual(officialAllocation([1, 0.5, 0.001, NaN], 200), [200, 100, 2, 2]);
    assert.deepEqual(officialAllocation([0.3, 0.299], 10), [10, 9]);
  });
});

Deno.test("exact least squares (Eq. 5)", async (t) => {
  const s = new RandomStream(3, "test/ls");
  const delta = Float32Array.from({ length: 40 }, () => s.normal());
  await t.step("K = d reproduces Δ; K < d gives an orthogonal projection", () => {
    const full = leastSquaresReconstruction(delta, 40, "truncnormal", 9);
    full.reconstruction.forEach((v, i) => assert.ok(Math.abs(v - delta[i]!) < 1e-3));
    const part = leastSquaresReconstruction(delta, 10, "truncnormal", 9);
    // Residual ⟂ reconstruction: (Δ − Δ̃)ᵀΔ̃ = 0.
    let dotr = 0, n = 0;
    part.reconstruction.forEach((v, i) => {
      dotr += (delta[i]! - v) * v;
      n += v * v;
    });
    assert.ok(Math.abs(dotr) < 1e-6 * n);
  });
});
