/**
 * The models the federated experiments fine-tune, by the paper's names.
 *
 * At `paper` scale a model is the Hugging Face checkpoint in
 * `<model-dir>/<directory>` (paper.md §5). Below it, each paper model has a
 * **stand-in**: a tiny LLaMA-style config that the toolkit pre-trains itself
 * on the built-in pre-training corpus (src/pretrain/pretrain.ts) the first time
 * it is needed, and caches as the artifact `base/<scale>/<name>-<steps>`.
 * Fine-tuning thus starts from a pre-trained model, as in the paper. The
 * stand-ins keep the paper's relations between columns: the second model of
 * a table is the larger one, and the LLaMA-3/Qwen stand-ins use grouped KV
 * heads and wider MLPs like the models they stand for.
 *
 * @module
 */

import type { CellContext } from "../src/experiment/define.ts";
import { type ModelConfig, parameterCount } from "../src/model/config.ts";
import { HfTokenizer } from "../src/model/hf_tokenizer.ts";
import type { AdapterOptions } from "../src/model/peft/adapter.ts";
import { PRESETS } from "../src/model/presets.ts";
import { pretrain, pretrainCorpus } from "../src/pretrain/pretrain.ts";
import { loadTransformer } from "../src/model/pretrained.ts";
import { ByteTokenizer, type Tokenizer } from "../src/model/tokenizer.ts";
import { Transformer } from "../src/model/transformer.ts";

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

/** A tiny model the toolkit pre-trains itself. */
export interface StandIn {
  /** Artifact name stem. */
  readonly name: string;
  /** Architecture. */
  readonly config: ModelConfig;
  /** AdamW pre-training steps of 4 rows × 128 tokens. */
  readonly pretrainSteps: number;
}

const tiny = (
  name: string,
  hiddenSize: number,
  heads: number,
  kvHeads: number,
  mlp: number,
): StandIn => ({
  name,
  config: {
    hiddenSize,
    numLayers: 2,
    numHeads: heads,
    numKvHeads: kvHeads,
    intermediateSize: mlp,
    vocabSize: 259,
    maxPositions: 256,
    ropeTheta: 10000,
    rmsNormEps: 1e-5,
    tieEmbeddings: false,
  },
  pretrainSteps: 300,
});

/**
 * Default-scale stand-ins: head dimension 32 throughout; `tiny` ≈ 0.13 M
 * parameters, `small` (the larger model of a pair) ≈ 0.46 M; `tiny-gqa`
 * (LLaMA3-8B: 4:1 grouped KV heads, MLP 3.5 × width) and `tiny-wide`
 * (Qwen2.5-7B: 7:1 grouped KV heads, MLP 5.3 × width) share one KV head.
 */
const DEFAULT_STAND_INS: Readonly<Record<PaperModel, StandIn>> = {
  "datajuicer-1.3b": tiny("tiny", 64, 2, 2, 176),
  "open_llama_3b": tiny("small", 128, 4, 4, 352),
  "llama-2-7b": tiny("tiny", 64, 2, 2, 176),
  "llama-2-13b": tiny("small", 128, 4, 4, 352),
  "llama-3-8b": tiny("tiny-gqa", 64, 2, 1, 224),
  "qwen2.5-7b": tiny("tiny-wide", 64, 2, 1, 336),
};

/**
 * Smoke scale: the `ci` preset for every model (with room for the suites'
 * prompts and a few answer tokens), barely pre-trained: CI checks plumbing only.
 */
const SMOKE_STAND_IN: StandIn = {
  name: "ci",
  config: { ...PRESETS.ci, maxPositions: 256 },
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
 * at paper scale; below it 192 bytes, which holds every built-in example
 * whole (the longest, a Dolly-like summarisation, is 176 bytes with the
 * compact template), so no reference answer is cut.
 */
export function maxTokens(scale: CellContext["scale"]): number {
  return scale === "paper" ? 1024 : 192;
}

/** What pre-training a stand-in reported: the loss curve and how long it took. */
export interface PretrainReport {
  /** Parameters of the stand-in. */
  readonly parameters: number;
  /** [step, mean loss] pairs read back every 25 steps. */
  readonly losses: readonly (readonly [number, number])[];
  /** Wall seconds of pre-training. */
  readonly seconds: number;
}

/**
 * Pre-trains a stand-in, or reads it back: `base/<scale>/<name>-<steps>.f32`
 * (the parameters in the layout's order) and `.json` (its
 * {@linkcode PretrainReport}) in the artifact store. Both are made together
 * the first time any experiment needs the model (`deno task reproduce
 * pretrain` makes them all up front).
 */
export async function pretrainedStandIn(
  context: CellContext,
  base: StandIn,
  scale: "smoke" | "default",
): Promise<{ parameters: Float32Array; report: PretrainReport }> {
  const stem = `base/${scale}/${base.name}-${base.pretrainSteps}`;
  const report = await context.artifact(`${stem}.json`, async () => {
    const gpu = await context.gpu();
    const rowTokens = scale === "smoke" ? 32 : 128;
    const model = await Transformer.create(gpu, base.config, { maxTokens: rowTokens, seed: 0 });
    const rows = pretrainCorpus(new ByteTokenizer(), { scale, rowTokens });
    const t0 = performance.now();
    const losses = await pretrain(model, rows, {
      steps: base.pretrainSteps,
      rowsPerStep: 4,
      lr: 3e-3,
      seed: 0,
      reportEvery: 25,
      onStep: (step, loss) => context.progress({ fraction: step / base.pretrainSteps, loss }),
    });
    const seconds = (performance.now() - t0) / 1000;
    const values = await model.params.vector.read();
    await context.artifact(
      `${stem}.f32`,
      () => Promise.resolve(new Uint8Array(values.buffer, values.byteOffset, values.byteLength)),
    );
    const made: PretrainReport = { parameters: values.length, losses, seconds };
    return new TextEncoder().encode(JSON.stringify(made) + "\n");
  });
  const bytes = await context.artifact(`${stem}.f32`, () => {
    throw new Error(
      `Cannot find ${stem}.f32 beside its report: delete ${stem}.json to pre-train again`,
    );
  });
  return {
    parameters: new Float32Array(bytes.slice().buffer),
    report: JSON.parse(new TextDecoder().decode(report)),
  };
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
  const { parameters } = await pretrainedStandIn(context, base, context.scale);
  return {
    create: async (adapter) => ({
      model: await Transformer.create(gpu, base.config, { ...options(adapter), parameters }),
      tokenizer: new ByteTokenizer(),
    }),
  };
}
