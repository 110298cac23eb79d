import assert from "node:assert/strict";
import { type ModelConfig, PRESETS } from "../../mod.ts";
import {
  configFromHf,
  configToHf,
  headDim,
  parameterCount,
  preset,
  sameConfig,
  validateConfig,
} from "../../engine.ts";

/** Parameter count by walking the modules one by one (independent of the closed form). */
function countByModules(c: ModelConfig): number {
  const h = c.hiddenSize, d = h / c.numHeads, kv = c.numKvHeads * d;
  let n = c.vocabSize * h; // embed_tokens
  for (let i = 0; i < c.numLayers; i++) {
    n += h * h; // q
    n += kv * h; // k
    n += kv * h; // v
    n += h * h; // o
    n += c.intermediateSize * h * 3; // gate, up, down
    n += h + h; // two norms
  }
  n += h; // final norm
  if (!c.tieEmbeddings) n += c.vocabSize * h;
  return n;
}

Deno.test("model config", async (t) => {
  await t.step("parameter counts of the paper's models", () => {
    // Published sizes: open_llama_3b 3.43e9, LLaMA-2-7B 6.74e9, LLaMA-2-13B 13.0e9 (13.016e9).
    const within = (name: string, expected: number, rel: number) => {
      const n = parameterCount(preset(name));
      assert.ok(Math.abs(n - expected) / expected < rel, `${name}: ${n} vs ${expected}`);
    };
    within("open_llama_3b", 3.43e9, 0.005);
    within("llama-2-7b", 6.74e9, 0.001);
    within("llama-2-13b", 13.0e9, 0.002);
    within("datajuicer-1.3b", 1.3e9, 0.05);
    // The exact HF figure for Llama-2-7b-hf.
    assert.equal(parameterCount(PRESETS["llama-2-7b"]), 6_738_415_616);
    for (const [name, config] of Object.entries(PRESETS)) {
      assert.equal(parameterCount(config), countByModules(config), name);
    }
  });

  await t.step("presets are consistent", () => {
    assert.equal(headDim(PRESETS.ci), 8);
    assert.equal(PRESETS.ci.numHeads / PRESETS.ci.numKvHeads, 2, "ci exercises grouped KV heads");
    assert.equal(PRESETS.ci.vocabSize, 259);
    assert.equal(PRESETS.default.vocabSize, 259);
    assert.ok(parameterCount(PRESETS.ci) < 50_000);
    assert.ok(parameterCount(PRESETS.default) < 5_000_000);
    assert.ok(Object.isFrozen(PRESETS.ci));
    assert.throws(() => preset("gpt2"), /Cannot find model preset "gpt2": expected one of ci/);
  });

  await t.step("HF config.json round trip", () => {
    for (const config of Object.values(PRESETS)) {
      const json = JSON.parse(JSON.stringify(configToHf(config)));
      assert.equal(json.model_type, "llama");
      assert.deepEqual(json.architectures, ["LlamaForCausalLM"]);
      assert.ok(sameConfig(configFromHf(json), config));
    }
    const extra = configToHf(PRESETS.ci, { bos_token_id: 256 });
    assert.equal(extra.bos_token_id, 256);
  });

  await t.step("reads a published LLaMA-2 config.json", () => {
    const published = {
      architectures: ["LlamaForCausalLM"],
      bos_token_id: 1,
      eos_token_id: 2,
      hidden_act: "silu",
      hidden_size: 4096,
      initializer_range: 0.02,
      intermediate_size: 11008,
      max_position_embeddings: 4096,
      model_type: "llama",
      num_attention_heads: 32,
      num_hidden_layers: 32,
      num_key_value_heads: 32,
      pretraining_tp: 1,
      rms_norm_eps: 1e-05,
      rope_scaling: null,
      tie_word_embeddings: false,
      torch_dtype: "float16",
      transformers_version: "4.31.0.dev0",
      use_cache: true,
      vocab_size: 32000,
    };
    assert.ok(sameConfig(configFromHf(published), PRESETS["llama-2-7b"]));
  });

  await t.step("HF defaults for omitted fields", () => {
    const c = configFromHf({
      hidden_size: 64,
      num_hidden_layers: 1,
      num_attention_heads: 4,
      intermediate_size: 100,
      vocab_size: 50,
    });
    assert.equal(c.numKvHeads, 4);
    assert.equal(c.maxPositions, 2048);
    assert.equal(c.ropeTheta, 10000);
    assert.equal(c.rmsNormEps, 1e-6);
    assert.equal(c.tieEmbeddings, false);
  });

  await t.step("clear errors", () => {
    const base = configToHf(PRESETS.ci);
    assert.throws(
      () => configFromHf({ ...base, hidden_size: undefined }),
      {
        name: "RangeError",
        message: 'Cannot read config.json: the field "hidden_size" is missing',
      },
    );
    assert.throws(
      () => configFromHf({ ...base, model_type: "gpt2" }, "D/config.json"),
      /Cannot read D\/config.json: model_type "gpt2" is not supported/,
    );
    assert.throws(() => configFromHf({ ...base, attention_bias: true }), /attention_bias is true/);
    assert.throws(() => configFromHf({ ...base, hidden_act: "gelu" }), /hidden_act "gelu"/);
    assert.throws(
      () => configFromHf({ ...base, rope_scaling: { type: "linear", factor: 2 } }),
      /rope_scaling/,
    );
    assert.throws(() => configFromHf({ ...base, head_dim: 16 }), /head_dim 16 differs/);
    assert.throws(() => configFromHf([1, 2]), TypeError);
    assert.throws(
      () => configFromHf({ ...base, num_key_value_heads: 3 }),
      {
        name: "RangeError",
        message: "Cannot read config.json: numHeads 4 is not a multiple of numKvHeads 3",
      },
    );
    assert.throws(
      () => validateConfig({ ...PRESETS.ci, hiddenSize: 1.5 }),
      {
        name: "RangeError",
        message: "Cannot use model config: hiddenSize must be a positive integer, got 1.5",
      },
    );
    assert.throws(
      () => validateConfig({ ...PRESETS.ci, vocabSize: "259" as unknown as number }),
      TypeError,
    );
    assert.throws(() => validateConfig({ ...PRESETS.ci, rmsNormEps: 0 }), /rmsNormEps/);
    assert.throws(() => validateConfig({ ...PRESETS.ci, ropeTheta: Infinity }), /ropeTheta/);
    assert.throws(
      () => validateConfig({ ...PRESETS.ci, tieEmbeddings: 1 as unknown as boolean }),
      TypeError,
    );
    assert.throws(
      () => validateConfig({ ...PRESETS.ci, hiddenSize: 36, numHeads: 4 }),
      /head dimension 9 is odd/,
    );
  });
});
