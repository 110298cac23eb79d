import assert from "node:assert/strict";
import { stratifiedSample } from "../../src/data/stratify.ts";
import { builtinSuite } from "../../src/data/suites/builtin.ts";

const e = (label: string, i: number) => ({ label, output: `${label}${i}` });

Deno.test("stratifiedSample takes labels round-robin, in order, as long as they last", () => {
  const test = [e("a", 1), e("a", 2), e("a", 3), e("a", 4), e("b", 1), e("c", 1), e("c", 2)];
  const out = (n: number) => stratifiedSample(test, n).map((x) => x.output);
  assert.deepEqual(out(3), ["a1", "b1", "c1"]);
  assert.deepEqual(out(6), ["a1", "b1", "c1", "a2", "c2", "a3"]);
  assert.deepEqual(out(99).length, test.length);
  assert.deepEqual(out(0), []);
  assert.throws(() => stratifiedSample(test, -1), RangeError);
});

Deno.test("the default NI-like evaluation scores every held-out task", () => {
  const { test } = builtinSuite("ni-like", "default", 0);
  const tasks = new Set(test.map((x) => x.label));
  assert.ok(tasks.size > 2, `${tasks.size} held-out tasks`);
  // Rouge-L's 12 examples at default scale: the first 12 of the list cover 2 tasks, the sample all.
  const first = new Set(test.slice(0, 12).map((x) => x.label));
  const sampled = new Set(stratifiedSample(test, Math.max(12, tasks.size)).map((x) => x.label));
  assert.equal(sampled.size, tasks.size);
  assert.ok(first.size < tasks.size);
});
