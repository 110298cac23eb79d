import assert from "node:assert/strict";
import { PRESETS, RandomStream } from "../../mod.ts";
import { initParameters, parameterLayout, readTensor } from "../../engine.ts";

Deno.test("initialisation", async (t) => {
  const layout = parameterLayout(PRESETS.ci);
  const flat = initParameters(layout, new RandomStream(11, "model/init"));

  await t.step("deterministic, and independent of chunking", () => {
    const again = initParameters(layout, new RandomStream(11, "model/init"));
    assert.deepEqual(again, flat);
    const chunked = parameterLayout(PRESETS.ci, { chunkElements: 12288 });
    const other = initParameters(chunked, new RandomStream(11, "model/init"));
    for (const slot of layout.tensors) {
      assert.deepEqual(readTensor(other, chunked, slot.name), readTensor(flat, layout, slot.name));
    }
    const seed12 = initParameters(layout, new RandomStream(12, "model/init"));
    assert.notDeepEqual(seed12, flat);
  });

  await t.step("norms are ones, gaps are zero", () => {
    const covered = new Uint8Array(layout.length);
    for (const slot of layout.tensors) {
      covered.fill(1, slot.offset, slot.offset + slot.numel);
      if (slot.kind === "norm") {
        assert.ok(readTensor(flat, layout, slot.name).every((v) => v === 1), slot.name);
      }
    }
    flat.forEach((v, i) => {
      if (!covered[i]) assert.equal(v, 0);
    });
  });

  await t.step("weights ~ N(0, 0.02²) within standard errors", () => {
    // Pool every linear/embedding weight: n ≈ 39k draws. Mean has SE σ/√n,
    // the variance estimate has SE σ²·√(2/n); accept within 5 SE.
    const values: number[] = [];
    for (const slot of layout.tensors) {
      if (slot.kind !== "norm") values.push(...readTensor(flat, layout, slot.name));
    }
    const n = values.length;
    const mean = values.reduce((a, b) => a + b, 0) / n;
    const variance = values.reduce((a, b) => a + (b - mean) ** 2, 0) / (n - 1);
    const sigma = 0.02;
    assert.ok(Math.abs(mean) < 5 * sigma / Math.sqrt(n), `mean ${mean}`);
    assert.ok(
      Math.abs(variance - sigma ** 2) < 5 * sigma ** 2 * Math.sqrt(2 / n),
      `variance ${variance}`,
    );
    // Distinct tensors are not copies of each other.
    const q = readTensor(flat, layout, "model.layers.0.self_attn.q_proj.weight");
    const o = readTensor(flat, layout, "model.layers.0.self_attn.o_proj.weight");
    assert.notDeepEqual(q, o);
  });

  await t.step("custom std and validation", () => {
    const zero = initParameters(layout, new RandomStream(1, "x"), { std: 0 });
    assert.ok(readTensor(zero, layout, "lm_head.weight").every((v) => v === 0));
    assert.throws(() => initParameters(layout, new RandomStream(1, "x"), { std: -1 }), RangeError);
  });
});
