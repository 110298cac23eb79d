/**
 * The federation simulator (DESIGN.md §6; paper.md §1.2, §5): N clients, a
 * sampled fraction per round, local training from the current global
 * model, aggregation by an algorithm (src/fl/algorithms/), evaluation every
 * round and at the end, per-round records, checkpoints and resume.
 *
 * Clients are simulated one after another on one device; only the sampled
 * ones are materialised. The working model's trainable vector holds the
 * global parameters between rounds. The round itself — sampling, the
 * client work, aggregation with renormalised weights, the broadcast, the
 * ledger, the timing of both phases — is written once here; an algorithm
 * supplies only its hooks (src/fl/types.ts).
 *
 * Per round the simulator records: the sampled and the dropped clients, the
 * mean local training loss, the eval loss on held-out sequences, the wall
 * time of the local updates and of the global aggregation as the paper's
 * cost tables split them (the GPU is synchronised around each phase), the
 * peak GPU bytes when a probe is given, and the ledger's communication.
 *
 * Robustness: a client whose update is non-finite sends nothing, is left
 * out of the aggregate (the others' weights renormalised) and counted; a run whose global model or eval loss is not
 * finite stops with a {@linkcode DivergenceError} naming the round and the
 * client with the largest update; a run with a {@linkcode CheckpointStore}
 * saves after every round and resumes from the last saved round to the
 * bit-identical result.
 *
 * @module
 */

import type { GpuVector } from "../gpu/vector.ts";
import { generateBatch } from "../model/generate.ts";
import type { Sequence, Transformer } from "../model/transformer.ts";
import { evalLoss } from "../metrics/loss.ts";
import { RandomStream } from "../random/stream.ts";
import { BlockNorms, totalNorm } from "../gpu/segment_norms.ts";
import { type CheckpointStore, decodeCheckpoint, encodeCheckpoint } from "./run_checkpoint.ts";
import { CommunicationLedger, type Totals } from "./ledger.ts";
import {
  aggregationWeights,
  type Participation,
  sampleClients,
  type Weighting,
} from "./sampling.ts";
import type { ClientData, FederatedAlgorithm, Phase, RoundInfo, RunStreams } from "./types.ts";

/** Greedy generation and a metric after the last round (paper.md §5.1 "Evaluation"). */
export interface FinalEvaluation {
  /** Prompts (token ids, BOS included) and their reference answers. */
  readonly examples: readonly { readonly prompt: readonly number[]; readonly reference: string }[];
  /** Token ids → text (special tokens skipped). */
  readonly decode: (ids: readonly number[]) => string;
  /** Score of one generation against its reference, e.g. `rougeL`. */
  readonly metric: (hypothesis: string, reference: string) => number;
  /** Most new tokens (the paper: 128). */
  readonly maxNewTokens: number;
  /** End-of-sequence id. */
  readonly eos?: number;
}

/** Options of {@linkcode simulate}. */
export interface SimulationOptions {
  /** The working model, at its initial parameters (a resumed run is built the same way). */
  readonly model: Transformer;
  /** The algorithm. */
  readonly algorithm: FederatedAlgorithm;
  /** All N clients. */
  readonly clients: readonly ClientData[];
  /** Rounds R of the run. */
  readonly rounds: number;
  /** Run seed (u32): sampling, data order and every algorithm stream derive from it. */
  readonly seed: number;
  /** Clients per round (default: all). */
  readonly participation?: Participation;
  /** Aggregation weights: `samples` (default; w_i ∝ sequences) or `equal`. */
  readonly weighting?: Weighting;
  /** Eval loss on held-out sequences after every `every`-th round (default 1) and the last. */
  readonly evaluation?: { readonly sequences: readonly Sequence[]; readonly every?: number };
  /** Generation and metric after the last round. */
  readonly final?: FinalEvaluation;
  /** Saves after every round and resumes from what it holds. */
  readonly checkpoint?: CheckpointStore;
  /** Stop after this round (default `rounds`): an interrupted run, resumed later. */
  readonly until?: number;
  /** Peak GPU bytes so far (default: the storage buffers the engine has allocated, `gpu.peakBytes`). */
  readonly memory?: () => number;
  /**
   * Called with each round's record, the global model in place (awaited:
   * it may read or check the model before the next round starts).
   */
  readonly onRound?: (record: RoundRecord) => void | Promise<void>;
  /**
   * Clients handed to the algorithm's client hook per call (default: as
   * many as keep their updates within {@linkcode CLIENT_BATCH_BYTES}, at
   * least 1). The result does not depend on it; more per call trades GPU
   * memory (one update per client) for work per dispatch (FedAvg and
   * Ferret train a call's clients as one batch of models:
   * src/model/model_batch.ts).
   */
  readonly clientBatch?: number;
  /** Called as clients finish within a round. */
  readonly onProgress?: (update: { round: number; client: number; loss?: number }) => void;
}

