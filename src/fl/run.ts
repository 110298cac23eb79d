/**
 * One federated fine-tuning run, the unit every accuracy and cost table of
 * the paper is made of (paper.md §5): a federated dataset, a model with its
 * tokenizer, an algorithm, rounds and participation → the run's records.
 *
 * The dataset's examples are tokenised with its prompt template (an
 * example whose response is cut away entirely is left out); its test
 * examples give the per-round eval loss (`lossExamples` of them) and the
 * final greedy generations scored by Rouge-L (`rougeExamples`, whose
 * prompts leave room for `maxNewTokens`) and, where the references end in
 * a GSM8K-style `#### <number>`, by exact match of that final answer; each sampled across the test
 * labels (tasks) so that every held-out task is scored. A diverged run is a result:
 * its summary says after which round, with NaN scores.
 *
 * @module
 */

import { promptTokens, tokenizeExample } from "../data/batch.ts";
import { stratifiedSample } from "../data/stratify.ts";
import type { Example, FederatedDataset } from "../data/example.ts";
import { finalAnswerScore } from "../metrics/exact_match.ts";
import { rougeL } from "../metrics/rouge_l.ts";
import type { Tokenizer } from "../model/tokenizer.ts";
import type { Sequence, Transformer } from "../model/transformer.ts";
import type { CheckpointStore } from "./run_checkpoint.ts";
import { DivergenceError, evaluateGenerations, type RoundRecord, simulate } from "./simulator.ts";
import type { ClientData, FederatedAlgorithm } from "./types.ts";

/** Options of {@linkcode federatedRun}. */
export interface FederatedRunOptions {
  /** Clients' training examples and the held-out test examples. */
  readonly dataset: FederatedDataset;
  /** The model at its initial (pre-trained) parameters, with the algorithm's adapter if any. */
  readonly model: Transformer;
  /** The model's tokenizer. */
  readonly tokenizer: Tokenizer;
  /** The algorithm. */
  readonly algorithm: FederatedAlgorithm;
  /** Rounds R. */
  readonly rounds: number;
  /** Run seed (u32): sampling, data order and every algorithm stream. */
  readonly seed: number;
  /** Fraction of the clients per round, at least one (default 1). */
  readonly fraction?: number;
  /** Held-out examples for the eval loss and for Rouge-L, most new tokens (defaults 16, 8, 32). */
  readonly evaluation?: RunEvaluation;
  /** Longest sequence (default the model's `maxTokens`). */
  readonly maxLength?: number;
  /** GPU bytes allocated before the model, left out of `peakBytes` (default 0). */
  readonly memoryBaseline?: number;
  /** Saves after every round and resumes from what it holds. */
  readonly checkpoint?: CheckpointStore;
  /** Called after every round. */
  readonly onRound?: (record: RoundRecord) => void;
  /** Clients per call of the client hook (see `SimulationOptions.clientBatch`; the result does not depend on it). */
  readonly clientBatch?: number;
}

/** What a run measures on its held-out examples, and how often. */
export interface RunEvaluation {
  /** Examples whose response-token loss is the eval loss. */
  readonly lossExamples: number;
  /** Examples whose greedy generations are scored by Rouge-L after the last round. */
  readonly rougeExamples: number;
  /** Most new tokens per generation. */
  readonly maxNewTokens: number;
  /**
   * Rounds between two eval losses (default 1: every round). The loss before
   * round 1 and after the last round are always measured; the rounds in
   * between that are skipped read NaN in {@linkcode RunSummary.evalLoss}.
   */
  readonly lossEvery?: number;
}

