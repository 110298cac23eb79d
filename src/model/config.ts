/**
 * The configuration of a LLaMA-style decoder (DESIGN.md §3 "Model") and its
 * Hugging Face `config.json` form.
 *
 * The field names follow `transformers.LlamaConfig`, so the configs of the
 * paper's models (paper.md §5: DataJuicer-1.3B, open_llama_3b, LLaMA-2-7B,
 * LLaMA-2-13B) read as they are published. Only what this toolkit's decoder
 * implements is accepted: SiLU-gated MLP, no biases, plain RoPE; anything
 * else is rejected with a message naming the field rather than silently
 * computing a different model.
 *
 * @module
 */

/** Shape and numerics of a LLaMA-style decoder. */
export interface ModelConfig {
  /** Width of the residual stream (`hidden_size`). */
  readonly hiddenSize: number;
  /** Decoder layers (`num_hidden_layers`). */
  readonly numLayers: number;
  /** Query heads (`num_attention_heads`); `hiddenSize / numHeads` is the head dimension. */
  readonly numHeads: number;
  /** Key/value heads (`num_key_value_heads`); fewer than `numHeads` means grouped-query attention. */
  readonly numKvHeads: number;
  /** Width of the SwiGLU MLP (`intermediate_size`). */
  readonly intermediateSize: number;
  /** Rows of the token embedding and the LM head (`vocab_size`). */
  readonly vocabSize: number;
  /** Longest sequence the positions are defined for (`max_position_embeddings`). */
  readonly maxPositions: number;
  /** RoPE base (`rope_theta`). */
  readonly ropeTheta: number;
  /** RMSNorm epsilon (`rms_norm_eps`). */
  readonly rmsNormEps: number;
  /** Whether the LM head re-uses the token embedding (`tie_word_embeddings`). */
  readonly tieEmbeddings: boolean;
  /** Biases on the q, k and v projections, as Qwen2 has them (`model_type` `qwen2`; default none). */
  readonly attentionBias?: boolean;
}

const INTEGER_FIELDS = [
  "hiddenSize",
  "numLayers",
  "numHeads",
  "numKvHeads",
  "intermediateSize",
  "vocabSize",
  "maxPositions",
] as const;

/** Our field name → the `config.json` field name (the attention bias follows the model type). */
const HF_NAMES: Readonly<Record<Exclude<keyof ModelConfig, "attentionBias">, string>> = {
  hiddenSize: "hidden_size",
  numLayers: "num_hidden_layers",
  numHeads: "num_attention_heads",
  numKvHeads: "num_key_value_heads",
  intermediateSize: "intermediate_size",
  vocabSize: "vocab_size",
  maxPositions: "max_position_embeddings",
  ropeTheta: "rope_theta",
  rmsNormEps: "rms_norm_eps",
  tieEmbeddings: "tie_word_embeddings",
};

/**
 * Checks a config and returns a frozen copy of exactly its fields.
 * `source` names where it came from in error messages.
 *
 * @example
 * ```ts
 * import { validateConfig } from "./config.ts";
 * try {
 *   validateConfig({
 *     hiddenSize: 30, numLayers: 1, numHeads: 4, numKvHeads: 4, intermediateSize: 64,
 *     vocabSize: 10, maxPositions: 16, ropeTheta: 10000, rmsNormEps: 1e-5, tieEmbeddings: false,
 *   });
 * } catch (error) {
 *   console.log((error as Error).message);
 *   // prints: Cannot use model config: hiddenSize 30 is not a multiple of numHeads 4
 * }
 * ```
 */
export function validateConfig(config: ModelConfig, source = "model config"): ModelConfig {
  return checkConfig(config, `use ${source}`);
}

