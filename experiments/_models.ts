/**
 * The models the federated experiments fine-tune, by the paper's names.
 *
 * At `paper` scale a model is the Hugging Face checkpoint in
 * `<model-dir>/<directory>` (paper.md §5). Below it, each paper model has a
 * **stand-in**: a tiny LLaMA-style config that the toolkit pre-trains itself
 * on the built-in pre-training corpus (src/pretrain/pretrain.ts) with the
 * suites' subword tokenizer; at default scale the result is committed under
 * `stand-ins/` (experiments/_stand_ins.ts). Fine-tuning thus starts from a
 * pre-trained model, as in the paper. The
 * stand-ins keep the paper's relations between columns: the second model of
 * a table is the larger one, and the LLaMA-3/Qwen stand-ins use grouped KV
 * heads and wider MLPs like the models they stand for.
 *
 * @module
 */

import type { CellContext } from "../src/experiment/define.ts";
import { parameterCount } from "../src/model/config.ts";
import { HfTokenizer } from "../src/model/hf_tokenizer.ts";
import type { AdapterOptions } from "../src/model/peft/adapter.ts";
import { PRESETS } from "../src/model/presets.ts";
import { loadTransformer } from "../src/model/pretrained.ts";
import type { Tokenizer } from "../src/model/tokenizer.ts";
import { Transformer } from "../src/model/transformer.ts";
import { pretrainedStandIn, type StandIn, standInStem, SUITE_TOKENIZERS } from "./_stand_ins.ts";

export type { StandIn } from "./_stand_ins.ts";

/** The paper's models (paper.md §5). */
export type PaperModel =
  | "datajuicer-1.3b"
  | "open_llama_3b"
  | "llama-2-7b"
  | "llama-2-13b"
  | "llama-3-8b"
  | "qwen2.5-7b";

/** Column labels as the paper prints them. */
export const MODEL_LABELS: Readonly<Record<PaperModel, string>> = {
  "datajuicer-1.3b": "DataJuicer-1.3B",
  "open_llama_3b": "LLaMA-3B",
  "llama-2-7b": "LLaMA2-7B",
  "llama-2-13b": "LLaMA2-13B",
  "llama-3-8b": "LLaMA3-8B",
  "qwen2.5-7b": "Qwen2.5-7B",
};

/** Checkpoint directory names under `--model-dir` at paper scale (the HF repository names). */
export const MODEL_DIRECTORIES: Readonly<Record<PaperModel, string>> = {
  "datajuicer-1.3b": "LLaMA-1B-dj-refine-150B",
  "open_llama_3b": "open_llama_3b",
  "llama-2-7b": "Llama-2-7b-hf",
  "llama-2-13b": "Llama-2-13b-hf",
  "llama-3-8b": "Meta-Llama-3-8B",
  "qwen2.5-7b": "Qwen2.5-7B",
};

const tiny = (
  name: string,
  hiddenSize: number,
  layers: number,
  heads: number,
  kvHeads: number,
  mlp: number,
): StandIn => ({
  name,
  config: {
    hiddenSize,
    numLayers: layers,
    numHeads: heads,
    numKvHeads: kvHeads,
    intermediateSize: mlp,
    vocabSize: SUITE_TOKENIZERS.default.vocabSize,
    maxPositions: 256,
    ropeTheta: 10000,
    rmsNormEps: 1e-5,
    tieEmbeddings: false,
  },
  // 1.02 M of the corpus's 1.22 M tokens (4 rows of 128 tokens per step).
  pretrainSteps: 2000,
});

/**
 * Default-scale stand-ins: head dimension 32 throughout; `tiny` ≈ 0.23 M
 * parameters (width 64, 2 layers), `small` (the larger model of a pair)
 * ≈ 1.07 M (width 128, 4 layers: at 2 layers the wider model reached no
 * lower a held-out loss than `tiny`, at 4 it does); `tiny-gqa` (LLaMA3-8B:
 * 2:1 grouped KV heads, MLP 3.5 × width) and `tiny-wide` (Qwen2.5-7B: MLP
 * 5.3 × width) share one KV head.
 */
const DEFAULT_STAND_INS: Readonly<Record<PaperModel, StandIn>> = {
  "datajuicer-1.3b": tiny("tiny", 64, 2, 2, 2, 176),
  "open_llama_3b": tiny("small", 128, 4, 4, 4, 352),
  "llama-2-7b": tiny("tiny", 64, 2, 2, 2, 176),
  "llama-2-13b": tiny("small", 128, 4, 4, 4, 352),
  "llama-3-8b": tiny("tiny-gqa", 64, 2, 2, 1, 224),
  "qwen2.5-7b": tiny("tiny-wide", 64, 2, 2, 1, 336),
};