/** What a run yields. */
export interface RunSummary {
  /** Mean Rouge-L F (%) of the greedy generations after the last round. */
  readonly rougeL: number;
  /**
   * Exact match (%) of their final answers; null when the references carry
   * no `#### ` answer or the run diverged.
   */
  readonly exactMatch: number | null;
  /** Eval loss before round 1 (index 0) and after each round (NaN where not measured: `lossEvery`). */
  readonly evalLoss: readonly number[];
  /** Mean local training loss per round. */
  readonly trainLoss: readonly number[];
  /** Seconds of local updates per round (all sampled clients, one after another). */
  readonly localSeconds: readonly number[];
  /** Seconds of global aggregation per round. */
  readonly aggregateSeconds: readonly number[];
  /** Scalars sent + received per participating client and round (mean over rounds). */
  readonly perClient: number;
  /** Peak GPU storage bytes of the run above `memoryBaseline`. */
  readonly peakBytes: number;
  /** Clients per round. */
  readonly clientsPerRound: number;
  /** Trainable parameters d. */
  readonly trainable: number;
  /**
   * Clients trained together as one batch of models (src/model/model_batch.ts),
   * mean over the rounds: 1 one at a time; NaN when no round ran.
   */
  readonly clientsPerBatch: number;
  /** The round after which the global model stopped being finite, when it did. */
  readonly diverged?: number;
  /** The first few final generations beside their references (for reading, not scoring). */
  readonly samples: readonly { readonly reference: string; readonly generation: string }[];
  /** Every round's record: sampled and dropped clients, losses, seconds, the ledger's totals. */
  readonly records: readonly RoundRecord[];
}

/** Held-out examples, eval-loss sequences and generation budget when none are given. */
const DEFAULT_EVALUATION = { lossExamples: 16, rougeExamples: 8, maxNewTokens: 32 } as const;

/**
 * The held-out evaluation of a run: `lossExamples` test examples as
 * eval-loss sequences, and `rougeExamples` as prompts with their references
 * (prompts that leave room for `maxNewTokens`), each a sample stratified by
 * label (src/data/stratify.ts), so every held-out task is scored.
 */
export function heldOut(
  options: Pick<
    FederatedRunOptions,
    "dataset" | "model" | "tokenizer" | "evaluation" | "maxLength"
  >,
) {
  const { dataset, model, tokenizer } = options;
  const { lossExamples, rougeExamples, maxNewTokens } = options.evaluation ?? DEFAULT_EVALUATION;
  const length = options.maxLength ?? model.maxTokens;
  const evalSequences = sequencesOf(
    stratifiedSample(dataset.test, lossExamples),
    tokenizer,
    dataset,
    length,
  );
  // Final Rouge-L prompts: leave room for the answer within the model's positions.
  const promptRoom = model.config.maxPositions - maxNewTokens;
  const examples = stratifiedSample(dataset.test, rougeExamples)
    .map((e) => ({
      prompt: [...promptTokens(e, tokenizer, dataset.template)],
      reference: e.output,
    }))
    .filter((e) => e.prompt.length <= Math.min(promptRoom, model.maxTokens));
  return { evalSequences, examples };
}

/** What {@linkcode evaluateModel} measures. */
export interface ModelEvaluation {
  /** Mean response-token loss over the eval-loss examples. */
  readonly evalLoss: number;
  /** Mean Rouge-L F (%) of the greedy generations. */
  readonly rougeL: number;
  /** Exact match (%) of their final answers; null when the references carry no `#### ` answer. */
  readonly exactMatch: number | null;
  /** The first few generations beside their references. */
  readonly samples: readonly { readonly reference: string; readonly generation: string }[];
}

/**
 * The held-out evaluation a {@linkcode federatedRun} ends with — eval loss
 * and Rouge-L of greedy generations on the same examples — of `model` as it
 * is: the base model before round 1 of an accuracy table.
 *
 * @example
 * ```ts
 * import { evaluateModel } from "./run.ts";
 * import { Gpu } from "../gpu/gpu.ts";
 * import { PRESETS } from "../model/presets.ts";
 * import { Transformer } from "../model/transformer.ts";
 * import { ByteTokenizer } from "../model/tokenizer.ts";
 * import { builtinSuite } from "../data/suites/builtin.ts";
 * const gpu = await Gpu.create();
 * const model = await Transformer.create(gpu, { ...PRESETS.ci, maxPositions: 256 }, { maxTokens: 192 });
 * const base = await evaluateModel({
 *   dataset: builtinSuite("gsm8k-like", "smoke", 0), model, tokenizer: new ByteTokenizer(),
 *   evaluation: { lossExamples: 2, rougeExamples: 2, maxNewTokens: 4 },
 * });
 * console.log(Number.isFinite(base.evalLoss), base.rougeL >= 0); // true true
 * gpu.destroy();
 * ```
 */