/** What the simulator records for one round. */
export interface RoundRecord {
  /** Round, 1-based. */
  readonly round: number;
  /** The sampled clients, in sampling order. */
  readonly clients: readonly number[];
  /** Clients whose non-finite update was left out of the aggregate. */
  readonly dropped: readonly number[];
  /** Mean local training loss (the algorithm's report). */
  readonly trainLoss: number;
  /** Eval loss of the new global model, or null when not evaluated this round. */
  readonly evalLoss: number | null;
  /** ‖w‖ of the new global trainable vector. */
  readonly paramNorm: number;
  /** Wall seconds: local updates, global aggregation, evaluation, and the whole round. */
  readonly seconds: {
    readonly local: number;
    readonly aggregate: number;
    readonly evaluation: number;
    readonly round: number;
  };
  /** The ledger's totals for this round. */
  readonly communication: Totals;
  /** Scalars sent + received per participating client (the paper's per-round figure). */
  readonly perClient: number;
  /** Peak GPU bytes after the round, or null without a probe. */
  readonly peakGpuBytes: number | null;
  /**
   * Algorithm-specific numbers, means over the kept clients; the
   * algorithms that train clients as one batch of models
   * (src/model/model_batch.ts) report `batchedClients`, how many trained
   * together (1: one at a time).
   */
  readonly extra: Readonly<Record<string, number>>;
}

/** What {@linkcode simulate} returns. */
export interface SimulationResult {
  /** Every round's record, the resumed ones included. */
  readonly records: readonly RoundRecord[];
  /** Whether the run reached its last round (false when stopped by `until`). */
  readonly completed: boolean;
  /** Clients dropped over the whole run. */
  readonly droppedTotal: number;
  /** The final evaluation, when run. */
  readonly final: { readonly score: number; readonly generations: readonly string[] } | null;
  /** Every transfer of the run. */
  readonly ledger: CommunicationLedger;
}

/**
 * A run stopped because the global model stopped being finite.
 *
 * @example
 * ```ts
 * import { DivergenceError } from "./simulator.ts";
 * const error = new DivergenceError("Cannot continue the run: …", 3, 17);
 * console.log(error.name, error.round, error.client); // DivergenceError 3 17
 * ```
 */
export class DivergenceError extends Error {
  /** The round that produced it. */
  readonly round: number;
  /** The client with the largest update that round, or null if unknown. */
  readonly client: number | null;

  /** Builds the error. */
  constructor(message: string, round: number, client: number | null) {
    super(message);
    this.name = "DivergenceError";
    this.round = round;
    this.client = client;
  }
}

