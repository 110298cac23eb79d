import assert from "node:assert/strict";
import { gsm8kLikeSuite } from "../../../src/data/suites/gsm8k_like.ts";
import { GSM8K_LIKE_SIZES } from "../../../src/data/suites/sizes.ts";
import { exactMatch, finalAnswer } from "../../../src/metrics/exact_match.ts";
import { rougeL } from "../../../src/metrics/rouge_l.ts";

const STEP = /^(\d+) ([-+*/]) (\d+) = <<(\d+)([-+*/])(\d+)=(\d+)>> (\d+)$/;

const apply = (a: number, op: string, b: number) =>
  op === "+" ? a + b : op === "-" ? a - b : op === "*" ? a * b : a / b;

Deno.test("GSM8K-like steps are spaced, annotated and correct, and end in #### <answer>", () => {
  const ds = gsm8kLikeSuite(GSM8K_LIKE_SIZES.default, 0);
  for (const e of [...ds.clients.flat(), ...ds.test]) {
    const lines = e.output.split("\n");
    const last = lines.pop()!;
    assert.ok(lines.length >= 1 && lines.length <= 2, e.output);
    let result = NaN;
    for (const line of lines) {
      const m = line.match(STEP);
      assert.ok(m, line);
      const [a, op, b, a2, op2, b2, c, shown] = m.slice(1);
      assert.deepEqual([a2, op2, b2, shown], [a, op, b, c], line);
      result = Number(c);
      assert.equal(result, apply(Number(a), op!, Number(b)), line);
      // The result is a whitespace word of its own, which Rouge-L can match.
      assert.ok(line.split(" ").includes(String(result)), line);
    }
    assert.equal(last, `#### ${result}`);
    assert.equal(finalAnswer(e.output), String(result));
    assert.equal(exactMatch(`${lines.join("\n")}\n#### ${result}`, e.output), 1);
  }
});

Deno.test("Rouge-L rewards a right result in a step even when the working differs", () => {
  const reference = "4 * 14 = <<4*14=56>> 56\n#### 56";
  const rightResult = "4 * 15 = <<4*15=56>> 56\n#### 56";
  const wrongResult = "4 * 15 = <<4*15=60>> 60\n#### 60";
  assert.ok(rougeL(rightResult, reference) > rougeL(wrongResult, reference));
  assert.ok(rougeL(wrongResult, reference) > 0, "the operands and operator still match");
});