/** {@linkcode validateConfig} with errors worded `Cannot <action>: …`. */
function checkConfig(config: ModelConfig, action: string): ModelConfig {
  const fail = (reason: string, type: "type" | "range" = "range"): never => {
    const message = `Cannot ${action}: ${reason}`;
    throw type === "type" ? new TypeError(message) : new RangeError(message);
  };
  if (typeof config !== "object" || config === null) fail(`expected an object, got ${config}`);
  for (const field of INTEGER_FIELDS) {
    const value = config[field] as unknown;
    if (typeof value !== "number") fail(`${field} must be a number, got ${String(value)}`, "type");
    if (!Number.isSafeInteger(value) || (value as number) <= 0) {
      fail(`${field} must be a positive integer, got ${value}`);
    }
  }
  for (const field of ["ropeTheta", "rmsNormEps"] as const) {
    const value = config[field] as unknown;
    if (typeof value !== "number") fail(`${field} must be a number, got ${String(value)}`, "type");
    if (!Number.isFinite(value) || (value as number) <= 0) {
      fail(`${field} must be a positive finite number, got ${value}`);
    }
  }
  if (typeof config.tieEmbeddings !== "boolean") {
    fail(`tieEmbeddings must be a boolean, got ${String(config.tieEmbeddings)}`, "type");
  }
  if (config.attentionBias !== undefined && typeof config.attentionBias !== "boolean") {
    fail(`attentionBias must be a boolean, got ${String(config.attentionBias)}`, "type");
  }
  if (config.hiddenSize % config.numHeads !== 0) {
    fail(`hiddenSize ${config.hiddenSize} is not a multiple of numHeads ${config.numHeads}`);
  }
  if (config.numHeads % config.numKvHeads !== 0) {
    fail(`numHeads ${config.numHeads} is not a multiple of numKvHeads ${config.numKvHeads}`);
  }
  const head = config.hiddenSize / config.numHeads;
  if (head % 2 !== 0) {
    fail(`the head dimension ${head} is odd (RoPE rotates pairs of coordinates)`);
  }
  return Object.freeze({
    hiddenSize: config.hiddenSize,
    numLayers: config.numLayers,
    numHeads: config.numHeads,
    numKvHeads: config.numKvHeads,
    intermediateSize: config.intermediateSize,
    vocabSize: config.vocabSize,
    maxPositions: config.maxPositions,
    ropeTheta: config.ropeTheta,
    rmsNormEps: config.rmsNormEps,
    tieEmbeddings: config.tieEmbeddings,
    ...(config.attentionBias ? { attentionBias: true } : {}),
  });
}

/**
 * The dimension of one attention head, `hiddenSize / numHeads`.
 *
 * @example
 * ```ts
 * import { headDim } from "./config.ts";
 * import { PRESETS } from "./presets.ts";
 * console.log(headDim(PRESETS["llama-2-7b"])); // 128
 * ```
 */
export function headDim(config: ModelConfig): number {
  return config.hiddenSize / config.numHeads;
}

/**
 * Number of trainable parameters (tied embeddings counted once), as
 * `sum(p.numel() for p in model.parameters())` counts them in PyTorch.
 *
 * Per layer: q and o are hidden², k and v are hidden × kvHeads·headDim, the
 * MLP is 3 × hidden × intermediate, plus two RMSNorm vectors; then the
 * embedding, the final norm and (untied) the LM head.
 *
 * @example
 * ```ts
 * import { parameterCount } from "./config.ts";
 * import { PRESETS } from "./presets.ts";
 * console.log(parameterCount(PRESETS["llama-2-7b"])); // 6738415616
 * ```
 */
export function parameterCount(config: ModelConfig): number {
  const c = validateConfig(config);
  const h = c.hiddenSize;
  const kv = c.numKvHeads * headDim(c);
  const perLayer = 2 * h * h + 2 * h * kv + 3 * h * c.intermediateSize + 2 * h;
  const embedding = c.vocabSize * h;
  return embedding + c.numLayers * perLayer + h + (c.tieEmbeddings ? 0 : embedding);
}

function hfDefaults(json: Record<string, unknown>): Record<string, unknown> {
  // transformers.LlamaConfig defaults for fields older configs omit.
  return {
    num_key_value_heads: json["num_attention_heads"],
    max_position_embeddings: 2048,
    rope_theta: 10000,
    rms_norm_eps: 1e-6,
    tie_word_embeddings: false,
  };
}

/**
 * Reads a parsed Hugging Face `config.json` (LLaMA family). Omitted optional
 * fields take `transformers.LlamaConfig`'s defaults (`num_key_value_heads` =
 * heads, `rope_theta` 10000, `rms_norm_eps` 1e-6, untied, 2048 positions).
 * Features the decoder does not implement (biases, RoPE scaling, another
 * activation) are rejected. `source` names the file in error messages.
 *
 * @example
 * ```ts
 * import { configFromHf } from "./config.ts";
 * const config = configFromHf({
 *   model_type: "llama", hidden_size: 64, num_hidden_layers: 2, num_attention_heads: 4,
 *   intermediate_size: 172, vocab_size: 100,
 * });
 * console.log(config.numKvHeads, config.ropeTheta, config.tieEmbeddings); // 4 10000 false
 * ```
 */