export async function evaluateModel(
  options: Pick<
    FederatedRunOptions,
    "dataset" | "model" | "tokenizer" | "evaluation" | "maxLength"
  >,
): Promise<ModelEvaluation> {
  const { model, tokenizer } = options;
  const { evalSequences, examples } = heldOut(options);
  const evalLoss = await model.loss(evalSequences);
  const { maxNewTokens } = options.evaluation ?? DEFAULT_EVALUATION;
  const { score, generations } = await evaluateGenerations(model, {
    examples,
    decode: (ids) => tokenizer.decode(ids),
    metric: rougeL,
    maxNewTokens,
    eos: tokenizer.eos,
  });
  return {
    evalLoss,
    rougeL: 100 * score,
    exactMatch: finalAnswerScore(generations, examples.map((e) => e.reference)),
    samples: generations.slice(0, 4).map((generation, i) => ({
      reference: examples[i]!.reference,
      generation,
    })),
  };
}

/**
 * Examples as training sequences rendered with `dataset`'s template; those
 * whose response was cut away entirely are left out.
 *
 * @example
 * ```ts
 * import { sequencesOf } from "./run.ts";
 * import { ByteTokenizer } from "../model/tokenizer.ts";
 * const example = { instruction: "Add 2 and 3.", input: "", output: "5", label: "math" };
 * const [sequence] = sequencesOf([example], new ByteTokenizer(), { template: "compact" }, 64);
 * console.log(sequence!.tokens.length === sequence!.targets.length); // true
 * ```
 */
export function sequencesOf(
  examples: readonly Example[],
  tokenizer: Tokenizer,
  dataset: Pick<FederatedDataset, "template">,
  maxLength: number,
): Sequence[] {
  return examples
    .map((e) => tokenizeExample(e, tokenizer, { template: dataset.template, maxLength }))
    .filter((t) => t.responseTokens > 0)
    .map((t) => ({ tokens: t.tokens.slice(0, -1), targets: t.labels.slice(1) }));
}

/**
 * The clients of a run: each client's examples as training sequences of at
 * most `maxLength` tokens; clients left with none are left out, and the
 * others numbered 0 … N − 1 in the dataset's order (a federation's client
 * `--client i` is this list's i-th: src/federation/spec.ts).
 *
 * @example
 * ```ts
 * import { clientData } from "./run.ts";
 * import { builtinSuite } from "../data/suites/builtin.ts";
 * import { ByteTokenizer } from "../model/tokenizer.ts";
 * const clients = clientData(builtinSuite("gsm8k-like", "smoke", 0), new ByteTokenizer(), 192);
 * console.log(clients.map((c) => c.id)); // [ 0, 1, 2 ]
 * ```
 */
export function clientData(
  dataset: FederatedDataset,
  tokenizer: Tokenizer,
  maxLength: number,
): ClientData[] {
  return dataset.clients
    .map((examples) => sequencesOf(examples, tokenizer, dataset, maxLength))
    .filter((sequences) => sequences.length > 0)
    .map((sequences, id) => ({ id, sequences }));
}

