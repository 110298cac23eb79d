/**
 * One configuration type for every algorithm of the paper's tables, as
 * plain data (so it can be part of a run's identity), with the paper's
 * names: `lr` the local learning rate η, `globalLr` the global (server)
 * learning rate η_g, `K` Ferret's Σ_l K_l (official: the pool size) or
 * FedKSeed's candidate seeds, `steps` the zeroth-order methods' local
 * steps (paper.md §5–6). First-order local training (T steps of n_accum
 * sequences) is given beside it, shared by every first-order method.
 *
 * @module
 */

import type { AdapterOptions } from "../model/peft/adapter.ts";
import type { AllocationRule } from "../projection/allocation.ts";
import { fedAvg } from "./algorithms/fed_avg.ts";
import { fedKSeed } from "./algorithms/fed_kseed.ts";
import { fedZo } from "./algorithms/fed_zo.ts";
import { ferret } from "./algorithms/ferret.ts";
import { fedIt, fedItSgd, fedPrompt, fedPTuning } from "./algorithms/peft.ts";
import type { LocalOptimizer } from "./local.ts";
import type { FederatedAlgorithm } from "./types.ts";

/** An algorithm and its hyper-parameters. */
export type AlgorithmConfig =
  | {
    readonly kind: "fedavg";
    readonly lr: number;
    readonly globalLr?: number;
    readonly optimizer?: "sgd" | "adam";
  }
  | {
    readonly kind: "ferret";
    readonly mode: "paper" | "official";
    readonly K: number;
    readonly lr: number;
    readonly globalLr: number;
    /** Paper mode: how Σ_l K_l = K is split. Official mode: with `totalK`, replaces the code's rule. */
    readonly allocation?: AllocationRule;
    /** Official mode with `allocation`: the fixed total Σ_l K_l (K stays the pool size). */
    readonly totalK?: number;
    readonly groupMultiplier?: number;
    readonly optimizer?: "sgd" | "adam";
  }
  | { readonly kind: "fedkseed"; readonly K: number; readonly steps: number; readonly lr: number }
  | { readonly kind: "fedzo"; readonly steps: number; readonly lr: number }
  | { readonly kind: "fedit" | "fedit-sgd"; readonly lr: number }
  | {
    readonly kind: "fedprompt" | "fedptuning";
    readonly lr: number;
    readonly optimizer?: "sgd" | "adam";
  };

/** First-order local training: T steps of n_accum sequences (`epoch`: one pass). */
export interface LocalSteps {
  /** Local steps T, or `epoch`. */
  readonly steps: number | "epoch";
  /** Sequences per step, gradients accumulated. */
  readonly nAccum: number;
}

function optimizerOf(kind: "sgd" | "adam" | undefined, lr: number): LocalOptimizer {
  return kind === "adam" ? { kind: "adam", lr } : { kind: "sgd", lr };
}

function createFerret(
  config: Extract<AlgorithmConfig, { kind: "ferret" }>,
  { steps, nAccum }: LocalSteps,
): FederatedAlgorithm {
  const common = {
    K: config.K,
    local: { steps, nAccum, optimizer: optimizerOf(config.optimizer, config.lr) },
    globalLr: config.globalLr,
    ...(config.groupMultiplier ? { groupMultiplier: config.groupMultiplier } : {}),
  };
  if (config.mode === "paper") {
    return ferret({
      mode: "paper",
      ...common,
      ...(config.allocation ? { allocation: config.allocation } : {}),
    });
  }
  if ((config.allocation === undefined) !== (config.totalK === undefined)) {
    throw new TypeError(
      "Cannot create Ferret (official mode) with only one of allocation and totalK: a fixed " +
        "allocation needs both",
    );
  }
  const fixed = config.allocation && config.totalK !== undefined
    ? { allocation: { rule: config.allocation, total: config.totalK } }
    : {};
  return ferret({ mode: "official", ...common, ...fixed });
}

/**
 * The algorithm `config` describes, with first-order local training `local`.
 *
 * @example
 * ```ts
 * import { createAlgorithm } from "./algorithm_config.ts";
 * const algorithm = createAlgorithm(
 *   { kind: "ferret", mode: "official", K: 200, lr: 0.05, globalLr: 2 },
 *   { steps: 4, nAccum: 2 },
 * );
 * console.log(algorithm.id); // ferret-official
 * ```
 */
export function createAlgorithm(config: AlgorithmConfig, local: LocalSteps): FederatedAlgorithm {
  const { steps, nAccum } = local;
  switch (config.kind) {
    case "fedavg":
      return fedAvg({
        local: { steps, nAccum, optimizer: optimizerOf(config.optimizer, config.lr) },
        globalLr: config.globalLr ?? 1,
      });
    case "ferret":
      return createFerret(config, local);
    case "fedkseed":
      return fedKSeed({ K: config.K, steps: config.steps, lr: config.lr, rebuild: "replay" });
    case "fedzo":
      return fedZo({ steps: config.steps, lr: config.lr });
    case "fedit":
      return fedIt({ steps, nAccum, lr: config.lr });
    case "fedit-sgd":
      return fedItSgd({ steps, nAccum, lr: config.lr });
    case "fedprompt":
      return fedPrompt({ steps, nAccum, lr: config.lr, optimizer: config.optimizer ?? "sgd" });
    case "fedptuning":
      return fedPTuning({ steps, nAccum, lr: config.lr, optimizer: config.optimizer ?? "sgd" });
    default:
      throw new TypeError(
        `Cannot create algorithm "${(config as { kind: string }).kind}": expected fedavg, ` +
          "ferret, fedkseed, fedzo, fedit, fedit-sgd, fedprompt or fedptuning",
      );
  }
}

/**
 * The adapter a PEFT baseline trains (FedKSeed's settings for FedIT: LoRA
 * rank 8, α 16; prompts and prefixes of 8 tokens), or undefined for the
 * full-parameter methods.
 *
 * @example
 * ```ts
 * import { adapterFor } from "./algorithm_config.ts";
 * console.log(adapterFor({ kind: "fedit", lr: 3e-4 })?.kind); // lora
 * ```
 */
export function adapterFor(config: AlgorithmConfig): AdapterOptions | undefined {
  switch (config.kind) {
    case "fedit":
    case "fedit-sgd":
      return { kind: "lora", rank: 8, alpha: 16 };
    case "fedprompt":
      return { kind: "prompt", tokens: 8, std: 0.02 };
    case "fedptuning":
      return { kind: "prefix", tokens: 8, std: 0.02 };
    default:
      return undefined;
  }
}
