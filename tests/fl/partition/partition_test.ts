import assert from "node:assert/strict";
import {
  applyPartition,
  dirichletPartition,
  DOLLY_CATEGORIES,
  iidPartition,
  partitionByAttribute,
  partitionOneTaskPerClient,
  partitionStats,
} from "../../../extend.ts";

/** Dolly-15K's training labels at paper scale: 7 categories, summarization held out. */
const DOLLY_TRAIN_LABELS = DOLLY_CATEGORIES.slice(0, 7).flatMap(([c, n]) =>
  Array.from({ length: n }, () => c)
);

function assertPermutation(parts: number[][], n: number): void {
  const all = parts.flat().sort((a, b) => a - b);
  assert.deepEqual(all, Array.from({ length: n }, (_, i) => i));
}

Deno.test("dirichlet partition at paper scale (200 clients, α = 0.5, ≥ 10 each)", async (t) => {
  const opts = { clients: 200, alpha: 0.5, minSize: 10, seed: 494 };
  const a = dirichletPartition(DOLLY_TRAIN_LABELS, opts);
  await t.step("every example once, every client ≥ 10", () => {
    assertPermutation(a.parts, DOLLY_TRAIN_LABELS.length);
    assert.equal(a.parts.length, 200);
    assert.ok(Math.min(...a.parts.map((p) => p.length)) >= 10);
    assert.ok(a.attempts >= 1);
  });
  await t.step("deterministic in the seed", () => {
    const b = dirichletPartition(DOLLY_TRAIN_LABELS, opts);
    assert.equal(JSON.stringify(b), JSON.stringify(a));
    const c = dirichletPartition(DOLLY_TRAIN_LABELS, { ...opts, seed: 495 });
    assert.notEqual(JSON.stringify(c.parts), JSON.stringify(a.parts));
  });
  await t.step("label skew is visible in the statistics", () => {
    const labelsOf = (parts: number[][]) => applyPartition(DOLLY_TRAIN_LABELS, parts);
    const dir = partitionStats(labelsOf(a.parts));
    const iid = partitionStats(labelsOf(iidPartition(DOLLY_TRAIN_LABELS.length, 200, 494)));
    // IID clients of ~69 examples over 7 classes: expected TV ≈ ½·Σ_k
    // √(2p_k(1−p_k)/(π·69)) ≈ 0.12. Dir(0.5) proportions are far from uniform.
    assert.ok(iid.meanLabelTv < 0.2, `iid TV ${iid.meanLabelTv}`);
    assert.ok(dir.meanLabelTv > 0.35, `dirichlet TV ${dir.meanLabelTv}`);
    assert.ok(dir.meanTopLabelShare > iid.meanTopLabelShare + 0.2);
    assert.equal(dir.labels.length, 7);
    assert.equal(dir.numClients, 200);
    assert.equal(dir.trainExamples, DOLLY_TRAIN_LABELS.length);
    assert.equal(
      dir.labelHistograms.reduce((s, h) => s + Object.values(h).reduce((x, y) => x + y, 0), 0),
      DOLLY_TRAIN_LABELS.length,
    );
  });
});

Deno.test("dirichlet partition edge cases", async (t) => {
  await t.step("infeasible minimum size is refused", () => {
    assert.throws(
      () => dirichletPartition([0, 1, 2], { clients: 2, alpha: 0.5, minSize: 10, seed: 1 }),
      RangeError,
    );
  });
  await t.step("bad α and client counts are refused", () => {
    assert.throws(() => dirichletPartition([0], { clients: 0, alpha: 1, seed: 1 }), RangeError);
    assert.throws(() => dirichletPartition([0], { clients: 1, alpha: 0, seed: 1 }), RangeError);
  });
  await t.step("numeric labels sort numerically; one client takes all", () => {
    const { parts } = dirichletPartition([10, 2, 10, 2], {
      clients: 1,
      alpha: 1,
      minSize: 0,
      seed: 1,
    });
    assertPermutation(parts, 4);
  });
  await t.step("large α spreads every label over every client", () => {
    const labels = Array.from({ length: 4000 }, (_, i) => i % 4);
    const { parts } = dirichletPartition(labels, { clients: 4, alpha: 1000, seed: 3 });
    const s = partitionStats(applyPartition(labels, parts));
    assert.ok(s.meanLabelTv < 0.1, `TV ${s.meanLabelTv}`);
  });
});

Deno.test("iid partition", () => {
  const parts = iidPartition(10, 3, 7);
  assert.deepEqual(parts.map((p) => p.length), [3, 3, 4]);
  assertPermutation(parts, 10);
  assert.deepEqual(iidPartition(10, 3, 7), parts);
  assert.notDeepEqual(iidPartition(10, 3, 8), parts);
  assert.throws(() => iidPartition(2, 3, 1), RangeError);
});

Deno.test("partition by attribute and one task per client", () => {
  assert.deepEqual(partitionByAttribute(["py", "js", "py"]), {
    keys: ["py", "js"],
    parts: [[0, 2], [1]],
  });
  assert.deepEqual(partitionByAttribute(["py", "js", "py"], ["js", "py", "go"]), {
    keys: ["js", "py", "go"],
    parts: [[1], [0, 2], []],
  });
  assert.throws(() => partitionByAttribute(["rb"], ["py"]), RangeError);
  assert.deepEqual(partitionOneTaskPerClient(["t2", "t1", "t2"]).keys, ["t2", "t1"]);
  assert.throws(() => applyPartition(["a"], [[1]]), RangeError);
});

Deno.test("partition statistics by hand", () => {
  const s = partitionStats([["a", "a", "b", "b"], ["a", "a", "a", "a"]]);
  assert.deepEqual(s.samplesPerClient, [4, 4]);
  assert.deepEqual(s.labelHistograms, [{ a: 2, b: 2 }, { a: 4 }]);
  // Pooled: a 6/8, b 2/8. Client 0: ½(|½ − ¾| + |½ − ¼|) = ¼; client 1: ½(¼ + ¼) = ¼.
  assert.equal(s.meanLabelTv, 0.25);
  assert.equal(s.meanTopLabelShare, 0.75);
  assert.deepEqual([s.minClientSize, s.maxClientSize, s.trainExamples], [4, 4, 8]);
});
