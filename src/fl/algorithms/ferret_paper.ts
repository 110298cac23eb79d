/**
 * Ferret as the paper writes it (paper.md §1.2–1.3, Algorithm 1, Eqs. 2,
 * 6–8): each client draws a fresh seed s, allocates Σ_l K_l = K bases over
 * the blocks by a rule (the experiments' ‖Δ_l‖, by default), projects its
 * update block by block,
 *
 *     γ_l = (ρ_l K_l)⁻¹ V_lᵀ Δ_l                                    (8)
 *
 * (or solves Eq. 5 exactly for small d), and sends (s, K_l's, γ). The
 * reconstruction V_l γ_l is unbiased (Thm 1). Everyone then applies
 *
 *     w_r = w_{r−1} − η_g Σ_i p_i Σ_l V_l^(i) γ_l^(i)                (2)
 *
 * with the optional global learning rate η_g (the experiments' "global
 * aggregation learning rate"; Eq. 2 as printed has η_g = 1 and p_i = 1/N).
 *
 * What travels: up 1 seed, the L counts and Σ_l K_l coordinates; down, as
 * Algorithm 1 line 4 receives them, every aggregated client's seed, counts
 * and coordinates (seeds are distinct, so the server cannot sum them).
 *
 * Random streams of round r: the fresh seed from `ferret/seed/client=<id>`,
 * the data order from `client=<id>/order`. Blocks and the client-side
 * rebuild: src/fl/algorithms/_ferret_shared.ts. The released code's variant
 * is a separate implementation: src/fl/algorithms/ferret_official.ts.
 *
 * @module
 */

import type { Gpu } from "../../gpu/gpu.ts";
import type { GpuVector } from "../../gpu/vector.ts";
import type { TrainMode } from "../../model/peft/adapter.ts";
import type { Transformer } from "../../model/transformer.ts";
import { allocateBases, type AllocationRule } from "../../projection/allocation.ts";
import type { Block } from "../../projection/blocks.ts";
import type { Distribution } from "../../random/basis.ts";
import { BasisPlan } from "../../projection/plan.ts";
import type { Segment } from "../../gpu/vector.ts";
import type {
  Aggregation,
  ClientOutcome,
  ClientWork,
  FederatedAlgorithm,
  MessageSize,
  RoundInfo,
} from "../types.ts";
import { type ClientUpdate, ClientUpdates } from "./_client_update.ts";
import {
  ClientRebuild,
  commonSettings,
  type FerretCommonOptions,
  type FerretCommonSettings,
  loadFerretState,
  recordedSettings,
  saveFerretState,
  trainableBlocks,
} from "./_ferret_shared.ts";
import { leastSquaresCoordinates } from "./ferret_least_squares.ts";
import { type AlgorithmProperties, FERRET } from "./properties.ts";

/** Options of {@linkcode ferretPaper}. */
export interface FerretPaperOptions extends FerretCommonOptions {
  /** The allocation rule of Σ_l K_l = K (default `norm`, the experiments'). */
  readonly allocation?: AllocationRule;
  /** Exact least squares, Eq. 5 (small d only). */
  readonly leastSquares?: boolean;
}

/** One client's upload in paper mode. */
export interface PaperMessage {
  /** Client id. */
  readonly client: number;
  /** The fresh seed s^(j) (53 bits). */
  readonly seed: number;
  /** K_l per block. */
  readonly counts: readonly number[];
  /** γ, block by block (block l's at Σ_{l'<l} K_l'). */
  readonly coordinates: Float32Array;
}

/** What every client downloads in paper mode: the messages and their weights. */
export interface PaperDownload {
  /** The aggregated messages. */
  readonly messages: readonly PaperMessage[];
  /** Their weights p_i (renormalised over the kept clients). */
  readonly weights: readonly number[];
}

/**
 * K_l per block for paper mode: the rule's allocation with Σ K_l = K; with
 * exact least squares K_l is capped at d_l (more bases than dimensions add
 * nothing to the span, and Eq. 5 needs K_l ≤ d_l).
 *
 * @example
 * ```ts
 * import { paperCounts } from "./ferret_paper.ts";
 * console.log(paperCounts([{ start: 0, length: 10 }, { start: 10, length: 4 }], [3, 1], 8, "norm", false)); // [ 6, 2 ]
 * ```
 */
