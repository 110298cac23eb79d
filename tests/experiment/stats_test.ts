import assert from "node:assert/strict";
import { meanStd, pairedCheck, pairedInterval, verdict } from "../../src/experiment/stats.ts";
import { RandomStream } from "../../src/random/stream.ts";

Deno.test("meanStd: the sample standard deviation, NaN for one value, values paired with seeds", () => {
  const s = meanStd([1, 2, 3, 6], [4, 5, 6, 7]);
  assert.equal(s.mean, 3);
  assert.ok(Math.abs(s.std - Math.sqrt(14 / 3)) < 1e-12); // Σ(x − 3)² = 14 over n − 1 = 3
  assert.deepEqual(s.seeds, [4, 5, 6, 7]);
  assert.ok(Number.isNaN(meanStd([2]).std));
  assert.throws(() => meanStd([1, 2], [0]), /Cannot pair 2 values with 1 seeds/);
});

Deno.test("pairedInterval: mean difference ± t quantile · s/√n over the seeds both have", () => {
  // d = (2, 3, 3): mean 8/3, s = √(1/3), t_{0.975, 2} = 4.302653.
  const { mean, lo, hi, n } = pairedInterval(meanStd([3, 4, 5]), meanStd([1, 1, 2]));
  const half = 4.302652729911275 * Math.sqrt(1 / 3) / Math.sqrt(3);
  assert.equal(n, 3);
  assert.ok(Math.abs(mean - 8 / 3) < 1e-12);
  assert.ok(Math.abs(lo - (8 / 3 - half)) < 1e-7 && Math.abs(hi - (8 / 3 + half)) < 1e-7);
  // Pairs by seed, not by position; seeds only one side has are left out.
  const a = meanStd([10, 20, 30], [0, 1, 2]), b = meanStd([19, 9, 100], [1, 0, 5]);
  assert.deepEqual([pairedInterval(a, b).mean, pairedInterval(a, b).n], [1, 2]);
  const one = pairedInterval(meanStd([1]), meanStd([0]));
  assert.ok(one.n === 1 && Number.isNaN(one.lo) && Number.isNaN(one.hi));
  assert.throws(() => pairedInterval(a, b, 1), RangeError);
});

Deno.test("pairedInterval covers the true mean difference 95% of the time (Monte Carlo, n = 5)", () => {
  // Normal differences: the t interval is exact. 4000 trials: the coverage's standard error is
  // √(0.95 · 0.05 / 4000) = 0.0034; a z quantile (1.96) would cover only about 88%.
  const stream = new RandomStream(11, "tests/experiment/stats/coverage");
  const trials = 4000;
  let covered = 0;
  for (let i = 0; i < trials; i++) {
    const a = Array.from({ length: 5 }, () => 1.5 + 2 * stream.normal());
    const { lo, hi } = pairedInterval(meanStd(a), meanStd([0, 0, 0, 0, 0]));
    if (lo <= 1.5 && 1.5 <= hi) covered++;
  }
  const coverage = covered / trials;
  assert.ok(Math.abs(coverage - 0.95) < 4 * 0.0034, `coverage ${coverage}`);
});

Deno.test("verdict: holds, not significant or contradicted by where the interval lies", () => {
  const at = (lo: number, hi: number) => ({ mean: (lo + hi) / 2, lo, hi, n: 4, level: 0.95 });
  const greater = { kind: "greater" } as const, less = { kind: "less" } as const;
  const within = { kind: "within", margin: 5 } as const;
  assert.equal(verdict(at(0.1, 2), greater), "holds");
  assert.equal(verdict(at(-1, 2), greater), "not significant");
  assert.equal(verdict(at(-3, -0.5), greater), "contradicted");
  assert.equal(verdict(at(-3, -0.5), less), "holds");
  assert.equal(verdict(at(-4, 4.9), within), "holds");
  assert.equal(verdict(at(3, 7), within), "not significant");
  assert.equal(verdict(at(5, 9), within), "contradicted");
  assert.equal(verdict(at(-9, -6), within), "contradicted");
  assert.equal(verdict(at(NaN, NaN), greater), "not significant");
});

Deno.test("pairedCheck prints the difference, the interval and the verdict", () => {
  const check = pairedCheck("A above B", meanStd([3, 4, 5]), meanStd([1, 1, 2]), {
    hypothesis: { kind: "greater" },
    names: ["A", "B"],
    digits: 2,
  });
  assert.deepEqual([check.holds, check.verdict], [true, "holds"]);
  assert.equal(check.detail, "A − B = 2.67, 95% CI [1.23, 4.10] over 3 seeds (A 4.00, B 1.33)");
  const undecided = pairedCheck("A above B", meanStd([3]), meanStd([1]), {
    hypothesis: { kind: "greater" },
    names: ["A", "B"],
    digits: 1,
  });
  assert.deepEqual([undecided.holds, undecided.verdict], [false, "not significant"]);
  assert.match(undecided.detail, /no interval from 1 seed/);
});
