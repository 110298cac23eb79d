import assert from "node:assert/strict";
import { Gpu, type ModelConfig, PRESETS, RandomStream } from "../../mod.ts";
import {
  createParameters,
  GpuVector,
  initParameters,
  parameterCount,
  parameterLayout,
  readTensor,
  TENSOR_ALIGNMENT,
  tensorShapes,
  tensorViews,
  writeTensor,
} from "../../engine.ts";

/**
 * The official code's `_group_parameters` (paper.md §7 item 3), written out
 * here only to check that `tensorShapes` walks the tensors in the order and
 * with the sizes it needs: target = int(0.9 × median numel); start a new
 * block when current + next > target and the current block is non-empty.
 */
function officialBlockCount(sizes: number[]): number {
  const sorted = sizes.slice().sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  const median = sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
  const target = Math.floor(0.9 * median);
  let blocks = 0;
  let current = 0;
  for (const size of sizes) {
    if (current > 0 && current + size > target) {
      blocks++;
      current = 0;
    }
    current += size;
  }
  return blocks + (current > 0 ? 1 : 0);
}

const tiedCi: ModelConfig = { ...PRESETS.ci, tieEmbeddings: true };

Deno.test("parameter layout", async (t) => {
  await t.step("HF names and named_parameters() order", () => {
    const names = tensorShapes(PRESETS.ci).map((s) => s.name);
    const layer = (i: number) => [
      `model.layers.${i}.self_attn.q_proj.weight`,
      `model.layers.${i}.self_attn.k_proj.weight`,
      `model.layers.${i}.self_attn.v_proj.weight`,
      `model.layers.${i}.self_attn.o_proj.weight`,
      `model.layers.${i}.mlp.gate_proj.weight`,
      `model.layers.${i}.mlp.up_proj.weight`,
      `model.layers.${i}.mlp.down_proj.weight`,
      `model.layers.${i}.input_layernorm.weight`,
      `model.layers.${i}.post_attention_layernorm.weight`,
    ];
    assert.deepEqual(names, [
      "model.embed_tokens.weight",
      ...layer(0),
      ...layer(1),
      "model.norm.weight",
      "lm_head.weight",
    ]);
    assert.equal(tensorShapes(tiedCi).at(-1)!.name, "model.norm.weight");
  });

  await t.step("shapes as PyTorch stores them", () => {
    const shapes = new Map(tensorShapes(PRESETS.ci).map((s) => [s.name, s.shape]));
    assert.deepEqual(shapes.get("model.embed_tokens.weight"), [259, 32]);
    assert.deepEqual(shapes.get("model.layers.1.self_attn.q_proj.weight"), [32, 32]);
    assert.deepEqual(shapes.get("model.layers.1.self_attn.k_proj.weight"), [16, 32]);
    assert.deepEqual(shapes.get("model.layers.1.self_attn.v_proj.weight"), [16, 32]);
    assert.deepEqual(shapes.get("model.layers.1.mlp.gate_proj.weight"), [88, 32]);
    assert.deepEqual(shapes.get("model.layers.1.mlp.down_proj.weight"), [32, 88]);
    assert.deepEqual(shapes.get("model.layers.1.input_layernorm.weight"), [32]);
    assert.deepEqual(shapes.get("lm_head.weight"), [259, 32]);
    for (const config of Object.values(PRESETS)) {
      const total = tensorShapes(config).reduce((a, s) => a + s.numel, 0);
      assert.equal(total, parameterCount(config));
    }
  });

  await t.step("official block grouping gives L = 194/210/258/322 (paper.md §7 item 3)", () => {
    const count = (name: keyof typeof PRESETS) =>
      officialBlockCount(tensorShapes(PRESETS[name]).map((s) => s.numel));
    assert.equal(count("datajuicer-1.3b"), 194);
    assert.equal(count("open_llama_3b"), 210);
    assert.equal(count("llama-2-7b"), 258);
    assert.equal(count("llama-2-13b"), 322);
  });

  await t.step("aligned, non-overlapping, in order (unbounded chunk)", () => {
    for (const config of [PRESETS.ci, tiedCi, PRESETS.default, PRESETS["llama-2-13b"]]) {
      const layout = parameterLayout(config);
      let end = 0;
      for (const slot of layout.tensors) {
        assert.equal(slot.offset % TENSOR_ALIGNMENT, 0);
        assert.ok(slot.offset >= end && slot.offset - end < TENSOR_ALIGNMENT, slot.name);
        assert.equal(slot.chunk, 0);
        end = slot.offset + slot.numel;
      }
      assert.equal(layout.length, end);
      assert.equal(layout.numParameters, parameterCount(config));
    }
  });

  await t.step("never straddles a chunk", () => {
    // 1536 elements per chunk: the embedding (8288) does not fit → a clear error…
    assert.throws(
      () => parameterLayout(PRESETS.ci, { chunkElements: 1536 }),
      {
        name: "RangeError",
        message: 'Cannot lay out tensor "model.embed_tokens.weight" [259, 32]: its 8288 ' +
          "elements exceed one chunk of 1536 (one storage binding)",
      },
    );
    assert.throws(() => parameterLayout(PRESETS.ci, { chunkElements: 100 }), /multiple of 64/);
    // …with the embedding's size rounded up, several tensors share chunks, others start new ones.
    for (const chunkElements of [8320, 8960, 12288, 39936]) {
      const layout = parameterLayout(PRESETS.ci, { chunkElements });
      let end = 0;
      for (const slot of layout.tensors) {
        assert.equal(slot.chunkOffset % TENSOR_ALIGNMENT, 0);
        assert.equal(slot.chunk, Math.floor(slot.offset / chunkElements));
        assert.equal(slot.offset - slot.chunk * chunkElements, slot.chunkOffset);
        assert.ok(slot.chunkOffset + slot.numel <= chunkElements, `${slot.name} straddles`);
        assert.ok(slot.offset >= end);
        // A tensor only moves to a new chunk when it did not fit in the previous one.
        const aligned = Math.ceil(end / 64) * 64;
        if (slot.offset !== aligned) {
          assert.equal(slot.chunkOffset, 0);
          assert.ok(aligned + slot.numel > (slot.chunk) * chunkElements);
        }
        end = slot.offset + slot.numel;
      }
      assert.ok(layout.tensors.at(-1)!.chunk >= 1);
    }
  });

  await t.step("slot lookup and CPU tensor access", () => {
    const layout = parameterLayout(PRESETS.ci);
    assert.throws(() => layout.slot("model.layers.9.mlp.up_proj.weight"), /Cannot find tensor/);
    const flat = new Float32Array(layout.length);
    const values = Float32Array.from({ length: 32 * 88 }, (_, i) => i);
    writeTensor(flat, layout, "model.layers.1.mlp.down_proj.weight", values);
    assert.deepEqual(readTensor(flat, layout, "model.layers.1.mlp.down_proj.weight"), values);
    assert.throws(
      () => writeTensor(flat, layout, "model.norm.weight", new Float32Array(31)),
      TypeError,
    );
  });

  await t.step("GPU vector with one binding per tensor (chunked)", async () => {
    const gpu = await Gpu.create();
    try {
      const chunkElements = 12288;
      const layout = parameterLayout(PRESETS.ci, { chunkElements });
      const data = initParameters(layout, new RandomStream(3, "test/layout"));
      const params = createParameters(gpu, PRESETS.ci, { chunkElements, data });
      assert.deepEqual(params.layout.tensors, layout.tensors);
      assert.ok(params.vector.chunks.length > 1);
      const views = [...params.views.values()];
      assert.equal(views.length, layout.tensors.length);
      for (const view of views) {
        assert.equal(view.binding.offset % 256, 0);
        assert.equal(view.binding.size, view.numel * 4);
        assert.ok(view.binding.offset + view.binding.size <= view.binding.buffer.size);
      }
      // Read every tensor back through its own binding in one readback.
      const parts = await gpu.readMany(views.map((v) => v.binding));
      views.forEach((view, i) => {
        assert.deepEqual(
          new Float32Array(parts[i]!),
          data.subarray(view.offset, view.offset + view.numel),
          view.name,
        );
      });
      // Gradients share the layout.
      const grads = params.vector.like("grads");
      assert.equal(tensorViews(grads, layout).size, layout.tensors.length);
      // A vector chunked differently is refused.
      const other = GpuVector.create(gpu, layout.length, { chunkElements: 16384 });
      assert.throws(() => tensorViews(other, layout), /straddles chunks/);
      assert.throws(() => tensorViews(GpuVector.create(gpu, 8), layout), /length 8/);
      assert.throws(
        () => createParameters(gpu, PRESETS.ci, { data: new Float32Array(3) }),
        TypeError,
      );
      // Default chunking: the small model fits one chunk.
      assert.equal(createParameters(gpu, PRESETS.ci).vector.chunks.length, 1);
    } finally {
      gpu.destroy();
    }
  });
});
