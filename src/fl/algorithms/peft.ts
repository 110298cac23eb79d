/**
 * The PEFT baselines of the paper's tables (paper.md §6; numbers the paper
 * copies from FedKSeed): FedAvg's aggregation applied to an adapter's
 * vector while the base model stays frozen. Each trains, sends and averages
 * only its adapter's parameters, so the ledger counts those scalars alone.
 *
 * - **FedIT** (Zhang et al., ICASSP 2024): LoRA trained with Adam; the
 *   server averages the A and B matrices.
 * - **FedIT-SGD**: the same with SGD.
 * - **FedPrompt** (Zhao et al. 2023): soft prompts.
 * - **FedPTuning** (Kuang et al., FS-LLM 2024): P-tuning prefixes (key/value rows per layer).
 *
 * Their settings (LoRA rank, prompt length, learning rates) are not
 * reported (paper.md §5.3): the adapter is whatever the model was created
 * with (`Transformer.create(…, { adapter })`), and the optimiser settings
 * are the caller's.
 *
 * @module
 */

import type { AdamOptions } from "../../optim/adam.ts";
import type { LocalOptimizer } from "../local.ts";
import { type FedAvg, fedAvg } from "./fed_avg.ts";

/** Options shared by the PEFT baselines. */
export interface PeftOptions {
  /** Local steps, or `epoch` (the first-order baselines' one local epoch). */
  readonly steps: number | "epoch";
  /** Sequences per step (default 1). */
  readonly nAccum?: number;
  /** Local learning rate. */
  readonly lr: number;
  /** Global learning rate (default 1). */
  readonly globalLr?: number;
}

function optimizer(
  kind: "sgd" | "adam",
  lr: number,
  adam?: Omit<AdamOptions, "lr">,
): LocalOptimizer {
  return kind === "sgd" ? { kind, lr } : { kind, lr, ...(adam ?? {}) };
}

function local(options: PeftOptions, opt: LocalOptimizer) {
  return {
    steps: options.steps,
    ...(options.nAccum === undefined ? {} : { nAccum: options.nAccum }),
    optimizer: opt,
  };
}

/**
 * FedIT: LoRA + Adam, averaged by FedAvg. The model needs a LoRA adapter.
 *
 * @example
 * ```ts
 * import { fedIt } from "./peft.ts";
 * console.log(fedIt({ steps: "epoch", lr: 3e-4 }).trains); // lora
 * ```
 */
export function fedIt(
  options: PeftOptions & { readonly adam?: Omit<AdamOptions, "lr"> },
): FedAvg {
  return fedAvg({
    local: local(options, optimizer("adam", options.lr, options.adam)),
    ...(options.globalLr === undefined ? {} : { globalLr: options.globalLr }),
    trains: "lora",
    name: "FedIT",
    id: "fedit",
  });
}

/**
 * FedIT-SGD: LoRA + SGD, averaged by FedAvg. The model needs a LoRA adapter.
 *
 * @example
 * ```ts
 * import { fedItSgd } from "./peft.ts";
 * console.log(fedItSgd({ steps: 10, lr: 1e-3 }).id); // fedit-sgd
 * ```
 */
export function fedItSgd(options: PeftOptions): FedAvg {
  return fedAvg({
    local: local(options, optimizer("sgd", options.lr)),
    ...(options.globalLr === undefined ? {} : { globalLr: options.globalLr }),
    trains: "lora",
    name: "FedIT-SGD",
    id: "fedit-sgd",
  });
}

/**
 * FedPrompt: soft prompts averaged by FedAvg (SGD by default). The model needs a prompt adapter.
 *
 * @example
 * ```ts
 * import { fedPrompt } from "./peft.ts";
 * console.log(fedPrompt({ steps: 10, lr: 1e-2 }).trains); // prompt
 * ```
 */
export function fedPrompt(
  options: PeftOptions & { readonly optimizer?: "sgd" | "adam" },
): FedAvg {
  return fedAvg({
    local: local(options, optimizer(options.optimizer ?? "sgd", options.lr)),
    ...(options.globalLr === undefined ? {} : { globalLr: options.globalLr }),
    trains: "prompt",
    name: "FedPrompt",
    id: "fedprompt",
  });
}

/**
 * FedPTuning: P-tuning prefixes averaged by FedAvg (SGD by default). The model needs a prefix adapter.
 *
 * @example
 * ```ts
 * import { fedPTuning } from "./peft.ts";
 * console.log(fedPTuning({ steps: 10, lr: 1e-2 }).trains); // prefix
 * ```
 */
export function fedPTuning(
  options: PeftOptions & { readonly optimizer?: "sgd" | "adam" },
): FedAvg {
  return fedAvg({
    local: local(options, optimizer(options.optimizer ?? "sgd", options.lr)),
    ...(options.globalLr === undefined ? {} : { globalLr: options.globalLr }),
    trains: "prefix",
    name: "FedPTuning",
    id: "fedptuning",
  });
}
