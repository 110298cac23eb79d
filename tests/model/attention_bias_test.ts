/**
 * q/k/v projection biases (Qwen2, paper.md §5.2 Table 9): the kernels
 * against their references, the model's loss and every gradient against the
 * double-precision reference and finite differences, and a checkpoint in
 * Qwen2.5's layout, written here, loading and giving the loss its math gives.
 */
import assert from "node:assert/strict";
import { Gpu } from "../../src/gpu/gpu.ts";
import { configFromHf, configToHf, type ModelConfig } from "../../src/model/config.ts";
import { parameterLayout } from "../../src/model/layout.ts";
import {
  biasAdd,
  biasAddReference,
  biasGrad,
  biasGradReference,
} from "../../src/model/ops/bias.ts";
import { PRESETS } from "../../src/model/presets.ts";
import { loadTransformer } from "../../src/model/pretrained.ts";
import { writeSafetensors } from "../../src/model/safetensors.ts";
import { Transformer } from "../../src/model/transformer.ts";
import { RandomStream } from "../../src/random/stream.ts";
import { randomSequence, scaledParameters } from "./_fixtures.ts";
import { referenceLoss } from "./_reference_model.ts";

const config: ModelConfig = { ...PRESETS.ci, attentionBias: true };

Deno.test("bias kernels match their references on awkward sizes", async () => {
  const gpu = await Gpu.create();
  try {
    const stream = new RandomStream(3, "tests/model/bias");
    for (const [T, C] of [[1, 4], [7, 12], [33, 64]] as const) {
      const y = Float32Array.from({ length: T * C }, () => stream.normal());
      const b = Float32Array.from({ length: C }, () => stream.normal());
      const yBuffer = gpu.upload(y);
      await biasAdd(gpu, { y: yBuffer, b: gpu.upload(b) }, { T, C });
      const got = new Float32Array(await gpu.read(yBuffer));
      const want = biasAddReference(y, b, C);
      got.forEach((v, i) => assert.ok(Math.abs(v - want[i]!) < 1e-6, `add ${T}×${C} [${i}]`));
      const db = gpu.upload(b);
      await biasGrad(gpu, { db, dy: gpu.upload(y) }, { T, C });
      const sums = new Float32Array(await gpu.read(db));
      const expected = biasGradReference(y, b, C);
      sums.forEach((v, i) =>
        assert.ok(Math.abs(v - expected[i]!) < 1e-5 * (1 + T), `grad ${T}×${C} [${i}]`)
      );
    }
    await assert.rejects(
      () => biasAdd(gpu, { y: gpu.buffer(24), b: gpu.buffer(12) }, { T: 2, C: 3 }),
      /multiple of 4/,
    );
  } finally {
    gpu.destroy();
  }
});

Deno.test("a model with q/k/v biases: loss and every gradient against the reference", async () => {
  const gpu = await Gpu.create();
  try {
    const layout = parameterLayout(config);
    const names = layout.tensors.map((t) => t.name);
    assert.deepEqual(names.slice(1, 7), [
      "model.layers.0.self_attn.q_proj.weight",
      "model.layers.0.self_attn.q_proj.bias",
      "model.layers.0.self_attn.k_proj.weight",
      "model.layers.0.self_attn.k_proj.bias",
      "model.layers.0.self_attn.v_proj.weight",
      "model.layers.0.self_attn.v_proj.bias",
    ]);
    const fresh = await Transformer.create(gpu, config, { maxTokens: 16 });
    const zero = await fresh.params.vector.read();
    const bias = layout.slot("model.layers.1.self_attn.k_proj.bias");
    assert.ok(zero.subarray(bias.offset, bias.offset + bias.numel).every((v) => v === 0));
    const model = await Transformer.create(gpu, config, {
      maxTokens: 16,
      parameters: scaledParameters(layout),
    });
    const stream = new RandomStream(4, "tests/model/bias/sequences");
    const batch = [randomSequence(stream, 9, config.vocabSize), randomSequence(stream, 5, 259)];
    const theta = Float64Array.from(await model.params.vector.read());
    const loss = (th: Float64Array) =>
      batch.reduce((sum, s) => sum + referenceLoss(config, layout, th, s), 0) / batch.length;
    const got = await model.lossAndGrad(batch);
    const want = loss(theta);
    assert.ok(Math.abs(got - want) < 2e-4 * Math.abs(want), `loss ${got} vs ${want}`);
    // Without its biases the same parameters give another loss (the biases are used).
    const unbiased = referenceLoss(PRESETS.ci, parameterLayout(PRESETS.ci), theta, batch[0]!);
    assert.ok(Math.abs(unbiased - referenceLoss(config, layout, theta, batch[0]!)) > 1e-3);
    const grads = await model.grads.vector.read();
    const failures: string[] = [];
    for (const slot of layout.tensors.filter((t) => t.kind === "bias" || t.layer === 0)) {
      const g = grads.subarray(slot.offset, slot.offset + slot.numel);
      const scale = Math.max(...Array.from(g, Math.abs));
      assert.ok(scale > 1e-6, `${slot.name}: zero gradient`);
      for (const i of [0, stream.int(slot.numel), slot.numel - 1]) {
        const j = slot.offset + i;
        const saved = theta[j]!;
        theta[j] = saved + 1e-5;
        const up = loss(theta);
        theta[j] = saved - 1e-5;
        const down = loss(theta);
        theta[j] = saved;
        const numeric = (up - down) / 2e-5;
        if (Math.abs(g[i]! - numeric) > 1e-3 * scale + 1e-6) {
          failures.push(`${slot.name}[${i}]: ${g[i]} vs ${numeric}`);
        }
      }
    }
    assert.deepEqual(failures, []);
  } finally {
    gpu.destroy();
  }
});

