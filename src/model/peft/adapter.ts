/**
 * The trainable subsets of the PEFT baselines (paper.md §6): LoRA (FedIT,
 * FedIT-SGD), soft prompts (FedPrompt) and P-tuning prefixes (FedPTuning).
 * Each adapter owns its parameter and gradient vectors, laid out like the
 * model's (a `ParameterLayout` with named views), so an algorithm trains
 * and communicates only that vector while the model's weights stay frozen.
 *
 * @module
 */

import type { Gpu } from "../../gpu/gpu.ts";
import type { ModelConfig } from "../config.ts";
import type { TensorView } from "../layout.ts";
import { LoraAdapter, type LoraOptions } from "./lora.ts";
import { PrefixAdapter, type PrefixOptions } from "./prefix.ts";
import { PromptAdapter, type PromptOptions } from "./prompt.ts";

export type { AdapterModels } from "./_layout.ts";

/** An adapter attached to a model. */
export type Adapter = LoraAdapter | PromptAdapter | PrefixAdapter;

/** What to attach: the adapter's kind and its options. */
export type AdapterOptions =
  | ({ kind: "lora" } & LoraOptions)
  | ({ kind: "prompt" } & PromptOptions)
  | ({ kind: "prefix" } & PrefixOptions);

/**
 * Which parameters a gradient step computes gradients for: `full` the
 * model's own (any adapter stays fixed but still acts), or the attached
 * adapter's alone, the model frozen.
 */
export type TrainMode = "full" | Adapter["kind"];

/**
 * The train modes.
 *
 * @example
 * ```ts
 * import { TRAIN_MODES } from "./adapter.ts";
 * console.log(TRAIN_MODES.join(" ")); // full lora prompt prefix
 * ```
 */
export const TRAIN_MODES: readonly TrainMode[] = ["full", "lora", "prompt", "prefix"];

/**
 * Allocates the adapter `options` describes for a model of `config` whose
 * passes take up to `rows` rows (virtual tokens included); `embedding` is
 * the model's token embedding view (for prompts initialised from ids).
 */
export function createAdapter(
  gpu: Gpu,
  config: ModelConfig,
  rows: number,
  options: AdapterOptions,
  embedding?: TensorView,
): Adapter {
  switch (options.kind) {
    case "lora":
      return new LoraAdapter(gpu, config, rows, options);
    case "prompt":
      return new PromptAdapter(gpu, config, options, embedding);
    case "prefix":
      return new PrefixAdapter(gpu, config, rows, options);
    default:
      throw new TypeError(
        `Cannot create an adapter of kind "${(options as { kind: unknown }).kind}": ` +
          "expected lora, prompt or prefix",
      );
  }
}

/**
 * Virtual tokens `options` adds before every sequence's rows in the
 * activations (a soft prompt's n), and rows it adds before them in the KV
 * cache only (a prefix's n).
 */
export function adapterRows(options: AdapterOptions | undefined): { input: number; cache: number } {
  if (options?.kind === "prompt") return { input: options.tokens, cache: 0 };
  if (options?.kind === "prefix") return { input: 0, cache: options.tokens };
  return { input: 0, cache: 0 };
}