function validate(options: SimulationOptions): void {
  const { rounds, clients, seed } = options;
  if (!Number.isInteger(rounds) || rounds < 1) {
    throw new RangeError(`Cannot simulate ${rounds} rounds: expected an integer ≥ 1`);
  }
  const until = options.until ?? rounds;
  if (!Number.isInteger(until) || until < 0 || until > rounds) {
    throw new RangeError(`Cannot stop after round ${until}: expected 0 … ${rounds}`);
  }
  if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) {
    throw new RangeError(`Cannot simulate with seed ${seed}: expected a u32`);
  }
  if (clients.length === 0) throw new RangeError("Cannot simulate a federation of no clients");
  clients.forEach((c, i) => {
    if (c.id !== i) {
      throw new TypeError(
        `Cannot simulate: client at index ${i} has id ${c.id} (ids are 0 … N − 1)`,
      );
    }
    if (c.sequences.length === 0 && !(Number.isSafeInteger(c.samples) && c.samples! > 0)) {
      throw new RangeError(`Cannot simulate: client ${i} holds no sequence`);
    }
    c.sequences.forEach((s, j) => {
      if (!s.targets.some((t) => t !== -100)) {
        throw new RangeError(
          `Cannot simulate: sequence ${j} of client ${i} has no target (all −100), ` +
            "so its loss is undefined",
        );
      }
    });
  });
  const batch = options.clientBatch ?? 1;
  if (!Number.isInteger(batch) || batch < 1) {
    throw new RangeError(`Cannot hand clients to the algorithm ${batch} at a time`);
  }
  const every = options.evaluation?.every ?? 1;
  if (!Number.isInteger(every) || every < 1) {
    throw new RangeError(`Cannot evaluate every ${every} rounds: expected an integer ≥ 1`);
  }
}

/** What identifies a run, so a checkpoint of another run is never resumed. */
function fingerprint(options: SimulationOptions): string {
  const { algorithm, clients } = options;
  return JSON.stringify({
    algorithm: algorithm.id,
    trains: algorithm.trains,
    options: algorithm.options,
    seed: options.seed,
    rounds: options.rounds,
    participation: options.participation ?? null,
    weighting: options.weighting ?? "samples",
    clients: clients.map((c) => c.samples ?? c.sequences.reduce((s, q) => s + q.tokens.length, 0)),
    trainable: options.model.trainable.params.vector.length,
  });
}

/**
 * The streams of run `seed` (`fl/run/<name>`): what an algorithm's setup
 * draws from, the same in a simulation and on every party of a federation.
 */
export function runStreams(seed: number): RunStreams {
  return { stream: (name) => new RandomStream(seed, `fl/run/${name}`) };
}

/**
 * Round `round` of `rounds` of run `seed`, its streams `fl/round=<round>/<name>`.
 *
 * @example
 * ```ts
 * import { roundInfo } from "./simulator.ts";
 * const a = roundInfo(7, 2, 10).stream("client=3/order").u32();
 * const b = roundInfo(7, 2, 10).stream("client=3/order").u32();
 * console.log(a === b); // true
 * ```
 */
export function roundInfo(seed: number, round: number, rounds: number): RoundInfo {
  return { round, rounds, stream: (name) => new RandomStream(seed, `fl/round=${round}/${name}`) };
}

/** Mean eval loss over `sequences`, in calls of at most 64 (one readback each). */
async function evaluate(model: Transformer, sequences: readonly Sequence[]): Promise<number> {
  const losses: number[] = [];
  for (let i = 0; i < sequences.length; i += 64) {
    losses.push(...await model.losses(sequences.slice(i, i + 64)));
  }
  const { mean, counted } = evalLoss(losses);
  return counted === 0 ? NaN : mean;
}

/** What one round of {@linkcode runRound} yields, before evaluation. */
interface RoundOutcome {
  readonly trainLoss: number;
  readonly dropped: readonly number[];
  /** ‖Δ‖ per sampled client (NaN where unknown or not finite). */
  readonly updateNorms: readonly number[];
  readonly extra: Readonly<Record<string, number>>;
  readonly seconds: Readonly<Record<Phase, number>>;
}

/** Mean of the finite values (NaN when none is). */
function finiteMean(values: readonly number[]): number {
  const finite = values.filter(Number.isFinite);
  return finite.length ? finite.reduce((a, b) => a + b, 0) / finite.length : NaN;
}