export function paperCounts(
  blocks: readonly Segment[],
  norms: readonly number[],
  K: number,
  rule: AllocationRule,
  leastSquares: boolean,
): number[] {
  const counts = allocateBases(rule, blocks.map((b) => b.length), K, norms);
  return leastSquares ? counts.map((k, l) => Math.min(k, blocks[l]!.length)) : counts;
}

/**
 * A fresh 53-bit seed from a stream's next two words (low word first).
 *
 * @example
 * ```ts
 * import { freshSeed } from "./ferret_paper.ts";
 * import { RandomStream } from "../../random/stream.ts";
 * const seed = freshSeed(new RandomStream(1, "seed"));
 * console.log(Number.isSafeInteger(seed)); // true
 * ```
 */
export function freshSeed(stream: { u32(): number }): number {
  const lo = stream.u32();
  const hi = stream.u32() & 0x1fffff;
  return hi * 2 ** 32 + lo;
}

interface Prepared {
  readonly model: Transformer;
  readonly blocks: readonly Block[];
  readonly clients: ClientUpdates;
  readonly scratch: GpuVector;
  readonly rebuild: ClientRebuild | null;
}

/**
 * Ferret as the paper writes it (see the module doc). Create it with
 * {@linkcode ferretPaper}.
 *
 * @example
 * ```ts
 * import { FerretPaper } from "./ferret_paper.ts";
 * const algorithm = new FerretPaper({ K: 64, local: { steps: 1, optimizer: { kind: "sgd", lr: 0.1 } } });
 * console.log(algorithm.options.allocation, algorithm.blocks.length); // norm 0 (blocks come with setup)
 * ```
 */
export class FerretPaper implements FederatedAlgorithm<PaperMessage, PaperDownload> {
  /** `Ferret (ours)`. */
  readonly name = "Ferret (ours)";
  /** `ferret-paper`. */
  readonly id = "ferret-paper";
  /** What trains and travels. */
  readonly trains: TrainMode;
  /** The resolved options. */
  readonly options: Readonly<Record<string, unknown>>;
  /** Table 1's declaration. */
  readonly properties: AlgorithmProperties = FERRET;
  readonly #settings: FerretCommonSettings;
  readonly #allocation: AllocationRule;
  readonly #leastSquares: boolean;
  #prepared: Prepared | null = null;
  #lastMessages: PaperMessage[] = [];