Deno.test("a checkpoint in Qwen2.5's layout loads and gives the loss its math gives", async () => {
  const gpu = await Gpu.create();
  const dir = await Deno.makeTempDir();
  try {
    // Qwen2.5's config.json fields, at the ci model's size.
    const json = {
      architectures: ["Qwen2ForCausalLM"],
      model_type: "qwen2",
      hidden_act: "silu",
      hidden_size: 32,
      intermediate_size: 88,
      num_hidden_layers: 2,
      num_attention_heads: 4,
      num_key_value_heads: 2,
      vocab_size: 259,
      max_position_embeddings: 64,
      rope_theta: 1000000.0,
      rms_norm_eps: 1e-6,
      tie_word_embeddings: false,
      use_sliding_window: false,
      sliding_window: 131072,
      max_window_layers: 28,
      torch_dtype: "bfloat16",
    };
    const qwen = configFromHf(json);
    assert.equal(qwen.attentionBias, true);
    assert.equal(configToHf(qwen).model_type, "qwen2");
    assert.throws(() => configFromHf({ ...json, use_sliding_window: true }), /sliding/);
    // The tensors by their Hugging Face names and shapes, in an order of the test's own.
    const stream = new RandomStream(6, "tests/model/qwen-checkpoint");
    const shapes: [string, number[]][] = [["model.embed_tokens.weight", [259, 32]]];
    for (let l = 0; l < 2; l++) {
      const p = `model.layers.${l}`;
      shapes.push(
        [`${p}.self_attn.q_proj.weight`, [32, 32]],
        [`${p}.self_attn.q_proj.bias`, [32]],
        [`${p}.self_attn.k_proj.weight`, [16, 32]],
        [`${p}.self_attn.k_proj.bias`, [16]],
        [`${p}.self_attn.v_proj.weight`, [16, 32]],
        [`${p}.self_attn.v_proj.bias`, [16]],
        [`${p}.self_attn.o_proj.weight`, [32, 32]],
        [`${p}.mlp.gate_proj.weight`, [88, 32]],
        [`${p}.mlp.up_proj.weight`, [88, 32]],
        [`${p}.mlp.down_proj.weight`, [32, 88]],
        [`${p}.input_layernorm.weight`, [32]],
        [`${p}.post_attention_layernorm.weight`, [32]],
      );
    }
    shapes.push(["model.norm.weight", [32]], ["lm_head.weight", [259, 32]]);
    const tensors = new Map(shapes.map(([name, shape]) => {
      const n = shape.reduce((a, b) => a * b, 1);
      const norm = name.endsWith("layernorm.weight") || name === "model.norm.weight";
      const data = Float32Array.from({ length: n }, () => (norm ? 1 : 0) + 0.3 * stream.normal());
      return [name, { shape, data }] as const;
    }));
    await Deno.writeTextFile(`${dir}/config.json`, JSON.stringify(json));
    await Deno.writeFile(`${dir}/model.safetensors`, writeSafetensors([...tensors].reverse()));
    const model = await loadTransformer(gpu, dir, { maxTokens: 16 });
    const layout = model.params.layout;
    const theta = new Float64Array(layout.length);
    for (const [name, tensor] of tensors) theta.set(tensor.data, layout.slot(name).offset);
    const sequence = randomSequence(stream, 12, 259);
    const got = await model.loss([sequence]);
    const want = referenceLoss(qwen, layout, theta, sequence);
    assert.ok(Math.abs(got - want) < 2e-4 * Math.abs(want), `${got} vs ${want}`);
  } finally {
    await Deno.remove(dir, { recursive: true });
    gpu.destroy();
  }
});