/** Each per-client number averaged over the clients that report it. */
function meanExtras(extras: readonly Readonly<Record<string, number>>[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const key of new Set(extras.flatMap((e) => Object.keys(e)))) {
    const values = extras.flatMap((e) => (key in e ? [e[key]!] : []));
    out[key] = values.reduce((a, b) => a + b, 0) / values.length;
  }
  return out;
}

/** GPU bytes the updates of one call of the client hook may take by default. */
export const CLIENT_BATCH_BYTES = 256 * 2 ** 20;

/**
 * Clients per call of the client hook by default: as many updates of
 * `length` values as {@linkcode CLIENT_BATCH_BYTES} holds, at least one (a
 * paper-scale model: one at a time; a stand-in: every sampled client).
 */
export function defaultClientBatch(length: number): number {
  return Math.max(1, Math.floor(CLIENT_BATCH_BYTES / (4 * Math.max(1, length))));
}

/**
 * The round (the one loop every algorithm runs through): client work in
 * calls of `clientBatch` clients, each kept upload added with its weight
 * as it arrives, non-finite clients dropped and counted, the broadcast
 * applied to the global model, the ledger written, both phases timed.
 */
async function runRound(
  options: SimulationOptions,
  global: GpuVector,
  ledger: CommunicationLedger,
  info: RoundInfo,
  sampled: readonly ClientData[],
  weights: readonly number[],
): Promise<RoundOutcome> {
  const { model, algorithm } = options;
  const gpu = model.gpu;
  const params = model.trainable.params.vector;
  const seconds: Record<Phase, number> = { local: 0, aggregate: 0 };
  // A phase ends with a sync, so its GPU work is measured, not just recorded; adding one
  // upload does not (a sync costs ~10 ms on a software adapter): the GPU work of an add (at
  // most one pass over the update) finishes within the next client's timed work.
  const time = async <T>(phase: Phase, work: () => Promise<T>, settle = true): Promise<T> => {
    const start = performance.now();
    try {
      return await work();
    } finally {
      if (settle) await gpu.sync();
      seconds[phase] += (performance.now() - start) / 1000;
    }
  };
  // The GPU is idle here (simulate settles it before the first round, and every round ends by
  // reading ‖w‖ back), so the first phase times only its own work.
  params.copyTo(global);
  const aggregation = algorithm.aggregator(info);
  const batch = options.clientBatch ?? defaultClientBatch(params.length);
  const losses: number[] = [];
  const norms: number[] = [];
  const dropped: number[] = [];
  const extras: Readonly<Record<string, number>>[] = [];
  let weightTotal = 0;
  for (let first = 0; first < sampled.length; first += batch) {
    const clients = sampled.slice(first, first + batch);
    const outcomes = await time(
      "local",
      () => algorithm.train({ ...info, model, global, clients }),
    );
    if (outcomes.length !== clients.length) {
      throw new TypeError(
        `Cannot run round ${info.round}: ${algorithm.id} returned ${outcomes.length} outcomes ` +
          `for ${clients.length} clients`,
      );
    }
    for (const [j, outcome] of outcomes.entries()) {
      const client = clients[j]!.id;
      norms.push(outcome.updateNorm ?? NaN);
      const upload = outcome.upload;
      if (upload === null) {
        // The client's own check found its update not finite: it sends nothing.
        dropped.push(client);
      } else {
        losses.push(outcome.loss);
        if (outcome.extra) extras.push(outcome.extra);
        ledger.record({
          round: info.round,
          client,
          direction: "up",
          ...algorithm.uploadSize(upload),
        });
        const weight = weights[first + j]!;
        await time("aggregate", () => aggregation.add(upload, weight), false);
        weightTotal += weight;
      }
      options.onProgress?.({ round: info.round, client: first + j, loss: outcome.loss });
    }
  }
  let extra: Record<string, number> = meanExtras(extras);
  if (dropped.length < sampled.length) {
    await time("aggregate", async () => {
      const broadcast = await aggregation.finish(weightTotal);
      global.copyTo(params);
      extra = { ...extra, ...await algorithm.apply(broadcast, params, info) };
      const size = algorithm.broadcastSize(broadcast);
      for (const c of sampled) {
        ledger.record({ round: info.round, client: c.id, direction: "down", ...size });
      }
    });
  } else {
    global.copyTo(params);
  }
  return { trainLoss: finiteMean(losses), dropped, updateNorms: norms, extra, seconds };
}

