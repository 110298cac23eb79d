/**
 * FedKSeed (Qin et al., ICML 2024) and FedKSeed-Pro, as Ferret runs them
 * as a baseline (paper.md §6, §1.4; communication as in §3 Tables 4, 5, 10).
 *
 * - **Candidate seeds.** The server draws K seeds once (default 4096), each
 *   uniform in [1, 10¹¹) like the official `np.random.randint(1, 1e11, K)`,
 *   from the stream `fedkseed/candidates`: of `options.seed` when given,
 *   else the run's (`fl/run/fedkseed/candidates` of the run seed). They
 *   are drawn at setup and saved with the state; all clients and rounds
 *   share them. Seed s's direction z_s ~ N(0, I_d) is
 *   basis 0 of a one-block Gaussian plan over the whole trainable vector.
 * - **Local step** (`steps` per client, batch size 1): pick a candidate
 *   (uniformly, or by FedKSeed-Pro's probabilities), take the two-point
 *   central difference g = [L(w + εz) − L(w − εz)]/(2ε), ε = 5·10⁻⁴, update
 *   at once w ← w − η(g·z + wd·w), and add g to the client's K-entry
 *   accumulator. All of it is recorded on the GPU (src/fl/algorithms/_zo_step.ts):
 *   a step reads nothing back; a client's scalars come back once, at the end.
 * - **Upload / download**: the K accumulated scalars each way, 2K per client
 *   and round as the paper counts (8192 at K = 4096); the ledger records K
 *   scalars up and K down, and `extra.nonzeros` the entries a client
 *   actually touched (≤ `steps`). On the wire (src/federation/codecs.ts) a
 *   client sends its steps (index, g), 8 bytes each, and receives the K
 *   replay coefficients −η·pool[s] as f32.
 * - **Server**: adds the clients' weighted accumulators into a global
 *   accumulator that never decays, then rebuilds the global model from the
 *   initial parameters: w = w₀ − η Σ_s pool[s]·z_s, one pass generating the
 *   direction of every candidate whose pool entry is not zero, as
 *   FedKSeed's server does (O(K·d) once every candidate has been drawn;
 *   bit for bit the sum over all K), timed as the `aggregate` phase: the
 *   "Global Aggr." column of Tables 4, 5, 10. A client whose accumulator is not
 *   finite is dropped, and the weights of the others renormalised.
 *   `rebuild: "incremental"` instead adds this round's change of the pool
 *   to the round's starting model, generating only the directions of the
 *   seeds the round touched (≤ steps × clients): the same model up to f32
 *   rounding (checked in the tests), at a fraction of the cost, but not
 *   the cost the paper measures.
 * - **FedKSeed-Pro** (`sampling: "pro"`), as in FedKSeed's released code
 *   and its FATE port: every candidate keeps the history of the scalar
 *   gradients recorded for it, starting with one 0; at the start of a round
 *   a = mean(|clip(history, ±lossClip)|) per candidate (lossClip 0.5),
 *   a' = (a − min a)/(max a − min a + 10⁻¹⁰), and the round's sampling
 *   probabilities are softmax(a') at temperature 1 — so the most
 *   informative seed is at most e ≈ 2.72 times as likely as the least. The
 *   history holds every step's g of every client that was not dropped.
 *
 * Defaults are the paper's: η = 3·10⁻⁷ (for billion-parameter LLMs; a
 * small model needs a larger η to move at all within a few hundred steps),
 * 200 local steps, batch size 1, wd = 0, no gradient clipping.
 *
 * @module
 */

import type { GpuVector } from "../../gpu/vector.ts";
import type { Transformer } from "../../model/transformer.ts";
import { RandomStream } from "../../random/stream.ts";
import type {
  Aggregation,
  ClientOutcome,
  ClientWork,
  FederatedAlgorithm,
  MessageSize,
  RunStreams,
} from "../types.ts";
import { type AlgorithmProperties, FEDKSEED } from "./properties.ts";
import type { TrainMode } from "../../model/peft/adapter.ts";
import { drawIndex, seedProbabilities } from "./_kseed_sampling.ts";
import { REPLAY_SEEDS_PER_DISPATCH, replaySeeds, seedKeys } from "./_zo_replay.ts";
import { dataOrder, validateZoOptions, ZoClients, type ZoStepOptions } from "./_zo_step.ts";

