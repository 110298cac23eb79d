/**
 * One federated fine-tuning run as the paper's tables and figures use it:
 * a dataset, a model, an algorithm with its hyper-parameters, rounds and
 * participation → the final Rouge-L, the eval-loss curve, the per-round
 * costs, communication and peak memory.
 *
 * A run is identified by its {@linkcode FederatedSetting}, the scale and the
 * seed, and is stored as the artifact `runs/<scale>/<sha256>.json` when it
 * finishes: tables and figures that need the same run (Table 2's NI columns,
 * Fig. 1, Fig. 2 and Table 6, say) share it instead of running it again.
 *
 * @module
 */

import { promptTokens, tokenizeExample } from "../src/data/batch.ts";
import type { Example, FederatedDataset } from "../src/data/example.ts";
import { loadCodeAlpaca } from "../src/data/loaders/code_alpaca.ts";
import { loadDolly } from "../src/data/loaders/dolly.ts";
import { loadGsm8k } from "../src/data/loaders/gsm8k.ts";
import { loadNaturalInstructions } from "../src/data/loaders/natural_instructions.ts";
import { builtinSuite, type SuiteName } from "../src/data/suites/builtin.ts";
import type { CellContext } from "../src/experiment/define.ts";
import { fedAvg } from "../src/fl/algorithms/fed_avg.ts";
import { fedKSeed } from "../src/fl/algorithms/fed_kseed.ts";
import { fedZo } from "../src/fl/algorithms/fed_zo.ts";
import { ferret } from "../src/fl/algorithms/ferret.ts";
import { fedIt, fedItSgd, fedPrompt, fedPTuning } from "../src/fl/algorithms/peft.ts";
import type { CheckpointStore } from "../src/fl/checkpoint.ts";
import type { LocalOptimizer } from "../src/fl/local.ts";
import { DivergenceError, simulate } from "../src/fl/simulator.ts";
import type { ClientData, FederatedAlgorithm } from "../src/fl/types.ts";
import { rougeL } from "../src/metrics/rouge_l.ts";
import { releaseScratch } from "../src/model/ops/_matmul_plan.ts";
import type { AdapterOptions } from "../src/model/peft/adapter.ts";
import type { Tokenizer } from "../src/model/tokenizer.ts";
import type { Sequence } from "../src/model/transformer.ts";
import type { AllocationRule } from "../src/projection/allocation.ts";
import { maxTokens, type PaperModel, prepareModel } from "./_models.ts";
import { sha256Hex } from "../src/experiment/hash.ts";

/** Dataset column-group labels as the paper prints them. */
export const DATASET_LABELS: Readonly<Record<SuiteName, string>> = {
  "ni-like": "Natural Instructions",
  "dolly-like": "Dolly-15K",
  "code-alpaca-like": "CodeAlpaca",
  "gsm8k-like": "GSM8K",
};

/** An algorithm and its hyper-parameters (plain data: part of the run's identity). */
export type AlgorithmSpec =
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
    readonly allocation?: AllocationRule;
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

/** Everything a run depends on besides the scale and the seed. */
export interface FederatedSetting {
  /** The dataset (a built-in suite below paper scale, the real one at paper scale). */
  readonly dataset: SuiteName;
  /** The model (its stand-in below paper scale). */
  readonly model: PaperModel;
  /** Algorithm and hyper-parameters. */
  readonly algorithm: AlgorithmSpec;
  /** Rounds R. */
  readonly rounds: number;
  /** Fraction of clients per round (at least one). */
  readonly fraction: number;
  /** First-order local training: T steps of n_accum sequences (`epoch`: one pass). */
  readonly local: { readonly steps: number | "epoch"; readonly nAccum: number };
  /** Held-out examples for the per-round eval loss and for the final Rouge-L; new tokens at most. */
  readonly evaluation: {
    readonly lossExamples: number;
    readonly rougeExamples: number;
    readonly maxNewTokens: number;
  };
}

/** What a run yields. */
export interface RunSummary {
  /** Mean Rouge-L F (%) of the greedy generations after the last round. */
  readonly rougeL: number;
  /** Eval loss before round 1 (index 0) and after each round. */
  readonly evalLoss: readonly number[];
  /** Mean local training loss per round. */
  readonly trainLoss: readonly number[];
  /** Seconds of local updates per round (all sampled clients, one after another). */
  readonly localSeconds: readonly number[];
  /** Seconds of global aggregation per round. */
  readonly aggregateSeconds: readonly number[];
  /** Scalars sent + received per participating client and round (mean over rounds). */
  readonly perClient: number;
  /** Peak GPU storage bytes the run added on top of what was allocated before it. */
  readonly peakBytes: number;
  /** Clients per round. */
  readonly clientsPerRound: number;
  /** Trainable parameters d. */
  readonly trainable: number;
  /** The round after which the global model stopped being finite, when it did. */
  readonly diverged?: number;
  /** The first few final generations beside their references (for reading, not scoring). */
  readonly samples: readonly { readonly reference: string; readonly generation: string }[];
}

