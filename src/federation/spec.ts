/**
 * What a federation runs, as plain JSON the server sends every client at
 * joining (the `welcome` frame, src/federation/wire.ts): the model's
 * config and initial seed, the built-in suite whose partitions are the
 * clients' data, the algorithm, rounds, run seed and participation. Server
 * and clients build their parts from it the same way, so every random
 * stream (data order, Ferret's seed pool and indices) agrees across
 * machines; the run seed's streams are those of the simulator
 * (src/fl/simulator.ts), so a federation and a simulation of the same spec
 * compute the same thing.
 *
 * Text is byte-tokenised (src/model/tokenizer.ts): the model's vocabulary
 * is the byte tokenizer's 259.
 *
 * @module
 */

import type { Example } from "../data/example.ts";
import { builtinSuite, SUITE_NAMES, type SuiteName } from "../data/suites/builtin.ts";
import type { SuiteScale } from "../data/suites/sizes.ts";
import type { Gpu } from "../gpu/gpu.ts";
import { type ModelConfig, validateConfig } from "../model/config.ts";
import { PRESETS } from "../model/presets.ts";
import { ByteTokenizer } from "../model/tokenizer.ts";
import type { Sequence } from "../model/transformer.ts";
import { Transformer } from "../model/transformer.ts";
import {
  adapterFor,
  type AlgorithmConfig,
  createAlgorithm,
  type LocalSteps,
} from "../fl/algorithm_config.ts";
import { clientData, heldOut, sequencesOf } from "../fl/run.ts";
import type { ClientData, FederatedAlgorithm } from "../fl/types.ts";

/** A federation, as plain data. */
export interface FederationSpec {
  /** The model's config (vocabulary 259: byte tokens). */
  readonly model: ModelConfig;
  /** Seed of the model's initialisation (`model/init`). */
  readonly initSeed: number;
  /** Longest training sequence. */
  readonly maxTokens: number;
  /** The built-in suite whose client partitions the clients hold, its scale and data seed. */
  readonly data: { readonly suite: SuiteName; readonly scale: SuiteScale; readonly seed: number };
  /** The algorithm. */
  readonly algorithm: AlgorithmConfig;
  /** First-order local training. */
  readonly local: LocalSteps;
  /** Rounds R. */
  readonly rounds: number;
  /** Run seed (u32). */
  readonly seed: number;
  /** Fraction of the clients per round (at least one). */
  readonly fraction: number;
  /** Held-out examples the server's per-round eval loss is measured on. */
  readonly evalExamples: number;
}

/**
 * The algorithms {@linkcode exampleSpec} sets up.
 *
 * @example
 * ```ts
 * import { EXAMPLE_ALGORITHMS } from "./spec.ts";
 * console.log(EXAMPLE_ALGORITHMS.join(" ")); // ferret ferret-paper fedavg fedkseed
 * ```
 */
export const EXAMPLE_ALGORITHMS = ["ferret", "ferret-paper", "fedavg", "fedkseed"] as const;

/** One of {@linkcode EXAMPLE_ALGORITHMS}. */
export type ExampleAlgorithm = (typeof EXAMPLE_ALGORITHMS)[number];

const EXAMPLE_CONFIGS: Readonly<Record<ExampleAlgorithm, AlgorithmConfig>> = {
  "ferret": { kind: "ferret", mode: "official", K: 8, lr: 0.05, globalLr: 2 },
  "ferret-paper": { kind: "ferret", mode: "paper", K: 32, lr: 0.05, globalLr: 2 },
  "fedavg": { kind: "fedavg", lr: 0.05 },
  "fedkseed": { kind: "fedkseed", K: 64, steps: 8, lr: 1e-3 },
};

/**
 * A small federation that runs in seconds on a CPU: the `ci` model with
 * room for the smoke suites' examples, two local steps, three rounds;
 * `ferret` is Ferret in official mode (the released code's), `ferret-paper`
 * in the paper's.
 *
 * @example
 * ```ts
 * import { exampleSpec } from "./spec.ts";
 * const spec = exampleSpec("gsm8k-like", "ferret");
 * console.log(spec.algorithm.kind, spec.rounds); // ferret 3
 * ```
 */
export function exampleSpec(
  suite: SuiteName = "gsm8k-like",
  algorithm: ExampleAlgorithm = "ferret",
): FederationSpec {
  const config = EXAMPLE_CONFIGS[algorithm];
  if (!config) {
    throw new TypeError(
      `Cannot make an example federation of "${algorithm}": choose ${
        EXAMPLE_ALGORITHMS.join(", ")
      }`,
    );
  }
  return {
    model: { ...PRESETS.ci, maxPositions: 256 },
    initSeed: 0,
    maxTokens: 192,
    data: { suite, scale: "smoke", seed: 0 },
    algorithm: config,
    local: { steps: 2, nAccum: 1 },
    rounds: 3,
    seed: 0,
    fraction: 1,
    evalExamples: 8,
  };
}

function positiveInteger(value: unknown, what: string, min = 1): number {
  if (!Number.isSafeInteger(value) || (value as number) < min) {
    throw new TypeError(
      `Cannot use the federation spec: ${what} is ${value}, not an integer ≥ ${min}`,
    );
  }
  return value as number;
}