export { seedProbabilities } from "./_kseed_sampling.ts";

/** How a local step picks its seed among the K candidates. */
export type SeedSampling = "uniform" | "pro";

/** Options of {@linkcode fedKSeed}. */
export interface FedKSeedOptions {
  /** K candidate seeds (default 4096, the official default and Ferret's setting). */
  readonly K?: number;
  /** Local learning rate η (default 3·10⁻⁷, paper.md §6). */
  readonly lr?: number;
  /** Perturbation ε (default 5·10⁻⁴, `zo_eps`). */
  readonly eps?: number;
  /** Local steps per client and round, batch size 1 (default 200). */
  readonly steps?: number;
  /** Weight decay wd on all tensors but the norms (default 0). */
  readonly weightDecay?: number;
  /** Skip a step whose |g| exceeds this (default 0: never). */
  readonly gradClip?: number;
  /** `uniform` (FedKSeed, default) or `pro` (FedKSeed-Pro). */
  readonly sampling?: SeedSampling;
  /** FedKSeed-Pro's clip of the historical |g| (default 0.5, `bias_loss_clip`). */
  readonly lossClip?: number;
  /** Seed of the candidate-seed stream (default: the run's stream, or 0 without one). */
  readonly seed?: number;
  /** Server update: `replay` (default, from w₀ over all K seeds) or `incremental`. */
  readonly rebuild?: "replay" | "incremental";
}

/** Resolved options of a {@linkcode FedKSeed} run. */
export type FedKSeedSettings = {
  /** K candidate seeds. */
  readonly K: number;
  /** Local learning rate η. */
  readonly lr: number;
  /** Perturbation ε. */
  readonly eps: number;
  /** Local steps per client and round. */
  readonly steps: number;
  /** Weight decay wd. */
  readonly weightDecay: number;
  /** |g| above which a step is skipped (0: never). */
  readonly gradClip: number;
  /** Seed sampling rule. */
  readonly sampling: SeedSampling;
  /** FedKSeed-Pro's clip of the historical |g|. */
  readonly lossClip: number;
  /** Seed of the candidate stream, or null for the run's stream. */
  readonly seed: number | null;
  /** Server update rule. */
  readonly rebuild: "replay" | "incremental";
};

/** What one client did in the last round (for checks and reports). */
export interface KSeedClientRecord {
  /** Client id. */
  readonly client: number;
  /** Candidate index of each step. */
  readonly seedIndices: readonly number[];
  /** Index into the client's sequences of each step. */
  readonly order: readonly number[];
  /** g of each step (0 where skipped). */
  readonly g: Float32Array;
  /** 1 where the step was skipped. */
  readonly skipped: Uint8Array;
  /** Whether its accumulator was left out of the aggregate. */
  readonly dropped: boolean;
}

function resolve(options: FedKSeedOptions): FedKSeedSettings {
  const s: FedKSeedSettings = {
    K: options.K ?? 4096,
    lr: options.lr ?? 3e-7,
    eps: options.eps ?? 5e-4,
    steps: options.steps ?? 200,
    weightDecay: options.weightDecay ?? 0,
    gradClip: options.gradClip ?? 0,
    sampling: options.sampling ?? "uniform",
    lossClip: options.lossClip ?? 0.5,
    seed: options.seed ?? null,
    rebuild: options.rebuild ?? "replay",
  };
  if (!Number.isInteger(s.K) || s.K < 1 || s.K > 2 ** 24) {
    throw new RangeError(`Cannot run FedKSeed with K = ${s.K}: expected 1 … 2²⁴ seeds`);
  }
  if (s.sampling !== "uniform" && s.sampling !== "pro") {
    throw new TypeError(`Cannot run FedKSeed with sampling "${s.sampling}": uniform or pro`);
  }
  if (s.rebuild !== "replay" && s.rebuild !== "incremental") {
    throw new TypeError(`Cannot run FedKSeed with rebuild "${s.rebuild}": replay or incremental`);
  }
  if (!(s.lossClip > 0 && Number.isFinite(s.lossClip))) {
    throw new RangeError(`Cannot run FedKSeed-Pro with lossClip ${s.lossClip}: expected > 0`);
  }
  if (s.seed !== null && (!Number.isInteger(s.seed) || s.seed < 0 || s.seed > 0xffffffff)) {
    throw new RangeError(`Cannot run FedKSeed with seed ${s.seed}: expected a u32`);
  }
  validateZoOptions("run FedKSeed", stepOptions(s));
  return s;
}