/**
 * Runs one federated fine-tuning run and summarises it.
 *
 * @example
 * ```ts
 * import { federatedRun } from "./run.ts";
 * import { ferret } from "./algorithms/ferret.ts";
 * import { builtinSuite } from "../data/suites/builtin.ts";
 * import { Gpu } from "../gpu/gpu.ts";
 * import { PRESETS } from "../model/presets.ts";
 * import { ByteTokenizer } from "../model/tokenizer.ts";
 * import { Transformer } from "../model/transformer.ts";
 * const gpu = await Gpu.create();
 * const model = await Transformer.create(gpu, { ...PRESETS.ci, maxPositions: 256 }, { maxTokens: 192 });
 * const local = { steps: 2, optimizer: { kind: "sgd" as const, lr: 0.05 } };
 * const run = await federatedRun({
 *   dataset: builtinSuite("gsm8k-like", "smoke", 0),
 *   model,
 *   tokenizer: new ByteTokenizer(),
 *   algorithm: ferret({ mode: "official", K: 8, globalLr: 2, local }),
 *   rounds: 2,
 *   seed: 0,
 * });
 * console.log(run.evalLoss.length, run.evalLoss[2]! < run.evalLoss[0]!); // 3 true
 * gpu.destroy();
 * ```
 */
export async function federatedRun(options: FederatedRunOptions): Promise<RunSummary> {
  const { dataset, model, tokenizer, algorithm, rounds, seed } = options;
  const baseline = options.memoryBaseline ?? 0;
  const { maxNewTokens } = options.evaluation ?? DEFAULT_EVALUATION;
  const length = options.maxLength ?? model.maxTokens;
  const clients = clientData(dataset, tokenizer, length);
  const { evalSequences, examples } = heldOut(options);
  const initialLoss = await model.loss(evalSequences);
  try {
    const result = await simulate({
      model,
      algorithm,
      clients,
      rounds,
      seed,
      participation: { fraction: options.fraction ?? 1 },
      evaluation: { sequences: evalSequences, every: options.evaluation?.lossEvery ?? 1 },
      ...(options.checkpoint ? { checkpoint: options.checkpoint } : {}),
      final: {
        examples,
        decode: (ids) => tokenizer.decode(ids),
        metric: rougeL,
        maxNewTokens,
        eos: tokenizer.eos,
      },
      ...(options.onRound ? { onRound: options.onRound } : {}),
      ...(options.clientBatch ? { clientBatch: options.clientBatch } : {}),
    });
    const records = result.records;
    const generations = result.final?.generations ?? [];
    return {
      rougeL: 100 * (result.final?.score ?? NaN),
      exactMatch: finalAnswerScore(generations, examples.map((e) => e.reference)),
      evalLoss: [initialLoss, ...records.map((r) => r.evalLoss ?? NaN)],
      trainLoss: records.map((r) => r.trainLoss),
      localSeconds: records.map((r) => r.seconds.local),
      aggregateSeconds: records.map((r) => r.seconds.aggregate),
      perClient: records.reduce((s, r) => s + r.perClient, 0) / records.length,
      peakBytes: Math.max(...records.map((r) => r.peakGpuBytes ?? 0)) - baseline,
      clientsPerRound: records[0]?.clients.length ?? 0,
      trainable: model.trainable.params.vector.length,
      clientsPerBatch: records.reduce((s, r) => s + (r.extra["batchedClients"] ?? 1), 0) /
        records.length,
      samples: generations.slice(0, 4).map((generation, i) => ({
        reference: examples[i]!.reference,
        generation,
      })),
      records,
    };
  } catch (error) {
    if (!(error instanceof DivergenceError)) throw error;
    // A diverged run is a result (the tables show NaN and say why), not a crash.
    return {
      rougeL: NaN,
      exactMatch: null,
      evalLoss: [initialLoss, ...Array.from({ length: rounds }, () => NaN)],
      trainLoss: [],
      localSeconds: [],
      aggregateSeconds: [],
      perClient: NaN,
      peakBytes: model.gpu.peakBytes - baseline,
      clientsPerRound: 0,
      trainable: model.trainable.params.vector.length,
      clientsPerBatch: NaN,
      samples: [],
      records: [],
      diverged: error.round,
    };
  }
}