/** Where each real dataset lives under `--data-dir`, and how it loads. */
export const DATA_DIRECTORIES: Readonly<Record<SuiteName, string>> = {
  "ni-like": "natural-instructions",
  "dolly-like": "dolly",
  "code-alpaca-like": "code_alpaca",
  "gsm8k-like": "gsm8k",
};

async function loadDataset(context: CellContext, name: SuiteName): Promise<FederatedDataset> {
  if (context.scale !== "paper") return builtinSuite(name, context.scale, context.seed);
  const dir = `${context.resources.dataDir}/${DATA_DIRECTORIES[name]}`;
  const seed = context.seed;
  switch (name) {
    case "ni-like":
      return await loadNaturalInstructions(dir, { seed });
    case "dolly-like":
      return await loadDolly(dir, { seed });
    case "code-alpaca-like":
      return await loadCodeAlpaca(dir, { seed });
    case "gsm8k-like":
      return await loadGsm8k(dir, { seed });
  }
}

/** The adapter a PEFT baseline trains (FedKSeed's settings for FedIT; small prompts). */
function adapterOf(spec: AlgorithmSpec): AdapterOptions | undefined {
  switch (spec.kind) {
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

function optimizerOf(kind: "sgd" | "adam" | undefined, lr: number): LocalOptimizer {
  return kind === "adam" ? { kind: "adam", lr } : { kind: "sgd", lr };
}

function algorithmOf(setting: FederatedSetting): FederatedAlgorithm {
  const spec = setting.algorithm;
  const { steps, nAccum } = setting.local;
  switch (spec.kind) {
    case "fedavg":
      return fedAvg({
        local: { steps, nAccum, optimizer: optimizerOf(spec.optimizer, spec.lr) },
        globalLr: spec.globalLr ?? 1,
      });
    case "ferret":
      return ferret({
        mode: spec.mode,
        K: spec.K,
        local: { steps, nAccum, optimizer: optimizerOf(spec.optimizer, spec.lr) },
        globalLr: spec.globalLr,
        ...(spec.allocation ? { allocation: spec.allocation } : {}),
        ...(spec.groupMultiplier ? { groupMultiplier: spec.groupMultiplier } : {}),
      });
    case "fedkseed":
      return fedKSeed({ seeds: spec.K, steps: spec.steps, lr: spec.lr, rebuild: "replay" });
    case "fedzo":
      return fedZo({ steps: spec.steps, lr: spec.lr });
    case "fedit":
      return fedIt({ steps, nAccum, lr: spec.lr });
    case "fedit-sgd":
      return fedItSgd({ steps, nAccum, lr: spec.lr });
    case "fedprompt":
      return fedPrompt({ steps, nAccum, lr: spec.lr, optimizer: spec.optimizer ?? "sgd" });
    case "fedptuning":
      return fedPTuning({ steps, nAccum, lr: spec.lr, optimizer: spec.optimizer ?? "sgd" });
  }
}

/** Examples as training sequences; those whose response was cut away entirely are left out. */
function sequencesOf(
  examples: readonly Example[],
  tokenizer: Tokenizer,
  dataset: FederatedDataset,
  maxLength: number,
): Sequence[] {
  return examples
    .map((e) => tokenizeExample(e, tokenizer, { template: dataset.template, maxLength }))
    .filter((t) => t.responseTokens > 0)
    .map((t) => ({ tokens: t.tokens.slice(0, -1), targets: t.labels.slice(1) }));
}

/**
 * A stable text for a run's identity (object keys sorted).
 *
 * @example
 * ```ts
 * import { runKey } from "./_federated.ts";
 * console.log(runKey({ b: 1, a: [2] })); // {"a":[2],"b":1}
 * ```
 */
export function runKey(value: unknown): string {
  return JSON.stringify(
    value,
    (_key, v) =>
      v && typeof v === "object" && !Array.isArray(v)
        ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => a.localeCompare(b)))
        : v,
  );
}

/** Runs (or reads back) the federated run `setting` at the context's scale and seed. */
export async function runFederated(
  context: CellContext,
  setting: FederatedSetting,
): Promise<RunSummary> {
  const key = runKey({ setting, scale: context.scale, seed: context.seed });
  const name = `runs/${context.scale}/${await sha256Hex(key)}.json`;
  const bytes = await context.artifact(name, async () => {
    const checkpoint = context.checkpoint(name.replace(/\.json$/, ".ckpt"));
    const summary = await execute(context, setting, checkpoint);
    await checkpoint.clear();
    return new TextEncoder().encode(JSON.stringify({ key: JSON.parse(key), summary }) + "\n");
  }, { refresh: true });
  return (JSON.parse(new TextDecoder().decode(bytes)) as { summary: RunSummary }).summary;
}