function stepOptions(s: FedKSeedSettings): ZoStepOptions {
  return {
    eps: s.eps,
    lr: s.lr,
    weightDecay: s.weightDecay,
    gradClip: s.gradClip,
    difference: "central",
    samples: 1,
    directions: 1,
    steps: s.steps,
  };
}

interface GpuState {
  readonly model: Transformer;
  /** The clients' zeroth-order steps. */
  readonly clients: ZoClients;
  /** w₀, which the server rebuilds from. */
  readonly initial: GpuVector;
  /** Coefficients of the directions a rebuild generates (capacity K). */
  readonly coefficients: GPUBuffer;
  /** Philox keys of those directions' seeds (capacity K). */
  readonly keys: GPUBuffer;
}

/** A client's upload: its K accumulated scalars, and the steps behind them (Pro's history). */
export interface KSeedUpload {
  /** Σ g per candidate over the client's steps. */
  readonly accumulator: Float64Array;
  /** Candidate index of each step. */
  readonly seedIndices: readonly number[];
  /** g of each step (0 where skipped). */
  readonly g: Float32Array;
  /** 1 where the step was skipped. */
  readonly skipped: Uint8Array;
}

/** What the server broadcasts: this round's change of the global accumulator. */
export interface KSeedBroadcast {
  /** Σ_i (w_i / W)·accumulator_i, per candidate. */
  readonly change: Float64Array;
}

/**
 * FedKSeed / FedKSeed-Pro (see the module doc). Create it with
 * {@linkcode fedKSeed}.
 *
 * @example
 * ```ts
 * import { FedKSeed } from "./fed_kseed.ts";
 * const algorithm = new FedKSeed({ K: 16 });
 * console.log(algorithm.id, algorithm.probabilities()[0]); // fedkseed 0.0625
 * ```
 */
export class FedKSeed implements FederatedAlgorithm<KSeedUpload, KSeedBroadcast> {
  /** `FedKSeed` or `FedKSeed-Pro`. */
  readonly name: string;
  /** `fedkseed` or `fedkseed-pro`. */
  readonly id: string;
  /** Full-parameter tuning. */
  readonly trains: TrainMode = "full";
  /** The resolved options. */
  readonly options: FedKSeedSettings;
  /** Table 1's declaration. */
  readonly properties: AlgorithmProperties = FEDKSEED;

  readonly #pool: Float64Array;
  readonly #historySum: Float64Array;
  readonly #historyCount: Float64Array;
  #gpu: GpuState | null = null;
  #candidates: readonly number[] = [];
  #last: KSeedClientRecord[] = [];
  #lastRound = 0;

  /** Use {@linkcode fedKSeed}. */
  constructor(options: FedKSeedOptions = {}) {
    this.options = Object.freeze(resolve(options));
    const pro = this.options.sampling === "pro";
    this.name = pro ? "FedKSeed-Pro" : "FedKSeed";
    this.id = pro ? "fedkseed-pro" : "fedkseed";
    const K = this.options.K;
    this.#pool = new Float64Array(K);
    this.#historySum = new Float64Array(K);
    this.#historyCount = new Float64Array(K).fill(1); // the initial 0 of every history
  }

  /** The K candidate seeds in [1, 10¹¹) (empty until setup draws them). */
  get candidates(): readonly number[] {
    return this.#candidates;
  }