/** The error for a global model that is no longer finite, naming the largest kept update. */
function divergence(
  round: number,
  ids: readonly number[],
  outcome: RoundOutcome,
  paramNorm: number,
  evalLossValue: number | null,
): DivergenceError {
  let culprit: number | null = null;
  let largest = -1;
  outcome.updateNorms.forEach((n, i) => {
    const kept = !outcome.dropped.includes(ids[i]!);
    const size = Number.isNaN(n) ? Infinity : n;
    if (kept && size > largest) {
      largest = size;
      culprit = ids[i]!;
    }
  });
  return new DivergenceError(
    `Cannot continue the run: after round ${round} the global model is not finite ` +
      `(‖w‖ = ${paramNorm}, eval loss ${evalLossValue}); ` +
      (culprit === null
        ? `clients ${ids.join(", ")} were aggregated`
        : `client ${culprit} sent the largest update (‖Δ‖ = ${largest})`),
    round,
    culprit,
  );
}

/**
 * Greedy generations of `model` (all prompts decoded together), scored:
 * the mean metric and the generated texts.
 *
 * @example
 * ```ts
 * import { evaluateGenerations } from "./simulator.ts";
 * import { Gpu } from "../gpu/gpu.ts";
 * import { PRESETS } from "../model/presets.ts";
 * import { Transformer } from "../model/transformer.ts";
 * const gpu = await Gpu.create();
 * const model = await Transformer.create(gpu, PRESETS.ci, { maxTokens: 8 });
 * const { generations } = await evaluateGenerations(model, {
 *   examples: [{ prompt: [256, 72], reference: "hi" }],
 *   decode: (ids) => ids.join(" "), metric: () => 1, maxNewTokens: 2,
 * });
 * console.log(generations.length); // 1
 * gpu.destroy();
 * ```
 */
export async function evaluateGenerations(
  model: Transformer,
  f: FinalEvaluation,
): Promise<{ score: number; generations: string[] }> {
  const outputs = await generateBatch(model, f.examples.map((example) => example.prompt), {
    maxNewTokens: f.maxNewTokens,
    ...(f.eos === undefined ? {} : { eos: f.eos }),
  });
  const generations = outputs.map((ids) => f.decode(ids));
  const sum = generations.reduce((s, text, i) => s + f.metric(text, f.examples[i]!.reference), 0);
  return { score: f.examples.length ? sum / f.examples.length : NaN, generations };
}

/**
 * Runs (or resumes) a federated run and returns its records.
 *
 * @example
 * ```ts
 * import { simulate } from "./simulator.ts";
 * import { fedAvg } from "./algorithms/fed_avg.ts";
 * import { Gpu } from "../gpu/gpu.ts";
 * import { PRESETS } from "../model/presets.ts";
 * import { Transformer } from "../model/transformer.ts";
 * const gpu = await Gpu.create();
 * const model = await Transformer.create(gpu, PRESETS.ci, { maxTokens: 8 });
 * const sequence = { tokens: new Int32Array([256, 72, 105]), targets: new Int32Array([72, 105, 257]) };
 * const clients = [0, 1].map((id) => ({ id, sequences: [sequence] }));
 * const algorithm = fedAvg({ local: { steps: 1, optimizer: { kind: "sgd", lr: 0.5 } } });
 * const result = await simulate({ model, algorithm, clients, rounds: 2, seed: 1 });
 * console.log(result.records.map((r) => r.clients.length)); // [ 2, 2 ]
 * algorithm.destroy();
 * gpu.destroy();
 * ```
 */
