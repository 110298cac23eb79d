/**
 * One federated fine-tuning run as the paper's tables and figures declare
 * it (a {@linkcode FederatedSetting}), made with the library's run API
 * (src/fl/run.ts) on the scale's dataset and model, and cached.
 *
 * A run is identified by its {@linkcode FederatedSetting}, the scale and the
 * seed, and is stored as the artifact `runs/<scale>/<sha256>.json` when it
 * finishes: tables and figures that need the same run (Table 2's NI columns,
 * Fig. 1, Fig. 2 and Table 6, say) share it instead of running it again.
 *
 * @module
 */

import type { FederatedDataset } from "../src/data/example.ts";
import { loadCodeAlpaca } from "../src/data/loaders/code_alpaca.ts";
import { loadDolly } from "../src/data/loaders/dolly.ts";
import { loadGsm8k } from "../src/data/loaders/gsm8k.ts";
import { loadNaturalInstructions } from "../src/data/loaders/natural_instructions.ts";
import { builtinSuite, type SuiteName } from "../src/data/suites/builtin.ts";
import type { CellContext } from "../src/experiment/define.ts";
import { sha256Hex } from "../src/experiment/hash.ts";
import {
  adapterFor,
  type AlgorithmConfig,
  createAlgorithm,
  type LocalSteps,
} from "../src/fl/algorithm_config.ts";
import type { CheckpointStore } from "../src/fl/run_checkpoint.ts";
import {
  evaluateModel,
  federatedRun,
  type ModelEvaluation,
  type RunEvaluation,
  type RunSummary,
} from "../src/fl/run.ts";
import { releaseScratch } from "../src/model/ops/matmul.ts";
import { DATA_SEED } from "./_data.ts";
import { maxTokens, type PaperModel, prepareModel } from "./_models.ts";

export type { RunSummary } from "../src/fl/run.ts";

/** Dataset column-group labels as the paper prints them. */
export const DATASET_LABELS: Readonly<Record<SuiteName, string>> = {
  "ni-like": "Natural Instructions",
  "dolly-like": "Dolly-15K",
  "code-alpaca-like": "CodeAlpaca",
  "gsm8k-like": "GSM8K",
};

/** Everything a run depends on besides the scale and the seed. */
export interface FederatedSetting {
  /** The dataset (a built-in suite below paper scale, the real one at paper scale). */
  readonly dataset: SuiteName;
  /** The model (its stand-in below paper scale). */
  readonly model: PaperModel;
  /**
   * What the model's weights are (`baseModelIdentity`: the checkpoint's
   * directory, or the stand-in's stem), so that every cache keyed on the
   * setting tells base models apart.
   */
  readonly base: string;
  /** Algorithm and hyper-parameters (plain data: part of the run's identity). */
  readonly algorithm: AlgorithmConfig;
  /** Rounds R. */
  readonly rounds: number;
  /** Fraction of clients per round (at least one). */
  readonly fraction: number;
  /** First-order local training: T steps of n_accum sequences (`epoch`: one pass). */
  readonly local: LocalSteps;
  /** Held-out examples for the per-round eval loss and for the final Rouge-L; new tokens at most. */
  readonly evaluation: RunEvaluation;
}

/** Where each real dataset lives under `--data-dir`, and how it loads. */
export const DATA_DIRECTORIES: Readonly<Record<SuiteName, string>> = {
  "ni-like": "natural-instructions",
  "dolly-like": "dolly",
  "code-alpaca-like": "code_alpaca",
  "gsm8k-like": "gsm8k",
};

/** What a run's data and held-out examples depend on, part of its identity (caches key on it). */
const DATA_IDENTITY = { seed: DATA_SEED, heldOut: "stratified" } as const;

