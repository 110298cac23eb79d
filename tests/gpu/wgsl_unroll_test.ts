import assert from "node:assert/strict";
import * as kernels from "../../kernels/mod.ts";
import { unrollWgsl } from "../../src/gpu/wgsl_unroll.ts";

Deno.test("unrollWgsl expands nested loops with integer arithmetic, leaving WGSL's braces", () => {
  const source = [
    "fn f() {",
    "  //! for r in 0..2",
    "  let f{r} = a[ar{r} + kk];",
    "  //! for c in 1..3",
    "  x{4*r+c} = g(f{r}, {c}u, {(r+1)*10-c%2}, {7/2}); if (y) { z = 1; }",
    "  //! end",
    "  //! end",
    "}",
  ].join("\n");
  assert.equal(
    unrollWgsl(source),
    [
      "fn f() {",
      "  let f0 = a[ar0 + kk];",
      "  x1 = g(f0, 1u, 9, {7/2}); if (y) { z = 1; }",
      "  x2 = g(f0, 2u, 10, {7/2}); if (y) { z = 1; }",
      "  let f1 = a[ar1 + kk];",
      "  x5 = g(f1, 1u, 19, {7/2}); if (y) { z = 1; }",
      "  x6 = g(f1, 2u, 20, {7/2}); if (y) { z = 1; }",
      "}",
    ].join("\n"),
  );
  // A placeholder naming no loop variable is left alone; / truncates; empty ranges vanish.
  assert.equal(
    unrollWgsl("//! for i in 0..2\n{(i+3)/2}\n//! end\n//! for j in 3..3\nnever\n//! end"),
    "1\n2",
  );
  assert.equal(unrollWgsl("no loops {here}"), "no loops {here}");
});

Deno.test("unrollWgsl refuses malformed loops with the line", () => {
  assert.throws(() => unrollWgsl("//! for i in 0..2\nx{i}"), /has no \/\/! end/);
  assert.throws(() => unrollWgsl("x\n//! end"), /line 2 ends no loop/);
  assert.throws(
    () => unrollWgsl("//! for i in 0..2\n//! for i in 0..2\n//! end\n//! end"),
    /reuses/,
  );
  assert.throws(() => unrollWgsl("//! for i in 0..2\nx{i+k}\n//! end"), /"k" .* no loop variable/);
  assert.throws(() => unrollWgsl("//! for i in 0..2\nx{i+}\n//! end"), /ends early/);
  assert.throws(() => unrollWgsl("//! repeat 3"), /line 1 is no directive/);
});

Deno.test("every kernel's source is expanded: no directive reaches the GPU", () => {
  const all = Object.entries(kernels).filter(([, k]) => typeof k === "object" && "code" in k);
  assert.ok(all.length > 40);
  for (const [name, kernel] of all) {
    assert.ok(!/^\s*\/\/!/m.test((kernel as { code: string }).code), `${name} holds a directive`);
  }
});