  /** The global accumulator Σ_rounds Σ_clients weight·g per candidate (a copy). */
  get pool(): Float64Array<ArrayBuffer> {
    return this.#pool.slice();
  }

  /** What each client did in the last round. */
  get lastRound(): readonly KSeedClientRecord[] {
    return this.#last;
  }

  /** Mean |clip(history, ±lossClip)| per candidate (FedKSeed-Pro's scores). */
  historyMeans(): Float64Array<ArrayBuffer> {
    return this.#historySum.map((s, i) => s / this.#historyCount[i]!);
  }

  /** This round's sampling probability of each candidate. */
  probabilities(): Float64Array<ArrayBuffer> {
    if (this.options.sampling === "uniform") {
      return new Float64Array(this.options.K).fill(1 / this.options.K);
    }
    return seedProbabilities(this.historyMeans());
  }

  /**
   * Keeps w₀, resets the pool and draws the K candidates from the stream
   * `fedkseed/candidates`: of `options.seed` when given, else the run's.
   */
  setup(model: Transformer, run: RunStreams): Promise<void> {
    this.destroy();
    const gpu = model.gpu;
    const name = "fedkseed/candidates";
    const seed = this.options.seed;
    const stream = seed !== null ? new RandomStream(seed, name) : run.stream(name);
    this.#candidates = Object.freeze(
      Array.from(
        { length: this.options.K },
        () => 1 + Math.floor(stream.uniform() * (1e11 - 1)),
      ),
    );
    const initial = model.trainable.params.vector.like("fedkseed w0");
    model.trainable.params.vector.copyTo(initial);
    this.#gpu = {
      model,
      clients: new ZoClients(model, stepOptions(this.options)),
      initial,
      coefficients: gpu.buffer(4 * this.options.K, "fedkseed pool coefficients"),
      keys: gpu.buffer(8 * this.options.K, "fedkseed direction keys"),
    };
    this.#pool.fill(0);
    this.#historySum.fill(0);
    this.#historyCount.fill(1);
    return Promise.resolve();
  }

  #state(model?: Transformer): GpuState {
    const state = this.#gpu;
    if (!state) throw new TypeError("Cannot run a FedKSeed round before setup()");
    if (model && model !== state.model) {
      throw new TypeError("Cannot run a FedKSeed round on a model other than the one set up");
    }
    return state;
  }

  /** The round's CDF over the candidates (Pro), or null for uniform draws. */
  #cdf(): Float64Array | null {
    if (this.options.sampling !== "pro") return null;
    const p = this.probabilities();
    const cdf = new Float64Array(p.length);
    let acc = 0;
    p.forEach((v, i) => (cdf[i] = acc += v));
    return cdf;
  }

  /**
   * Local steps on every client from w: each picks its candidates from the
   * stream `client=<id>/seeds` and its data from `client=<id>/order`, and
   * uploads its K accumulated scalars.
   */
  async train(work: ClientWork): Promise<ClientOutcome<KSeedUpload>[]> {
    const { clients } = this.#state(work.model);
    const { K, steps } = this.options;
    const candidates = this.#candidates;
    const cdf = this.#cdf();
    if (work.round !== this.#lastRound) this.#last = [];
    this.#lastRound = work.round;
    const plans = work.clients.map((client) => {
      const seedStream = work.stream(`client=${client.id}/seeds`);
      const seedIndices = Array.from(
        { length: steps },
        () => cdf ? drawIndex(cdf, seedStream.uniform()) : seedStream.int(K),
      );
      const order = dataOrder(
        work.stream(`client=${client.id}/order`),
        client.sequences.length,
        steps,
      );
      return {
        seedIndices,
        order,
        seeds: seedIndices.map((s) => [candidates[s]!]),
        sequences: order.map((i) => [client.sequences[i]!]),
      };
    });
    const results = await clients.run(work.global, plans);
    return work.clients.map((client, c) => {
      const { seedIndices, order } = plans[c]!;
      const result = results[c]!;
      const accumulator = new Float64Array(K);
      const touched = new Set<number>();
      let skippedSteps = 0;
      for (let t = 0; t < steps; t++) {
        if (result.skipped[t]) {
          skippedSteps++;
          continue;
        }
        accumulator[seedIndices[t]!]! += result.g[t]!;
        touched.add(seedIndices[t]!);
      }
      const dropped = !accumulator.every(Number.isFinite);
      this.#last.push({
        client: client.id,
        seedIndices,
        order,
        g: result.g,
        skipped: result.skipped,
        dropped,
      });
      const finite = Array.from(result.losses).filter(Number.isFinite);
      return {
        upload: dropped ? null : { accumulator, seedIndices, g: result.g, skipped: result.skipped },
        loss: finite.length ? finite.reduce((a, b) => a + b, 0) / finite.length : NaN,
        extra: { nonzeros: touched.size, skippedSteps, batchedClients: result.batchedClients },
      };
    });
  }

  /**
   * The change of the global accumulator, Σ_i (w_i / W)·accumulator_i,
   * added to the pool; Pro's histories get every kept step's g.
   */
  aggregator(): Aggregation<KSeedUpload, KSeedBroadcast> {
    const uploads: { upload: KSeedUpload; weight: number }[] = [];
    return {
      add: (upload, weight) => {
        uploads.push({ upload, weight });
        return Promise.resolve();
      },
      finish: (weightTotal) => {
        const change = new Float64Array(this.options.K);
        for (const { upload, weight } of uploads) {
          const w = weight / weightTotal;
          upload.accumulator.forEach((g, s) => (change[s]! += w * g));
        }
        change.forEach((c, s) => (this.#pool[s]! += c));
        const clip = this.options.lossClip;
        for (const { upload } of uploads) {
          upload.seedIndices.forEach((s, t) => {
            if (upload.skipped[t]) return;
            this.#historySum[s]! += Math.min(clip, Math.abs(upload.g[t]!));
            this.#historyCount[s]!++;
          });
        }
        return Promise.resolve({ change });
      },
    };
  }

  /**
   * The server's rebuild: w ← w₀ − η Σ_s pool[s]·z_s in one pass
   * ({@linkcode FedKSeed.replay}: `replay`), or w ← w − η Σ_s change[s]·z_s
   * over the seeds this round touched (`incremental`). The record's `seeds`
   * counts the directions generated.
   */
  async apply(broadcast: KSeedBroadcast, global: GpuVector): Promise<Record<string, number>> {
    if (this.options.rebuild === "incremental") {
      const lr = this.options.lr;
      const coefficients = Float32Array.from(broadcast.change, (c) => -lr * c);
      return { seeds: await this.#addDirections(coefficients, global) };
    }
    return { seeds: await this.replay(this.replayCoefficients(), global) };
  }

  /**
   * The replay's coefficients −η·pool[s] per candidate (f32): all a remote
   * client needs, with w₀ and the candidates, to rebuild the global model
   * (src/federation/codecs.ts).
   */
  replayCoefficients(): Float32Array {
    const lr = this.options.lr;
    return Float32Array.from(this.#pool, (g) => -lr * g);
  }

  /**
   * `global` ← w₀ + Σ_s coefficients[s]·z_s in one pass over the vector,
   * generating the directions of the candidates whose coefficient is not
   * zero — FedKSeed's server skips the others too (`if grad != 0`): they
   * add nothing. They are taken in the order, and split into dispatches
   * where, all K would be (REPLAY_SEEDS_PER_DISPATCH), so the model is bit
   * for bit the one all K give: a skipped term would add ±0 to the sum.
   * Returns how many directions it generated.
   */
  async replay(coefficients: Float32Array, global: GpuVector): Promise<number> {
    const state = this.#state();
    const K = this.options.K;
    if (coefficients.length !== K) {
      throw new RangeError(
        `Cannot replay ${coefficients.length} coefficients over K = ${K} candidates`,
      );
    }
    state.initial.copyTo(global);
    return await this.#addDirections(coefficients, global);
  }

  /**
   * `global` += Σ_s coefficients[s]·z_s over the candidates whose coefficient
   * is not zero, in the candidates' order and dispatches (see
   * {@linkcode FedKSeed.replay}); returns how many directions it generated.
   */
  async #addDirections(coefficients: Float32Array, global: GpuVector): Promise<number> {
    const state = this.#state();
    const gpu = state.model.gpu;
    const K = this.options.K;
    let generated = 0;
    for (let first = 0; first < K; first += REPLAY_SEEDS_PER_DISPATCH) {
      const live: number[] = [];
      for (let s = first; s < Math.min(K, first + REPLAY_SEEDS_PER_DISPATCH); s++) {
        if (coefficients[s] !== 0) live.push(s);
      }
      if (live.length === 0) continue;
      gpu.write(state.keys, seedKeys(live.map((s) => this.#candidates[s]!)));
      gpu.write(state.coefficients, Float32Array.from(live, (s) => coefficients[s]!));
      await replaySeeds(global, state.keys, state.coefficients, live.length);
      generated += live.length;
    }
    return generated;
  }

  /**
   * K scalars up, as the paper counts them; encoded as the client's steps
   * (candidate index and g, 8 bytes each: src/federation/codecs.ts), from
   * which the server adds up the same K scalars.
   */
  uploadSize(upload: KSeedUpload): MessageSize {
    return { scalars: this.options.K, seeds: 0, bytes: 8 * upload.seedIndices.length };
  }

  /** K scalars down. */
  broadcastSize(): MessageSize {
    return { scalars: this.options.K, seeds: 0 };
  }

  /** The pool and the Pro histories (JSON; the model is rebuilt from them and w₀). */
  saveState(): Promise<Uint8Array> {
    const json = JSON.stringify({
      id: this.id,
      candidates: this.#candidates,
      pool: Array.from(this.#pool),
      historySum: Array.from(this.#historySum),
      historyCount: Array.from(this.#historyCount),
    });
    return Promise.resolve(new TextEncoder().encode(json));
  }

  /** Restores {@linkcode FedKSeed.saveState}'s output (after `setup`). */
  loadState(state: Uint8Array): Promise<void> {
    const parsed = JSON.parse(new TextDecoder().decode(state));
    const K = this.options.K;
    for (const key of ["pool", "historySum", "historyCount"]) {
      if (!Array.isArray(parsed[key]) || parsed[key].length !== K) {
        throw new TypeError(`Cannot load FedKSeed state: "${key}" is not ${K} numbers`);
      }
    }
    if (parsed.id !== this.id) {
      throw new TypeError(`Cannot load FedKSeed state saved by "${parsed.id}" into "${this.id}"`);
    }
    if (parsed.candidates !== null) {
      if (
        !Array.isArray(parsed.candidates) || parsed.candidates.length !== K ||
        !parsed.candidates.every((c: unknown) => Number.isSafeInteger(c))
      ) {
        throw new TypeError(`Cannot load FedKSeed state: "candidates" is not ${K} integers`);
      }
      this.#candidates = Object.freeze(parsed.candidates.slice());
    }
    this.#pool.set(parsed.pool);
    this.#historySum.set(parsed.historySum);
    this.#historyCount.set(parsed.historyCount);
    return Promise.resolve();
  }

  /** Frees the GPU buffers. */
  destroy(): void {
    const s = this.#gpu;
    if (!s) return;
    s.clients.destroy();
    s.initial.destroy();
    s.coefficients.destroy();
    s.keys.destroy();
    this.#gpu = null;
  }
}

/**
 * FedKSeed (default) or FedKSeed-Pro (`sampling: "pro"`), see the module
 * doc: paper.md §6.
 *
 * @example
 * ```ts
 * import { fedKSeed } from "./fed_kseed.ts";
 * const algorithm = fedKSeed({ K: 1024, sampling: "pro" });
 * console.log(algorithm.name, algorithm.options.lr, algorithm.options.K); // FedKSeed-Pro 3e-7 1024
 * ```
 */
export function fedKSeed(options: FedKSeedOptions = {}): FedKSeed {
  return new FedKSeed(options);
}