export function configFromHf(json: unknown, source = "config.json"): ModelConfig {
  if (typeof json !== "object" || json === null || Array.isArray(json)) {
    throw new TypeError(`Cannot read ${source}: expected a JSON object`);
  }
  const raw = json as Record<string, unknown>;
  const reject = (reason: string): never => {
    throw new RangeError(`Cannot read ${source}: ${reason}`);
  };
  const type = raw["model_type"];
  if (type !== undefined && type !== "llama" && type !== "qwen2") {
    reject(`model_type "${type}" is not supported (expected "llama" or "qwen2")`);
  }
  if (type === "qwen2" && raw["use_sliding_window"] === true) {
    reject("use_sliding_window is true, but this decoder attends to every earlier token");
  }
  const act = raw["hidden_act"];
  if (act !== undefined && act !== "silu") reject(`hidden_act "${act}" is not supported ("silu")`);
  for (const bias of ["attention_bias", "mlp_bias"]) {
    if (raw[bias] === true) reject(`${bias} is true, but this decoder has no biases`);
  }
  if (raw["rope_scaling"] !== undefined && raw["rope_scaling"] !== null) {
    reject(`rope_scaling ${JSON.stringify(raw["rope_scaling"])} is not supported`);
  }
  const defaults = hfDefaults(raw);
  const value = (field: keyof typeof HF_NAMES): unknown => {
    const name = HF_NAMES[field];
    const v = raw[name] ?? defaults[name];
    if (v === undefined) reject(`the field "${name}" is missing`);
    return v;
  };
  const config = {
    ...Object.fromEntries(
      (Object.keys(HF_NAMES) as (keyof typeof HF_NAMES)[]).map((field) => [field, value(field)]),
    ),
    ...(type === "qwen2" ? { attentionBias: true } : {}),
  } as unknown as ModelConfig;
  const validated = checkConfig(config, `read ${source}`);
  const declaredHead = raw["head_dim"];
  if (declaredHead !== undefined && declaredHead !== headDim(validated)) {
    reject(`head_dim ${declaredHead} differs from hidden_size / num_attention_heads`);
  }
  return validated;
}

/**
 * The Hugging Face `config.json` object for `config` (a `LlamaForCausalLM`,
 * float32). `extra` fields (e.g. `bos_token_id`) are merged in last.
 *
 * @example
 * ```ts
 * import { configToHf } from "./config.ts";
 * import { PRESETS } from "./presets.ts";
 * const json = configToHf(PRESETS.ci, { bos_token_id: 256, eos_token_id: 257 });
 * console.log(json.hidden_size, json.num_key_value_heads, json.bos_token_id); // 32 2 256
 * ```
 */
export function configToHf(
  config: ModelConfig,
  extra: Record<string, unknown> = {},
): Record<string, unknown> {
  const c = validateConfig(config);
  const fields = Object.fromEntries(
    (Object.keys(HF_NAMES) as (keyof typeof HF_NAMES)[]).map((f) => [HF_NAMES[f], c[f]]),
  );
  const qwen = c.attentionBias === true;
  return {
    architectures: [qwen ? "Qwen2ForCausalLM" : "LlamaForCausalLM"],
    model_type: qwen ? "qwen2" : "llama",
    ...(qwen ? { use_sliding_window: false } : {}),
    hidden_act: "silu",
    torch_dtype: "float32",
    ...fields,
    ...extra,
  };
}

/**
 * Whether two configs describe the same model (every field equal).
 *
 * @example
 * ```ts
 * import { sameConfig } from "./config.ts";
 * import { PRESETS } from "./presets.ts";
 * console.log(sameConfig(PRESETS.ci, { ...PRESETS.ci }), sameConfig(PRESETS.ci, PRESETS.default));
 * // prints: true false
 * ```
 */
export function sameConfig(a: ModelConfig, b: ModelConfig): boolean {
  return (Object.keys(HF_NAMES) as (keyof typeof HF_NAMES)[]).every((f) => a[f] === b[f]) &&
    (a.attentionBias ?? false) === (b.attentionBias ?? false);
}
