import assert from "node:assert/strict";
import { ByteTokenizer, type Example } from "../../mod.ts";
import {
  accumulationSteps,
  packStep,
  promptTokens,
  renderPrompt,
  tokenizeExample,
} from "../../extend.ts";

const tok = new ByteTokenizer();
const ex = (output: string, input = "x"): Example => ({
  instruction: "Echo.",
  input,
  output,
  label: "echo",
});

Deno.test("tokenizeExample masks BOS and prompt", () => {
  const e = ex("hi");
  const prompt = tok.encode(renderPrompt("compact", e));
  const t = tokenizeExample(e, tok, { template: "compact", maxLength: 256 });
  assert.deepEqual(Array.from(t.tokens), [tok.bos, ...prompt, ...tok.encode("hi"), tok.eos]);
  assert.deepEqual(
    Array.from(t.labels),
    [...Array(1 + prompt.length).fill(-100), ...tok.encode("hi"), tok.eos],
  );
  assert.equal(t.promptTokens, 1 + prompt.length);
  assert.equal(t.responseTokens, 3);
  assert.equal(t.truncated, false);
  assert.deepEqual(Array.from(promptTokens(e, tok, "compact")), [tok.bos, ...prompt]);
});

Deno.test("tokenizeExample truncates at the end", () => {
  const e = ex("abcdef");
  const full = tokenizeExample(e, tok, { template: "compact", maxLength: 999 });
  const cut = tokenizeExample(e, tok, { template: "compact", maxLength: full.promptTokens + 2 });
  assert.deepEqual(
    Array.from(cut.tokens),
    Array.from(full.tokens.subarray(0, full.promptTokens + 2)),
  );
  assert.equal(cut.responseTokens, 2);
  assert.equal(cut.truncated, true);
  const none = tokenizeExample(e, tok, { template: "compact", maxLength: 5 });
  assert.equal(none.responseTokens, 0);
  assert.ok(Array.from(none.labels).every((l) => l === -100));
  assert.throws(() => tokenizeExample(e, tok, { template: "compact", maxLength: 1 }), RangeError);
});

Deno.test("packStep keeps examples apart and reproduces the accumulated loss weights", () => {
  const examples = ["a", "bbbb", "cc", "ddddddd"].map((o, i) =>
    tokenizeExample(ex(o, `${i}`), tok, { template: "compact", maxLength: 256 })
  );
  const maxRowTokens = examples[0]!.tokens.length * 2 + 5;
  const { rows, skipped } = packStep(examples, { maxRowTokens, nAccum: 4 });
  assert.deepEqual(skipped, []);
  assert.deepEqual(rows.flatMap((r) => r.examples).sort(), [0, 1, 2, 3]);
  for (const row of rows) {
    assert.ok(row.tokens.length <= maxRowTokens);
    let at = 0;
    row.examples.forEach((m, s) => {
      const e = examples[m]!;
      const n = e.tokens.length;
      assert.deepEqual(Array.from(row.tokens.subarray(at, at + n)), Array.from(e.tokens));
      assert.deepEqual(
        Array.from(row.positions.subarray(at, at + n)),
        Array.from({ length: n }, (_, i) => i),
      );
      assert.ok(row.segments.subarray(at, at + n).every((x) => x === s));
      // Next-token targets inside the example, none across the boundary.
      for (let i = 0; i < n; i++) {
        const want = i + 1 < n ? e.labels[i + 1]! : -100;
        assert.equal(row.targets[at + i], want);
        assert.equal(
          row.weights[at + i],
          want === -100 ? 0 : Math.fround(1 / (e.responseTokens * 4)),
        );
      }
      // Σ weights over an example = 1/n_accum: its mean loss, divided by n_accum.
      const w = row.weights.subarray(at, at + n).reduce((a, b) => a + b, 0);
      assert.ok(Math.abs(w - 0.25) < 1e-6);
      at += n;
    });
  }
});

Deno.test("packStep skips examples with no response token and refuses oversize ones", () => {
  const ok = tokenizeExample(ex("a"), tok, { template: "compact", maxLength: 256 });
  const empty = tokenizeExample(ex("a"), tok, { template: "compact", maxLength: 4 });
  const { rows, skipped } = packStep([empty, ok], { maxRowTokens: 256, nAccum: 2 });
  assert.deepEqual(skipped, [0]);
  assert.deepEqual(rows.map((r) => r.examples), [[1]]);
  assert.throws(() => packStep([ok], { maxRowTokens: 4, nAccum: 1 }), RangeError);
});

Deno.test("accumulation steps cycle through the order", () => {
  assert.deepEqual(accumulationSteps([3, 1, 2], 4, 2), [[3, 1, 2, 3], [1, 2, 3, 1]]);
  // The paper's Ferret client: 40 batches with n_accum 4 → 10 steps.
  const steps = accumulationSteps(Array.from({ length: 50 }, (_, i) => i), 4, 10);
  assert.equal(steps.length, 10);
  assert.deepEqual(steps.flat(), Array.from({ length: 40 }, (_, i) => i));
  assert.throws(() => accumulationSteps([], 4, 1), RangeError);
});