export async function simulate(options: SimulationOptions): Promise<SimulationResult> {
  validate(options);
  const { model, algorithm, clients, rounds, seed } = options;
  const until = options.until ?? rounds;
  if (model.train !== algorithm.trains) model.train = algorithm.trains;
  const participation = options.participation ?? { fraction: 1 };
  const weighting = options.weighting ?? "samples";
  const ledger = new CommunicationLedger();
  const records: RoundRecord[] = [];
  const print = fingerprint(options);
  const params = model.trainable.params;
  const tensorNorms = new BlockNorms(
    model.gpu,
    params.vector,
    params.layout.tensors.map((t) => ({ start: t.offset, length: t.numel })),
  );
  const global = params.vector.like("global model");
  await algorithm.setup(model, runStreams(seed));
  let done = 0;
  try {
    const saved = options.checkpoint ? await options.checkpoint.load() : null;
    if (saved) {
      const checkpoint = decodeCheckpoint(saved);
      if (checkpoint.fingerprint !== print) {
        throw new TypeError(
          "Cannot resume from the checkpoint: it belongs to another run " +
            `(saved ${checkpoint.fingerprint.slice(0, 120)}…, this run ${print.slice(0, 120)}…)`,
        );
      }
      params.vector.write(checkpoint.params);
      if (checkpoint.state) {
        if (!algorithm.loadState) {
          throw new TypeError(
            `Cannot resume ${algorithm.id}: the checkpoint holds server state it cannot load`,
          );
        }
        await algorithm.loadState(checkpoint.state);
      }
      for (const t of checkpoint.transfers) ledger.record(t);
      records.push(...(checkpoint.records as RoundRecord[]));
      done = checkpoint.round;
    }
    await model.gpu.sync(); // setup's and the checkpoint's work stay out of round 1's timing
    for (let round = done + 1; round <= until; round++) {
      const roundStart = performance.now();
      const ids = sampleClients(seed, round, clients.length, participation);
      const sampled = ids.map((i) => clients[i]!);
      const sizes = sampled.map((c) => c.samples ?? c.sequences.length);
      const weights = aggregationWeights(sizes, weighting);
      const info = roundInfo(seed, round, rounds);
      const outcome = await runRound(options, global, ledger, info, sampled, weights);
      const roundSeconds = (performance.now() - roundStart) / 1000;
      const evalStart = performance.now();
      const every = options.evaluation?.every ?? 1;
      const evalLossValue = options.evaluation && (round % every === 0 || round === rounds)
        ? await evaluate(model, options.evaluation.sequences)
        : null;
      const paramNorm = totalNorm(await tensorNorms.norms(params.vector));
      const evaluationSeconds = (performance.now() - evalStart) / 1000;
      if (
        !Number.isFinite(paramNorm) || (evalLossValue !== null && !Number.isFinite(evalLossValue))
      ) {
        throw divergence(round, ids, outcome, paramNorm, evalLossValue);
      }
      const record: RoundRecord = {
        round,
        clients: ids,
        dropped: outcome.dropped.slice(),
        trainLoss: outcome.trainLoss,
        evalLoss: evalLossValue,
        paramNorm,
        seconds: { ...outcome.seconds, evaluation: evaluationSeconds, round: roundSeconds },
        communication: ledger.round(round),
        perClient: ledger.perClientRound(round),
        peakGpuBytes: options.memory ? options.memory() : model.gpu.peakBytes,
        extra: outcome.extra,
      };
      records.push(record);
      done = round;
      await options.onRound?.(record);
      if (options.checkpoint) {
        await options.checkpoint.save(encodeCheckpoint({
          fingerprint: print,
          round,
          records,
          transfers: ledger.transfers,
          params: await params.vector.read(),
          state: algorithm.saveState ? await algorithm.saveState() : null,
        }));
      }
    }
    const final = done === rounds && options.final
      ? await evaluateGenerations(model, options.final)
      : null;
    return {
      records,
      completed: done === rounds,
      droppedTotal: records.reduce((s, r) => s + r.dropped.length, 0),
      final,
      ledger,
    };
  } finally {
    tensorNorms.destroy();
    global.destroy();
  }
}