  /** Use {@linkcode ferretPaper}. */
  constructor(options: FerretPaperOptions) {
    this.#settings = commonSettings(options, "Ferret (paper mode)");
    this.#allocation = options.allocation ?? "norm";
    this.#leastSquares = options.leastSquares ?? false;
    this.trains = this.#settings.trains;
    this.options = recordedSettings("paper", this.#settings, {
      allocation: this.#allocation,
      leastSquares: this.#leastSquares,
    });
  }

  /** The blocks (after setup). */
  get blocks(): readonly Block[] {
    return this.#prepared?.blocks ?? [];
  }

  /** The messages the server aggregated in the last round. */
  get lastMessages(): readonly PaperMessage[] {
    return this.#lastMessages;
  }

  /** Plans the blocks; checks K ≥ L. */
  setup(model: Transformer): Promise<void> {
    this.destroy();
    const s = this.#settings;
    if (model.train !== s.trains) model.train = s.trains;
    const blocks = trainableBlocks(model, s.grouping, s.groupMultiplier);
    if (!Number.isInteger(s.K) || s.K < blocks.length) {
      throw new RangeError(
        `Cannot run Ferret (paper mode) with K = ${s.K}: Σ K_l = K needs K ≥ L = ${blocks.length}`,
      );
    }
    const clients = new ClientUpdates(model, s.local, blocks);
    this.#prepared = {
      model,
      blocks,
      clients,
      scratch: model.trainable.params.vector.like("least-squares scratch"),
      rebuild: s.rebuild === "client" ? new ClientRebuild(model, s.rebuildTolerance) : null,
    };
    return Promise.resolve();
  }

  #ready(): Prepared {
    if (!this.#prepared) throw new TypeError("Cannot run a Ferret round before setup");
    return this.#prepared;
  }

  /** Steps 2–3 on every client: local training, then seed, allocation and Eq. (8) (one readback). */
  async train(work: ClientWork): Promise<ClientOutcome<PaperMessage>[]> {
    const { clients, rebuild } = this.#ready();
    const outcomes: ClientOutcome<PaperMessage>[] = [];
    for (const [slot, client] of work.clients.entries()) {
      const update = await clients.train(work, client, slot, rebuild?.model ?? work.global);
      const message = update.finite ? await this.#encode(work, client.id, update) : null;
      outcomes.push({
        upload: message,
        loss: update.local.meanLoss,
        updateNorm: update.norm,
        ...(message ? { extra: { coordinates: message.coordinates.length } } : {}),
      });
    }
    return outcomes;
  }

  /** Seed, allocation, projection: the message, or null if not finite. */
  async #encode(
    work: RoundInfo,
    client: number,
    update: ClientUpdate,
  ): Promise<PaperMessage | null> {
    const { model, blocks, scratch } = this.#ready();
    const s = this.#settings;
    const counts = paperCounts(blocks, update.norms, s.K, this.#allocation, this.#leastSquares);
    const seed = freshSeed(work.stream(`ferret/seed/client=${client}`));
    const coordinates = await paperCoordinates(model.gpu, {
      blocks,
      counts,
      distribution: s.distribution,
      delta: update.delta,
      seed,
      leastSquares: this.#leastSquares ? scratch : null,
    });
    return coordinates.every(Number.isFinite) ? { client, seed, counts, coordinates } : null;
  }

  /** The server relays the messages with their renormalised weights p_i = w_i / W. */
  aggregator(): Aggregation<PaperMessage, PaperDownload> {
    const messages: PaperMessage[] = [];
    const weights: number[] = [];
    return {
      add: (message, weight) => {
        messages.push(message);
        weights.push(weight);
        return Promise.resolve();
      },
      finish: (weightTotal) => {
        this.#lastMessages = messages;
        return Promise.resolve({ messages, weights: weights.map((w) => w / weightTotal) });
      },
    };
  }

  /** Eq. (2) on the global model (and on the clients' copy under `rebuild: "client"`). */
  async apply(
    download: PaperDownload,
    global: GpuVector,
    round: RoundInfo,
  ): Promise<Record<string, number>> {
    const { model, blocks, rebuild } = this.#ready();
    const { distribution, globalLr } = this.#settings;
    const apply = (target: GpuVector) =>
      paperReconstruct(model.gpu, { blocks, distribution, globalLr, target, download });
    await apply(global);
    return rebuild ? { rebuildError: await rebuild.rebuild(apply, global, round.round) } : {};
  }

  /** Up: 1 seed (8 bytes), the L counts (4 bytes each), Σ_l K_l f32 coordinates. */
  uploadSize(message: PaperMessage): MessageSize {
    const n = message.coordinates.length;
    return { scalars: n, seeds: 1, bytes: 8 + 4 * message.counts.length + 4 * n };
  }

  /** Down: every aggregated message. */
  broadcastSize(download: PaperDownload): MessageSize {
    const L = this.#ready().blocks.length;
    const scalars = download.messages.reduce((s, m) => s + m.coordinates.length, 0);
    const seeds = download.messages.length;
    return { scalars, seeds, bytes: 8 * seeds + 4 * L * seeds + 4 * scalars };
  }

  /** The clients' copy under `rebuild: "client"`. */
  saveState(): Promise<Uint8Array> {
    return saveFerretState(new Float32Array(0), this.#prepared?.rebuild ?? null);
  }

  /** Restores {@linkcode FerretPaper.saveState}'s output. */
  loadState(state: Uint8Array): Promise<void> {
    loadFerretState(state, this.#prepared?.rebuild ?? null);
    return Promise.resolve();
  }

  /** Frees the buffers. */
  destroy(): void {
    const p = this.#prepared;
    if (!p) return;
    p.clients.destroy();
    p.scratch.destroy();
    p.rebuild?.destroy();
    this.#prepared = null;
  }
}

/**
 * Ferret in paper mode (paper.md §1.2–1.3, Algorithm 1).
 *
 * @example
 * ```ts
 * import { ferretPaper } from "./ferret_paper.ts";
 * const algorithm = ferretPaper({
 *   K: 4096, globalLr: 1, allocation: "norm",
 *   local: { steps: 10, nAccum: 4, optimizer: { kind: "sgd", lr: 1e-4 } },
 * });
 * console.log(algorithm.id); // ferret-paper
 * ```
 */
export function ferretPaper(options: FerretPaperOptions): FerretPaper {
  return new FerretPaper(options);
}

/**
 * Eq. (8) for one client: the coordinates γ_l = (ρ_l K_l)⁻¹ V_lᵀ Δ_l of
 * `delta` on the `counts[l]` bases of `seed` per block (block l's at
 * Σ_{l'<l} K_l'), or Eq. (5)'s exact least squares when given a scratch
 * vector shaped like `delta`. One readback.
 *
 * @example
 * ```ts
 * import { paperCoordinates } from "./ferret_paper.ts";
 * import { Gpu } from "../../gpu/gpu.ts";
 * import { GpuVector } from "../../gpu/vector.ts";
 * const gpu = await Gpu.create();
 * const delta = GpuVector.from(gpu, new Float32Array([1, -2, 3, 0.5]));
 * const blocks = [{ start: 0, length: 4 }];
 * const options = { blocks, counts: [3], distribution: "truncnormal" as const, delta, seed: 7 };
 * const gamma = await paperCoordinates(gpu, { ...options, leastSquares: null });
 * console.log(gamma.length); // 3
 * gpu.destroy();
 * ```
 */
export async function paperCoordinates(gpu: Gpu, options: {
  readonly blocks: readonly Segment[];
  readonly counts: readonly number[];
  readonly distribution: Distribution;
  readonly delta: GpuVector;
  readonly seed: number;
  readonly leastSquares: GpuVector | null;
}): Promise<Float32Array> {
  const { blocks, counts, distribution, delta, seed } = options;
  const plan = BasisPlan.create(gpu, { blocks, counts, distribution, vector: delta });
  try {
    if (options.leastSquares) {
      return await leastSquaresCoordinates(plan, delta, seed, options.leastSquares);
    }
    const coordinates = await plan.projectToArray(delta, seed);
    const scales = plan.paperScales();
    counts.forEach((k, l) => {
      const first = plan.offsets[l]!;
      for (let j = 0; j < k; j++) coordinates[first + j] = coordinates[first + j]! * scales[l]!;
    });
    return coordinates;
  } finally {
    plan.destroy();
  }
}

/**
 * Eq. (2) onto `target` (which holds the previous global model):
 * target −= η_g Σ_i p_i V^(i) γ^(i), rebuilding each basis from its seed.
 *
 * @example
 * ```ts
 * import { paperReconstruct } from "./ferret_paper.ts";
 * import { Gpu } from "../../gpu/gpu.ts";
 * import { GpuVector } from "../../gpu/vector.ts";
 * const gpu = await Gpu.create();
 * const target = GpuVector.from(gpu, new Float32Array(4));
 * const message = { client: 0, seed: 7, counts: [1], coordinates: new Float32Array([0]) };
 * const download = { messages: [message], weights: [1] };
 * const blocks = [{ start: 0, length: 4 }];
 * await paperReconstruct(gpu, { blocks, distribution: "truncnormal", globalLr: 1, target, download });
 * console.log(await target.read()); // Float32Array(4) [ 0, 0, 0, 0 ] (a zero coordinate moves nothing)
 * gpu.destroy();
 * ```
 */
export async function paperReconstruct(gpu: Gpu, options: {
  readonly blocks: readonly Segment[];
  readonly distribution: Distribution;
  readonly globalLr: number;
  readonly target: GpuVector;
  readonly download: PaperDownload;
}): Promise<void> {
  const { blocks, distribution, globalLr, target, download } = options;
  const plans: BasisPlan[] = [];
  try {
    for (const [i, message] of download.messages.entries()) {
      const weight = download.weights[i]!;
      const plan = BasisPlan.create(gpu, {
        blocks,
        counts: message.counts,
        distribution,
        vector: target,
      });
      plans.push(plan);
      const coefficients = plan.coordinateBuffer();
      gpu.write(coefficients, message.coordinates);
      const scales = plan.scaleBuffer(blocks.map(() => -globalLr * weight));
      await plan.reconstruct(target, message.seed, coefficients, { scales });
    }
    await gpu.sync();
  } finally {
    for (const plan of plans) plan.destroy();
  }
}