/**
 * Smoke scale: the `ci` preset for every model (with room for the suites'
 * prompts and a few answer tokens), barely pre-trained: CI checks plumbing only.
 */
const SMOKE_STAND_IN: StandIn = {
  name: "ci",
  config: { ...PRESETS.ci, vocabSize: SUITE_TOKENIZERS.smoke.vocabSize, maxPositions: 256 },
  pretrainSteps: 10,
};

/**
 * The stand-in of `model` at a scale below `paper`.
 *
 * @example
 * ```ts
 * import { standIn } from "./_models.ts";
 * console.log(standIn("llama-2-13b", "default").config.hiddenSize); // 128
 * ```
 */
export function standIn(model: PaperModel, scale: "smoke" | "default"): StandIn {
  return scale === "smoke" ? SMOKE_STAND_IN : DEFAULT_STAND_INS[model];
}

/**
 * The distinct stand-ins of a scale, smallest first.
 *
 * @example
 * ```ts
 * import { standIns } from "./_models.ts";
 * console.log(standIns("default").map((s) => s.name)); // ["tiny", "tiny-gqa", "tiny-wide", "small"]
 * ```
 */
export function standIns(scale: "smoke" | "default"): StandIn[] {
  const models = Object.keys(MODEL_LABELS) as PaperModel[];
  const unique = new Map(models.map((m) => standIn(m, scale)).map((s) => [s.name, s]));
  return [...unique.values()].sort((a, b) => parameterCount(a.config) - parameterCount(b.config));
}

/** A loaded model with its tokenizer. */
export interface LoadedModel {
  /** The model at its pre-trained parameters. */
  readonly model: Transformer;
  /** Its tokenizer. */
  readonly tokenizer: Tokenizer;
}

/**
 * Longest sequence a pass takes at each scale: the code's `max_length` 1024
 * at paper scale; below it 128 tokens, which holds every built-in example
 * whole (the longest, a Dolly-like summarisation, is well under 100 subword
 * tokens with the compact template), so no reference answer is cut.
 */
export function maxTokens(scale: CellContext["scale"]): number {
  return scale === "paper" ? 1024 : 128;
}

/**
 * What a run's base model is, part of its identity (caches key on it): the
 * checkpoint directory at paper scale, else the stand-in's stem (its name
 * and a digest of its architecture, tokenizer and pre-training recipe).
 *
 * @example
 * ```ts
 * import { baseModelIdentity } from "./_models.ts";
 * console.log(baseModelIdentity("paper", "llama-2-7b")); // Llama-2-7b-hf
 * console.log(baseModelIdentity("default", "llama-2-7b").startsWith("tiny-")); // true
 * ```
 */
export function baseModelIdentity(scale: CellContext["scale"], model: PaperModel): string {
  return scale === "paper" ? MODEL_DIRECTORIES[model] : standInStem(standIn(model, scale), scale);
}

/**
 * Prepares `model` for a cell — reads the checkpoint's tokenizer at paper
 * scale, else makes or reads its pre-trained stand-in — and returns what
 * creates it on the GPU. Preparation comes first so that the GPU memory a
 * run measures excludes pre-training. `adapter` attaches a PEFT adapter
 * (the model then trains the adapter).
 */
export async function prepareModel(
  context: CellContext,
  model: PaperModel,
): Promise<{ create(adapter?: AdapterOptions): Promise<LoadedModel> }> {
  const gpu = await context.gpu();
  const options = (adapter?: AdapterOptions) => ({
    maxTokens: maxTokens(context.scale),
    ...(adapter ? { adapter } : {}),
  });
  if (context.scale === "paper") {
    const dir = `${context.resources.modelDir}/${MODEL_DIRECTORIES[model]}`;
    const tokenizer = await HfTokenizer.load(dir);
    return {
      create: async (adapter) => ({
        model: await loadTransformer(gpu, dir, options(adapter)),
        tokenizer,
      }),
    };
  }
  const base = standIn(model, context.scale);
  const { parameters, tokenizer } = await pretrainedStandIn(context, base, context.scale);
  return {
    create: async (adapter) => ({
      model: await Transformer.create(gpu, base.config, { ...options(adapter), parameters }),
      tokenizer,
    }),
  };
}