/**
 * Checks a spec received as JSON (or read from a file) and returns it
 * typed, refusing a missing or wrong field by name.
 *
 * @example
 * ```ts
 * import { exampleSpec, validateSpec } from "./spec.ts";
 * const spec = validateSpec(JSON.parse(JSON.stringify(exampleSpec())));
 * console.log(spec.rounds); // 3
 * try {
 *   validateSpec({ ...exampleSpec(), fraction: 2 });
 * } catch (error) {
 *   console.log((error as Error).message); // Cannot use the federation spec: fraction is 2, not in (0, 1]
 * }
 * ```
 */
export function validateSpec(value: unknown): FederationSpec {
  if (value === null || typeof value !== "object") {
    throw new TypeError("Cannot use the federation spec: it is not an object");
  }
  const spec = value as Record<string, unknown>;
  const model = validateConfig(spec.model as ModelConfig, "the federation spec's model");
  if (model.vocabSize !== new ByteTokenizer().vocabSize) {
    throw new TypeError(
      `Cannot use the federation spec: the model's vocabulary is ${model.vocabSize}, ` +
        "the byte tokenizer's 259",
    );
  }
  const data = spec.data as Record<string, unknown> | undefined;
  if (!data || !SUITE_NAMES.includes(data.suite as SuiteName)) {
    throw new TypeError(
      `Cannot use the federation spec: data.suite is ${data?.suite}, not one of ${
        SUITE_NAMES.join(", ")
      }`,
    );
  }
  if (!["smoke", "default", "paper"].includes(data.scale as string)) {
    throw new TypeError(`Cannot use the federation spec: data.scale is ${data.scale}`);
  }
  positiveInteger(data.seed, "data.seed", 0);
  const local = spec.local as Record<string, unknown> | undefined;
  if (!local || (local.steps !== "epoch" && !Number.isSafeInteger(local.steps))) {
    throw new TypeError(`Cannot use the federation spec: local.steps is ${local?.steps}`);
  }
  positiveInteger(local.nAccum, "local.nAccum");
  positiveInteger(spec.initSeed, "initSeed", 0);
  positiveInteger(spec.maxTokens, "maxTokens");
  positiveInteger(spec.rounds, "rounds");
  positiveInteger(spec.evalExamples, "evalExamples");
  if (positiveInteger(spec.seed, "seed", 0) > 0xffffffff) {
    throw new TypeError(`Cannot use the federation spec: seed ${spec.seed} is not a u32`);
  }
  const fraction = spec.fraction as number;
  if (!(fraction > 0 && fraction <= 1)) {
    throw new TypeError(`Cannot use the federation spec: fraction is ${fraction}, not in (0, 1]`);
  }
  // Creating the algorithm checks its config.
  createAlgorithm(spec.algorithm as AlgorithmConfig, local as unknown as LocalSteps).destroy?.();
  return { ...(spec as unknown as FederationSpec), model };
}

/** The model of `spec` at its initial parameters, with the algorithm's adapter if any. */
export function specModel(gpu: Gpu, spec: FederationSpec): Promise<Transformer> {
  const adapter = adapterFor(spec.algorithm);
  return Transformer.create(gpu, spec.model, {
    maxTokens: spec.maxTokens,
    seed: spec.initSeed,
    ...(adapter ? { adapter } : {}),
  });
}

/** A fresh algorithm of `spec` (not set up). */
export function specAlgorithm(spec: FederationSpec): FederatedAlgorithm {
  return createAlgorithm(spec.algorithm, spec.local);
}

/** The built-in suite `spec` names. */
function specDataset(spec: FederationSpec) {
  return builtinSuite(spec.data.suite, spec.data.scale, spec.data.seed);
}

/** Every client's data under `spec` (a client holds only its own: {@linkcode ClientData}). */
export function specClients(spec: FederationSpec): ClientData[] {
  const dataset = specDataset(spec);
  return clientData(dataset, new ByteTokenizer(), spec.maxTokens);
}

/**
 * A client's own examples (read from its own file) as its data under
 * `spec`: rendered with the suite's template, cut to `maxTokens`.
 */
export function specClientData(
  spec: FederationSpec,
  id: number,
  examples: readonly Example[],
): ClientData {
  const dataset = specDataset(spec);
  const sequences = sequencesOf(examples, new ByteTokenizer(), dataset, spec.maxTokens);
  if (sequences.length === 0) {
    throw new RangeError(
      `Cannot be client ${id} with these ${examples.length} examples: none keeps a response ` +
        `within ${spec.maxTokens} tokens`,
    );
  }
  return { id, sequences };
}

/** The held-out sequences of the server's eval loss. */
export function specEvaluation(spec: FederationSpec, model: Transformer): Sequence[] {
  const dataset = specDataset(spec);
  return heldOut({
    dataset,
    model,
    tokenizer: new ByteTokenizer(),
    evaluation: { lossExamples: spec.evalExamples, rougeExamples: 0, maxNewTokens: 1 },
    maxLength: spec.maxTokens,
  }).evalSequences;
}