async function execute(
  context: CellContext,
  setting: FederatedSetting,
  checkpoint: CheckpointStore,
): Promise<RunSummary> {
  const dataset = await loadDataset(context, setting.dataset);
  const gpu = await context.gpu();
  const source = await prepareModel(context, setting.model);
  // Each run allocates its own matmul scratch, so its peak memory is its own.
  await releaseScratch(gpu);
  const before = gpu.liveBytes;
  gpu.resetPeak();
  const { model, tokenizer } = await source.create(adapterOf(setting.algorithm));
  const length = maxTokens(context.scale);
  const clients: ClientData[] = dataset.clients
    .map((examples) => sequencesOf(examples, tokenizer, dataset, length))
    .filter((sequences) => sequences.length > 0)
    .map((sequences, id) => ({ id, sequences }));
  const { lossExamples, rougeExamples, maxNewTokens } = setting.evaluation;
  const evalSequences = sequencesOf(
    dataset.test.slice(0, lossExamples),
    tokenizer,
    dataset,
    length,
  );
  // Final Rouge-L prompts: leave room for the answer within the model's positions.
  const promptRoom = model.config.maxPositions - maxNewTokens;
  const examples = dataset.test.slice(0, rougeExamples)
    .map((e) => ({
      prompt: [...promptTokens(e, tokenizer, dataset.template)],
      reference: e.output,
    }))
    .filter((e) => e.prompt.length <= Math.min(promptRoom, model.maxTokens));
  const algorithm = algorithmOf(setting);
  const initialLoss = await model.loss(evalSequences);
  try {
    const result = await simulate({
      model,
      algorithm,
      clients,
      rounds: setting.rounds,
      seed: context.seed,
      participation: { fraction: setting.fraction },
      evaluation: { sequences: evalSequences, every: 1 },
      checkpoint,
      final: {
        examples,
        decode: (ids) => tokenizer.decode(ids),
        metric: rougeL,
        maxNewTokens,
        eos: tokenizer.eos,
      },
      onRound: (r) =>
        context.progress({
          round: r.round,
          rounds: setting.rounds,
          loss: r.evalLoss ?? r.trainLoss,
        }),
    });
    const records = result.records;
    return {
      rougeL: 100 * (result.final?.score ?? NaN),
      evalLoss: [initialLoss, ...records.map((r) => r.evalLoss ?? NaN)],
      trainLoss: records.map((r) => r.trainLoss),
      localSeconds: records.map((r) => r.seconds.local),
      aggregateSeconds: records.map((r) => r.seconds.aggregate),
      perClient: records.reduce((s, r) => s + r.perClient, 0) / records.length,
      peakBytes: Math.max(...records.map((r) => r.peakGpuBytes ?? 0)) - before,
      clientsPerRound: records[0]?.clients.length ?? 0,
      trainable: model.trainable.params.vector.length,
      samples: (result.final?.generations ?? []).slice(0, 4).map((generation, i) => ({
        reference: examples[i]!.reference,
        generation,
      })),
    };
  } catch (error) {
    if (!(error instanceof DivergenceError)) throw error;
    // A diverged run is a result (the table shows NaN and says why), not a crash of the table.
    return {
      rougeL: NaN,
      evalLoss: [initialLoss, ...Array.from({ length: setting.rounds }, () => NaN)],
      trainLoss: [],
      localSeconds: [],
      aggregateSeconds: [],
      perClient: NaN,
      peakBytes: gpu.peakBytes - before,
      clientsPerRound: 0,
      trainable: model.trainable.params.vector.length,
      samples: [],
      diverged: error.round,
    };
  } finally {
    algorithm.destroy?.();
    model.destroy();
  }
}

/**
 * Rounds a run needed to converge: the first round whose eval loss is within
 * 10% of the run's whole improvement (initial − best) of its best loss.
 * Scale-free, so a run that is still improving steadily at the end gets a
 * count near its last round.
 *
 * @example
 * ```ts
 * import { roundsToConverge } from "./_federated.ts";
 * console.log(roundsToConverge([5, 3, 2.1, 2.05, 2])); // 3
 * ```
 */
export function roundsToConverge(evalLoss: readonly number[]): number {
  const best = Math.min(...evalLoss);
  const within = best + 0.1 * (evalLoss[0]! - best);
  const r = evalLoss.findIndex((loss, i) => i > 0 && loss <= within);
  return r < 0 ? evalLoss.length - 1 : r;
}
