/**
 * Named model configs: two small ones this toolkit trains itself, and the
 * shapes of the paper's models (paper.md §5) for shape-only use — parameter
 * counts, layouts, Ferret's block grouping (paper.md §7 item 3), cost
 * formulas. Real runs read the config from the checkpoint's `config.json`.
 *
 * @module
 */

import { type ModelConfig, validateConfig } from "./config.ts";

/** The names of {@linkcode PRESETS}. */
export type PresetName =
  | "ci"
  | "default"
  | "datajuicer-1.3b"
  | "open_llama_3b"
  | "llama-2-7b"
  | "llama-2-13b";

/**
 * `ci`: the smallest model that still exercises every code path — several
 * heads, grouped KV heads (4 query heads share 2 KV heads), two layers (so
 * the residual path between layers is tested), an MLP width that is not a
 * power of two (88 = ⌈8/3 · 32⌉ rounded to 8, the LLaMA rule) and the
 * 259-token byte vocabulary, an awkward size for kernels. 39 776 parameters:
 * finite-difference gradient checks over every parameter stay cheap.
 */
const CI: ModelConfig = {
  hiddenSize: 32,
  numLayers: 2,
  numHeads: 4,
  numKvHeads: 2,
  intermediateSize: 88,
  vocabSize: 259,
  maxPositions: 64,
  ropeTheta: 10000,
  rmsNormEps: 1e-5,
  tieEmbeddings: false,
};

/**
 * `default`: the model the built-in experiments pre-train and fine-tune on a
 * 2-core CPU in minutes (DESIGN.md §1).
 *
 * - Width 256 with 8 heads gives head dimension 32, a multiple of the
 *   8-wide subgroups and 4-wide vectors the matmul kernels use.
 * - MLP 688 = 8/3 · 256 rounded up to a multiple of 16 (the LLaMA ratio).
 * - 4 layers and 256 positions (long enough for the built-in prompts and
 *   answers in bytes).
 * - ≈ 3.3 M parameters, so one training token costs ≈ 6 · 3.3 M ≈ 20 MFLOP
 *   (+ attention, ≈ 12 · layers · width · context ≈ 3 MFLOP at 256).
 *   Matmul on llvmpipe runs at ≈ 15 GFLOP/s (portable) to 45 GFLOP/s
 *   (subgroups), i.e. ≈ 650–2000 training tokens per second before
 *   overheads; pre-training on ~10⁶ tokens and a federated run of a few
 *   hundred local steps of ~100 tokens per client then take minutes.
 * - Full multi-head attention and untied embeddings, like all four paper
 *   models. The whole vector is 13 MB, far below one storage binding, so
 *   federated clients can each hold copies.
 */
const DEFAULT: ModelConfig = {
  hiddenSize: 256,
  numLayers: 4,
  numHeads: 8,
  numKvHeads: 8,
  intermediateSize: 688,
  vocabSize: 259,
  maxPositions: 256,
  ropeTheta: 10000,
  rmsNormEps: 1e-5,
  tieEmbeddings: false,
};

/**
 * `datajuicer-1.3b`: `datajuicer/LLaMA-1B-dj-refine-150B` as far as the
 * accessible sources pin it down (paper.md §7 item 3): 24 layers, width
 * 2048, untied embeddings, which reproduces L = 194. The head count (16)
 * and MLP width (5504) are the usual ones for a 2048-wide LLaMA of this
 * size and are assumptions; neither changes L. ≈ 1.35 × 10⁹ parameters.
 */
const DATAJUICER_1_3B: ModelConfig = {
  hiddenSize: 2048,
  numLayers: 24,
  numHeads: 16,
  numKvHeads: 16,
  intermediateSize: 5504,
  vocabSize: 32000,
  maxPositions: 2048,
  ropeTheta: 10000,
  rmsNormEps: 1e-6,
  tieEmbeddings: false,
};

/** `open_llama_3b` (`openlm-research/open_llama_3b`, "LLaMA-3B"): ≈ 3.43 × 10⁹ parameters. */
const OPEN_LLAMA_3B: ModelConfig = {
  hiddenSize: 3200,
  numLayers: 26,
  numHeads: 32,
  numKvHeads: 32,
  intermediateSize: 8640,
  vocabSize: 32000,
  maxPositions: 2048,
  ropeTheta: 10000,
  rmsNormEps: 1e-6,
  tieEmbeddings: false,
};

/** `llama-2-7b` (`meta-llama/Llama-2-7b-hf`): ≈ 6.74 × 10⁹ parameters. */
const LLAMA_2_7B: ModelConfig = {
  hiddenSize: 4096,
  numLayers: 32,
  numHeads: 32,
  numKvHeads: 32,
  intermediateSize: 11008,
  vocabSize: 32000,
  maxPositions: 4096,
  ropeTheta: 10000,
  rmsNormEps: 1e-5,
  tieEmbeddings: false,
};

/** `llama-2-13b` (`meta-llama/Llama-2-13b-hf`): ≈ 13.0 × 10⁹ parameters. */
const LLAMA_2_13B: ModelConfig = {
  hiddenSize: 5120,
  numLayers: 40,
  numHeads: 40,
  numKvHeads: 40,
  intermediateSize: 13824,
  vocabSize: 32000,
  maxPositions: 4096,
  ropeTheta: 10000,
  rmsNormEps: 1e-5,
  tieEmbeddings: false,
};

/**
 * Every preset by name (frozen). `ci` and `default` are trained by the
 * toolkit; the other four are the paper's models' shapes (paper.md §5).
 *
 * @example
 * ```ts
 * import { PRESETS } from "./presets.ts";
 * import { parameterCount } from "./config.ts";
 * console.log(PRESETS.default.hiddenSize, parameterCount(PRESETS.default)); // 256 3297024
 * ```
 */
export const PRESETS: Readonly<Record<PresetName, ModelConfig>> = Object.freeze({
  "ci": validateConfig(CI, "preset ci"),
  "default": validateConfig(DEFAULT, "preset default"),
  "datajuicer-1.3b": validateConfig(DATAJUICER_1_3B, "preset datajuicer-1.3b"),
  "open_llama_3b": validateConfig(OPEN_LLAMA_3B, "preset open_llama_3b"),
  "llama-2-7b": validateConfig(LLAMA_2_7B, "preset llama-2-7b"),
  "llama-2-13b": validateConfig(LLAMA_2_13B, "preset llama-2-13b"),
});

/**
 * The preset called `name`, with a clear error for an unknown name.
 *
 * @example
 * ```ts
 * import { preset } from "./presets.ts";
 * console.log(preset("open_llama_3b").numLayers); // 26
 * ```
 */
export function preset(name: string): ModelConfig {
  if (!Object.hasOwn(PRESETS, name)) {
    throw new RangeError(
      `Cannot find model preset "${name}": expected one of ${Object.keys(PRESETS).join(", ")}`,
    );
  }
  return PRESETS[name as PresetName];
}
