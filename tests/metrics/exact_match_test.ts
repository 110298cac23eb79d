import assert from "node:assert/strict";
import { exactMatch } from "../../mod.ts";
import {
  evalLoss,
  finalAnswer,
  finalAnswerScore,
  meanExactMatch,
  meanResponseLoss,
} from "../../engine.ts";

Deno.test("final answers", () => {
  assert.equal(finalAnswer("a\n#### 72"), "72");
  assert.equal(finalAnswer("#### 1,234"), "1234");
  assert.equal(finalAnswer("#### $5"), "5");
  assert.equal(finalAnswer("#### -3.50"), "-3.5");
  assert.equal(finalAnswer("#### 1\nthen #### 2"), "2");
  assert.equal(finalAnswer("no marker 5"), null);
  assert.equal(finalAnswer("#### five"), null);
});

Deno.test("exact match", () => {
  assert.equal(exactMatch("x\n#### 1,000", "#### 1000"), 1);
  assert.equal(exactMatch("#### 3.0", "#### 3"), 1);
  assert.equal(exactMatch("#### 4", "#### 3"), 0);
  assert.equal(exactMatch("3", "#### 3"), 0);
  assert.equal(exactMatch("#### 3", "no answer"), 0);
  assert.equal(
    meanExactMatch(["#### 1", "#### 2", "", "#### 4"], ["#### 1", "#### 2", "#### 3", "#### 5"]),
    0.5,
  );
  assert.throws(() => meanExactMatch([], []), RangeError);
});

Deno.test("response-token loss", () => {
  assert.equal(meanResponseLoss([5, 1, 2, 3], new Int32Array([-100, 7, -100, 8])), 2);
  assert.ok(Number.isNaN(meanResponseLoss([1, 2], new Int32Array([-100, -100]))));
  assert.throws(() => meanResponseLoss([1], new Int32Array(2)), TypeError);
  assert.deepEqual(evalLoss([2, NaN, 4, NaN]), { mean: 3, counted: 2, skippedNaN: 2 });
  assert.deepEqual(evalLoss([Infinity, 1]), { mean: Infinity, counted: 2, skippedNaN: 0 });
});

Deno.test("finalAnswerScore: percent of matching final answers, null where a reference has none", () => {
  assert.equal(
    finalAnswerScore(["4 * 3 = <<4*3=12>> 12\n#### 12", "#### 7"], ["#### 12", "#### 8"]),
    50,
  );
  assert.equal(finalAnswerScore(["no answer"], ["#### 1,000"]), 0);
  assert.equal(finalAnswerScore(["#### 1000"], ["#### 1,000"]), 100);
  assert.equal(finalAnswerScore(["#### 1"], ["#### 1", "one"].slice(1)), null);
  assert.equal(finalAnswerScore([], []), null);
  assert.throws(() => finalAnswerScore(["#### 1"], ["#### 1", "#### 2"]), RangeError);
});
