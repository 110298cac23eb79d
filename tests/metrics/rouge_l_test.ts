import assert from "node:assert/strict";
import { rougeL } from "../../mod.ts";
import { meanRougeL, rougeLScore, rougeSentences } from "../../engine.ts";

/**
 * The package's F formula, applied to hand-counted values: l = distinct words
 * in the union LCS, m = distinct reference words, n = distinct hypothesis
 * words (rouge==1.0.1 with its default exclusive=True).
 */
function f(l: number, m: number, n: number): number {
  const p = l / n;
  const r = l / m;
  return 2.0 * ((p * r) / (p + r + 1e-8));
}

/** [hypothesis, reference, l, m, n], every count worked out by hand. */
const TABLE: readonly [string, string, number, number, number][] = [
  // Identical: 5 distinct words ("the" twice counts once).
  ["the cat sat on the mat", "the cat sat on the mat", 5, 5, 5],
  ["the cat", "the cat sat", 2, 3, 2],
  ["a b c", "a b c d e f", 3, 6, 3],
  // ref x = [the, cat], hyp y = [cat, the]: at (2,2) "cat" ≠ "the" and the
  // cells above and left are both 1, so backtracking goes left, then matches
  // "cat": the LCS is {cat}, l = 1.
  ["cat the", "the cat", 1, 2, 2],
  // Repeated words collapse into sets: P = R = 1 where textbook ROUGE-L
  // would give P = 1/3.
  ["the the the", "the", 1, 1, 1],
  ["the", "the the the", 1, 1, 1],
  ["a a b", "a b b", 2, 2, 2],
  ["a a a a b", "a b", 2, 2, 2],
  ["b b b", "a b c", 1, 3, 1],
  // Reversed: every tie goes left until y[0] = "a" matches x[3] = "a".
  ["a b c d", "d c b a", 1, 4, 4],
  // One sentence: LCS "a c d" (or "a b d"), 3 words.
  ["a b c d", "a c b d", 3, 4, 4],
  // Split on "." the same words give 4: ref "a c" picks a from "a b" and c
  // from "c d"; ref "b d" picks b and d; the union is {a, b, c, d}.
  ["a b. c d", "a c. b d", 4, 4, 4],
  // "3.14" is cut into sentences "pi is 3" and "14" on both sides.
  ["pi is 3.14", "pi is 3.14", 4, 4, 4],
  // Whitespace runs collapse.
  ["a   b\tc\n d", "a b c d", 4, 4, 4],
  // "a. " → pieces "a" and " " → sentences "a" and "" → words {a, ""}: n = 2.
  ["a. ", "a", 1, 1, 2],
  // "a." → pieces "a" and "" → the empty piece is dropped before normalising.
  ["a.", "a", 1, 1, 1],
  // The empty word matches itself: union {a, ""}.
  ["a. ", "a. ", 2, 2, 2],
  // Case matters: only "cat" is shared.
  ["The cat", "the cat", 1, 2, 2],
  // Punctuation stays on the word.
  ["yes!", "yes", 0, 1, 1],
  ["foo bar", "baz", 0, 1, 2],
  ["42", "42", 1, 1, 1],
  ["41", "42", 0, 1, 1],
  ["the quick brown fox jumps", "the brown dog jumps high", 3, 5, 5],
  ["2+3=<<2+3=5>>5\n#### 5", "2+3=<<2+3=5>>5\n#### 5", 3, 3, 3],
  ["2+3=<<2+3=5>>5\n#### 6", "2+3=<<2+3=5>>5\n#### 5", 2, 3, 3],
  // Ref sentences "x" and "x": m = 1; hyp {x, y}: n = 2.
  ["x y", "x. x", 1, 1, 2],
  // Tie-breaking decides the union. ref "a b" vs hyp "b a": at (2,2) the
  // cells above and left are both 1 → go left → match "b": {b}. With a second
  // ref sentence "a" the union is {a, b}; with "b" it stays {b}.
  ["b a", "a b. a", 2, 2, 2],
  ["b a", "a b. b", 1, 2, 2],
  // Code: 7 distinct words each side ("add(a,", "b):", ...), LCS drops + / −.
  ["def add(a, b):\n    return a + b", "def add(a, b):\n    return a - b", 6, 7, 7],
  // Python's str.split() splits on NBSP and \x1c but not on U+FEFF.
  ["a\u00a0b", "a b", 2, 2, 2],
  ["a\x1cb", "a b", 2, 2, 2],
  ["a\ufeffb", "a b", 0, 2, 1],
  // A hypothesis of spaces is one empty word.
  [" ", "a", 0, 1, 1],
];

Deno.test("rouge-l matches hand-worked rouge==1.0.1 values", async (t) => {
  assert.ok(TABLE.length >= 30);
  for (const [hyp, ref, l, m, n] of TABLE) {
    await t.step(JSON.stringify([hyp, ref]), () => {
      const score = rougeLScore(hyp, ref);
      assert.ok(score !== null);
      assert.deepEqual([score.lcs, score.refWords, score.hypWords], [l, m, n]);
      assert.equal(score.f, f(l, m, n));
      assert.equal(rougeL(hyp, ref), f(l, m, n));
    });
  }
});

Deno.test("rouge-l literal values", () => {
  // 2·(1·1)/(1 + 1 + 1e-8): identical texts fall just short of 1.
  assert.equal(rougeL("a b", "a b"), 0.999999995);
  // P = 2/3, R = 1: 2·(2/3)/(5/3 + 1e-8).
  assert.equal(rougeL("the cat sat", "the cat"), 0.7999999952000001);
  assert.equal(rougeL("x", "y"), 0);
});

Deno.test("rouge-l scores 0 where the official evaluation does", async (t) => {
  await t.step("empty generation", () => assert.equal(rougeL("", "anything"), 0));
  await t.step("no hypothesis sentence", () => {
    assert.equal(rougeLScore("...", "a"), null);
    assert.equal(rougeL("...", "a"), 0);
  });
  await t.step("empty reference", () => {
    assert.equal(rougeLScore("a b c", ""), null);
    assert.equal(rougeL("a b c", ""), 0);
    assert.equal(rougeL("a", ".."), 0);
  });
});

Deno.test("rouge sentence splitting", () => {
  assert.deepEqual(rougeSentences("A  b. c.. "), ["A b", "c", ""]);
  assert.deepEqual(rougeSentences("no period"), ["no period"]);
  assert.deepEqual(rougeSentences(""), []);
});

Deno.test("mean rouge-l", () => {
  assert.equal(meanRougeL(["a", ""], ["a", "b"]), 0.4999999975);
  assert.throws(() => meanRougeL(["a"], []), TypeError);
  assert.throws(() => meanRougeL([], []), RangeError);
});

Deno.test("rouge-l on long sentences stays exact and fast", () => {
  const words = Array.from({ length: 600 }, (_, i) => `w${i % 50}`);
  const ref = words.join(" ");
  const hyp = words.slice(0, 300).join(" ");
  const s = rougeLScore(hyp, ref)!;
  assert.deepEqual([s.lcs, s.refWords, s.hypWords], [50, 50, 50]);
});