async function loadDataset(context: CellContext, name: SuiteName): Promise<FederatedDataset> {
  const seed = DATA_SEED;
  if (context.scale !== "paper") return builtinSuite(name, context.scale, seed);
  const dir = `${context.resources.dataDir}/${DATA_DIRECTORIES[name]}`;
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

/**
 * Runs (or reads back) the federated run `setting` at the context's scale
 * and seed. With `clientBatch` the simulator hands the algorithm that many
 * clients per call instead of its default (the same numbers, a different
 * peak memory: Table 6 measures one client at a time); it is then part of
 * the run's identity.
 */
export async function runFederated(
  context: CellContext,
  setting: FederatedSetting,
  options: { readonly clientBatch?: number } = {},
): Promise<RunSummary> {
  const key = runKey({
    setting,
    scale: context.scale,
    seed: context.seed,
    data: DATA_IDENTITY,
    ...(options.clientBatch ? { clientBatch: options.clientBatch } : {}),
  });
  const name = `runs/${context.scale}/${await sha256Hex(key)}.json`;
  const bytes = await context.artifact(name, async () => {
    const checkpoint = context.checkpoint(name.replace(/\.json$/, ".ckpt"));
    const summary = await execute(context, setting, checkpoint, options.clientBatch);
    await checkpoint.clear();
    return new TextEncoder().encode(JSON.stringify({ key: JSON.parse(key), summary }) + "\n");
  }, {
    refresh: true,
    shardable: true,
    timed: true,
    placeholder: () => placeholderRun(setting),
    plan: setting,
  });
  return (JSON.parse(new TextDecoder().decode(bytes)) as { summary: RunSummary }).summary;
}

/**
 * The base model's held-out evaluation for `setting`'s dataset, model and
 * evaluation examples at the context's scale (the same examples its runs
 * are scored on, the same for every training seed), cached as
 * `base/<scale>/<sha256>.json`: the row before round 1 of an accuracy table.
 */
export async function evaluateBase(
  context: CellContext,
  setting: FederatedSetting,
): Promise<ModelEvaluation> {
  // Only the examples identify the base model's scores: not how often a run measures its loss.
  const { lossEvery: _, ...examples } = setting.evaluation;
  const identity = {
    dataset: setting.dataset,
    model: setting.model,
    base: setting.base,
    evaluation: examples,
  };
  // The same for every training seed: made once, read by every seed's cell.
  const key = runKey({ base: identity, scale: context.scale, data: DATA_IDENTITY });
  const name = `base/${context.scale}/${await sha256Hex(key)}.json`;
  const bytes = await context.artifact(name, async () => {
    const dataset = await loadDataset(context, setting.dataset);
    const source = await prepareModel(context, setting.model);
    const { model, tokenizer } = await source.create();
    try {
      const evaluation = await evaluateModel({
        dataset,
        model,
        tokenizer,
        evaluation: examples,
        maxLength: maxTokens(context.scale),
      });
      return new TextEncoder().encode(JSON.stringify({ key: JSON.parse(key), evaluation }) + "\n");
    } finally {
      model.destroy();
    }
  }, {
    shardable: true,
    placeholder: () =>
      new TextEncoder().encode(JSON.stringify({
        evaluation: {
          evalLoss: NaN,
          rougeL: NaN,
          exactMatch: null,
          samples: [],
        } satisfies ModelEvaluation,
      })),
  });
  return (JSON.parse(new TextDecoder().decode(bytes)) as { evaluation: ModelEvaluation })
    .evaluation;
}

/**
 * What a shard gets for another shard's run while it is missing: the shape
 * of a summary with every number NaN (its cell is left unfinished anyway).
 */
function placeholderRun(setting: FederatedSetting): Uint8Array {
  const rounds = Array.from({ length: setting.rounds }, () => NaN);
  const summary: RunSummary = {
    rougeL: NaN,
    exactMatch: null,
    evalLoss: [NaN, ...rounds],
    trainLoss: rounds,
    localSeconds: rounds,
    aggregateSeconds: rounds,
    perClient: NaN,
    peakBytes: NaN,
    clientsPerRound: NaN,
    trainable: NaN,
    clientsPerBatch: NaN,
    samples: [],
    records: [],
  };
  return new TextEncoder().encode(JSON.stringify({ summary }));
}

async function execute(
  context: CellContext,
  setting: FederatedSetting,
  checkpoint: CheckpointStore,
  clientBatch?: number,
): Promise<RunSummary> {
  const dataset = await loadDataset(context, setting.dataset);
  const gpu = await context.gpu();
  const source = await prepareModel(context, setting.model);
  // Each run allocates its own matmul scratch, so its peak memory is its own.
  await releaseScratch(gpu);
  const memoryBaseline = gpu.liveBytes;
  gpu.resetPeak();
  const { model, tokenizer } = await source.create(adapterFor(setting.algorithm));
  const algorithm = createAlgorithm(setting.algorithm, setting.local);
  try {
    return await federatedRun({
      dataset,
      model,
      tokenizer,
      algorithm,
      rounds: setting.rounds,
      seed: context.seed,
      fraction: setting.fraction,
      evaluation: setting.evaluation,
      maxLength: maxTokens(context.scale),
      memoryBaseline,
      checkpoint,
      ...(clientBatch ? { clientBatch } : {}),
      onRound: (r) =>
        context.progress({
          round: r.round,
          rounds: setting.rounds,
          loss: r.evalLoss ?? r.trainLoss,
        }),
    });
  } finally {
    algorithm.destroy?.();
    model.destroy();
  }
}
