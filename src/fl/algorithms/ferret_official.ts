/**
 * Ferret as the released code runs it (paper.md §7 items 2–9):
 *
 * - **Seed pool** (item 5): K seeds drawn once per run and shared by every
 *   client, round and block. Here pool seed i is basis index i under one
 *   pool key drawn from the run stream `ferret/pool`: the bases of (seed i,
 *   block l) are `basis(key, l, i)` in the wire format of src/random/basis.ts.
 * - **Allocation** (item 4): K_l = max(⌊‖Δ_l‖ / max_l′ ‖Δ_l′‖ · K⌋, 2)
 *   (capped at K), so Σ K_l varies by client and round. The option
 *   `allocation` replaces this rule, and only it, by a fixed total Σ_l K_l
 *   split by one of the paper's rules (at most K per block): Fig. 4 compares
 *   allocation schemes at one budget on this Ferret (paper.md §4 Fig. 4).
 * - **Indices** (item 5): per block, K_l distinct pool indices drawn
 *   uniformly (Python's `random.sample`), from the stream
 *   `ferret/indices/client=<id>` of the round.
 * - **Scaling** (item 2): γ_{l,i} = ⟨Δ_l, v_{l,i}⟩ · d_l / K_l, not the
 *   paper's 1/(ρ_l K_l): the reconstruction's mean is d_l ρ_l Δ_l ≈ Δ_l / 3.
 * - **Aggregation** (item 7): pool[i, l] ← μ·pool[i, l] + Σ_c w_c γ_c[i, l],
 *   momentum μ (the script: 0), equal weights w_c = 1/m (`--equal_weight`).
 * - **Update** (item 8): for every seed i and block l, u = pool[i, l]·v_{l,i},
 *   skipped if not finite, clipped to ‖u‖ ≤ 10 (`clip_grad_norm_`:
 *   factor min(1, 10 / (‖u‖ + 10⁻⁶))), then w −= slr·u, the server learning
 *   rate constant or annealed (linearly or by cosine) from r − 1. The cost is
 *   O(K·d) per round, as in the code.
 *
 * The client here projects onto all K pool bases of every block in one
 * fused pass and keeps its K_l chosen ones (the same numbers at most
 * K·d / Σ K_l d_l times the code's client cost), with one readback.
 *
 * Blocks and the client-side rebuild: src/fl/algorithms/ferret_shared.ts.
 * The paper's Ferret is a separate implementation:
 * src/fl/algorithms/ferret_paper.ts.
 *
 * @module
 */

import type { Gpu } from "../../gpu/gpu.ts";
import type { GpuVector, Segment } from "../../gpu/vector.ts";
import type { Transformer } from "../../model/transformer.ts";
import {
  type AllocationRule,
  cappedAllocation,
  officialAllocation,
} from "../../projection/allocation.ts";
import { BasisPlan } from "../../projection/plan.ts";
import type { Distribution } from "../../random/basis.ts";
import type { RandomStream } from "../../random/stream.ts";
import type { MessageSize, RoundInfo, RunStreams } from "../types.ts";
import type { ClientUpdate } from "./client_update.ts";
import { FerretBase, type FerretCommonOptions } from "./ferret_shared.ts";
import { freshSeed } from "./ferret_paper.ts";

/** How the official server learning rate changes over rounds. */
export type Anneal = "none" | "linear" | "cosine";

/** Options of {@linkcode ferretOfficial}. */
export interface FerretOfficialOptions extends FerretCommonOptions {
  /** slr_min for annealing (default = `globalLr`, the code's slr_max). */
  readonly slrMin?: number;
  /** Annealing of the server learning rate (default `none`, the script's). */
  readonly anneal?: Anneal;
  /** Seed-pool momentum μ (default 0, the script's). */
  readonly momentum?: number;
  /** Per-seed per-block clip norm (default 10). */
  readonly clip?: number;
  /** Equal client weights, `--equal_weight` (default true, the script's). */
  readonly equalWeight?: boolean;
  /**
   * A fixed total Σ_l K_l = `total` split by `rule`, at most K per block,
   * instead of the code's rule (default: the code's).
   */
  readonly allocation?: FixedAllocation;
}

/** A fixed-total allocation of bases over the blocks. */
export interface FixedAllocation {
  /** How K_l follows the blocks. */
  readonly rule: AllocationRule;
  /** Σ_l K_l. */
  readonly total: number;
}

/** One client's upload in official mode. */
export interface OfficialMessage {
  /** Client id. */
  readonly client: number;
  /** K_l per block. */
  readonly counts: readonly number[];
  /** The chosen pool indices, block by block (block l's at Σ_{l'<l} K_l'). */
  readonly indices: Uint32Array;
  /** Their scaled coordinates γ_{l,i}·d_l/K_l, same order. */
  readonly coordinates: Float32Array;
}

/** What every client downloads in official mode: the aggregated pool [L × K], block-major. */
export interface OfficialDownload {
  /** pool[l·K + i]. */
  readonly pool: Float32Array;
  /** The server learning rate of this round. */
  readonly slr: number;
}

/**
 * The server learning rate of round r of R: slr_max, or annealed from
 * slr_max (r = 1) to slr_min (r = R) linearly or by a half cosine in r − 1.
 *
 * @example
 * ```ts
 * import { serverLearningRate } from "./ferret_official.ts";
 * console.log([1, 2, 3].map((r) => serverLearningRate("linear", 10, 2, r, 3))); // [ 10, 6, 2 ]
 * ```
 */
export function serverLearningRate(
  anneal: Anneal,
  max: number,
  min: number,
  round: number,
  rounds: number,
): number {
  const t = rounds > 1 ? (round - 1) / (rounds - 1) : 0;
  switch (anneal) {
    case "none":
      return max;
    case "linear":
      return max + (min - max) * t;
    case "cosine":
      return min + 0.5 * (max - min) * (1 + Math.cos(Math.PI * t));
    default:
      throw new TypeError(`Cannot anneal the server learning rate by "${anneal}"`);
  }
}

/**
 * K_l = min(K, max(⌊‖Δ_l‖/max‖Δ‖·K⌋, 2)), or `fixed`'s allocation over the
 * blocks of sizes `dims`, and K_l distinct pool indices per block.
 *
 * @example
 * ```ts
 * import { officialChoice } from "./ferret_official.ts";
 * import { RandomStream } from "../../random/stream.ts";
 * const { counts, indices } = officialChoice([1, 0.5, 0.01], 8, new RandomStream(1, "indices"));
 * console.log(counts, indices.length); // [ 8, 4, 2 ] 14
 * ```
 */
export function officialChoice(
  norms: readonly number[],
  K: number,
  stream: RandomStream,
  fixed?: FixedAllocation & { readonly dims: readonly number[] },
): { counts: number[]; indices: Uint32Array } {
  const counts = fixed
    ? cappedAllocation(fixed.rule, fixed.dims, fixed.total, K, norms)
    : officialAllocation(norms, K).map((k) => Math.min(k, K));
  const indices = new Uint32Array(counts.reduce((a, b) => a + b, 0));
  let at = 0;
  for (const k of counts) {
    indices.set(stream.sample(K, k), at);
    at += k;
  }
  return { counts, indices };
}

/**
 * The official code's effective coefficient of pool entry (i, l): u =
 * pool·v with ‖v‖ = `basisNorm` is skipped when not finite and clipped to
 * ‖u‖ ≤ `clip` (factor min(1, clip / (‖u‖ + 10⁻⁶)), as `clip_grad_norm_`).
 *
 * @example
 * ```ts
 * import { clippedCoefficient } from "./ferret_official.ts";
 * console.log(clippedCoefficient(50, 0.5, 10), clippedCoefficient(4, 0.5, 10)); // 19.9999992… 4
 * ```
 */
export function clippedCoefficient(pool: number, basisNorm: number, clip: number): number {
  const norm = Math.abs(pool) * basisNorm;
  if (!Number.isFinite(norm) || !Number.isFinite(pool)) return 0;
  return pool * Math.min(1, clip / (norm + 1e-6));
}

/**
 * Ferret as the released code runs it (see the module doc). Create it with
 * {@linkcode ferretOfficial}.
 *
 * @example
 * ```ts
 * import { FerretOfficial } from "./ferret_official.ts";
 * const algorithm = new FerretOfficial({ K: 8, local: { steps: 1, optimizer: { kind: "sgd", lr: 0.1 } } });
 * console.log(algorithm.options.clip, algorithm.options.equalWeight); // 10 true
 * ```
 */
export class FerretOfficial extends FerretBase<OfficialMessage, OfficialDownload> {
  /** `ferret-official`. */
  readonly id = "ferret-official";
  readonly #slrMin: number;
  readonly #anneal: Anneal;
  readonly #momentum: number;
  readonly #clip: number;
  readonly #equalWeight: boolean;
  readonly #allocation: FixedAllocation | undefined;
  #seeds: SeedPool | null = null;
  /** The momentum pool [L × K] carried across rounds (all zero with μ = 0). */
  #pool: Float32Array = new Float32Array(0);

  /** Use {@linkcode ferretOfficial}. */
  constructor(options: FerretOfficialOptions) {
    const globalLr = options.globalLr ?? 1;
    const specific = {
      slrMin: options.slrMin ?? globalLr,
      anneal: options.anneal ?? "none",
      momentum: options.momentum ?? 0,
      clip: options.clip ?? 10,
      equalWeight: options.equalWeight ?? true,
      ...(options.allocation ? { allocation: options.allocation } : {}),
    };
    super("official", options, specific);
    this.#slrMin = specific.slrMin;
    this.#anneal = specific.anneal;
    this.#momentum = specific.momentum;
    this.#clip = specific.clip;
    this.#equalWeight = specific.equalWeight;
    this.#allocation = options.allocation;
    const K = this.settings.K;
    if (!Number.isInteger(K) || K < 1) {
      throw new RangeError(`Cannot run Ferret (official mode) with K = ${K}`);
    }
    const total = this.#allocation?.total;
    if (total !== undefined && !(Number.isInteger(total) && total >= 1)) {
      throw new RangeError(`Cannot run Ferret (official mode) with Σ_l K_l = ${total}`);
    }
    if (!(this.#clip > 0) || !(this.#momentum >= 0 && this.#momentum < 1)) {
      throw new RangeError(
        `Cannot run Ferret (official mode) with clip ${this.#clip}, momentum ${this.#momentum}`,
      );
    }
    serverLearningRate(this.#anneal, globalLr, this.#slrMin, 1, 1); // validates the rule
  }

  /** The momentum pool [L × K] (a copy). */
  get pool(): Float32Array {
    return this.#pool.slice();
  }

  /** ‖v_{l,i}‖ of the pool bases, block-major (after setup). */
  get basisNorms(): Float64Array {
    if (!this.#seeds) throw new TypeError("Cannot read the pool's norms before setup");
    return this.#seeds.basisNorms;
  }

  /** Plans the blocks and draws the seed pool from the run stream `ferret/pool`. */
  async setup(model: Transformer, run: RunStreams): Promise<void> {
    const { blocks, clients } = this.prepare(model);
    const s = this.settings;
    const total = this.#allocation?.total ?? 0;
    if (total > s.K * blocks.length || total > 0 && total < blocks.length) {
      throw new RangeError(
        `Cannot split Σ_l K_l = ${total} bases over ${blocks.length} blocks with 1 to K = ${s.K} ` +
          "each: choose a total between L and K·L",
      );
    }
    this.#seeds = await SeedPool.draw(model.gpu, {
      blocks,
      K: s.K,
      distribution: s.distribution,
      key: freshSeed(run.stream("ferret/pool")),
      zero: clients.slots.slot(0),
    });
    this.#pool = new Float32Array(blocks.length * s.K);
  }

  /**
   * Items 2, 4, 5: allocation, K_l pool indices (stream
   * `ferret/indices/client=<id>`), the projection onto the pool scaled by d_l / K_l.
   */
  protected async encode(
    work: RoundInfo,
    client: number,
    update: ClientUpdate,
  ): Promise<OfficialMessage | null> {
    return this.#message(work, client, update, await this.#seeds!.project(update.delta));
  }

  /** {@linkcode FerretOfficial.encode} for every trained client, their projections read back together. */
  protected override async encodeAll(
    work: RoundInfo,
    ids: readonly number[],
    updates: readonly ClientUpdate[],
  ): Promise<(OfficialMessage | null)[]> {
    const trained = updates.flatMap((u, slot) => (u.finite ? [slot] : []));
    const projections = await this.#seeds!.projectMany(trained.map((slot) => updates[slot]!.delta));
    return updates.map((update, slot) => {
      const at = trained.indexOf(slot);
      return at < 0 ? null : this.#message(work, ids[slot]!, update, projections[at]!);
    });
  }

  /** A client's message from its update and its projection onto the whole pool. */
  #message(
    work: RoundInfo,
    client: number,
    update: ClientUpdate,
    all: Float32Array,
  ): OfficialMessage | null {
    const { blocks } = this.ready();
    const K = this.settings.K;
    const fixed = this.#allocation && { ...this.#allocation, dims: blocks.map((b) => b.length) };
    const { counts, indices } = officialChoice(
      update.norms,
      K,
      work.stream(`ferret/indices/client=${client}`),
      fixed,
    );
    const coordinates = officialCoordinates(all, blocks, K, counts, indices);
    if (!coordinates.every(Number.isFinite)) return null;
    return { client, counts, indices, coordinates };
  }

  /**
   * Item 7: pool[i, l] ← μ·pool[i, l] + Σ_c w_c γ_c[i, l], w_c = 1/m
   * (`--equal_weight`) or p_c; and the round's server learning rate.
   */
  protected combine(
    messages: readonly OfficialMessage[],
    weights: readonly number[],
    round: RoundInfo,
  ): OfficialDownload {
    this.#pool = aggregatePool(this.#pool, messages, {
      K: this.settings.K,
      momentum: this.#momentum,
      weights: this.#equalWeight ? messages.map(() => 1 / messages.length) : weights,
    });
    return this.downloadOf(this.#pool.slice(), round);
  }

  /**
   * The download of `round` for an aggregated `pool`, with the round's
   * server learning rate (a remote client rebuilds it from the pool it
   * receives: src/federation/codecs.ts).
   */
  downloadOf(pool: Float32Array, round: RoundInfo): OfficialDownload {
    const slrMax = this.settings.globalLr;
    return {
      pool,
      slr: serverLearningRate(this.#anneal, slrMax, this.#slrMin, round.round, round.rounds),
    };
  }

  /** The seed pool's Philox key (after setup): every party of a federation draws the same. */
  get poolKey(): number {
    if (!this.#seeds) throw new TypeError("Cannot read the seed pool's key before setup");
    return this.#seeds.key;
  }

  /** Item 8 onto `target`: target −= slr·Σ_{i,l} clip(pool[i,l]·v_{l,i}). */
  protected reconstruct(target: GpuVector, download: OfficialDownload): Promise<void> {
    return this.#seeds!.reconstruct(target, download.pool, -download.slr, this.#clip);
  }

  /** The round's server learning rate. */
  protected override serverNumbers(download: OfficialDownload): Record<string, number> {
    return { slr: download.slr };
  }

  /** Up: f32 coordinates with their u32 pool indices. */
  uploadSize(message: OfficialMessage): MessageSize {
    const n = message.coordinates.length;
    return { scalars: n, seeds: 0, bytes: 8 * n };
  }

  /** Down: the pool's non-zero entries (f32 value + u32 index each) and the pool key. */
  broadcastSize(download: OfficialDownload): MessageSize {
    const scalars = download.pool.reduce((n, v) => n + (v !== 0 ? 1 : 0), 0);
    return { scalars, seeds: 1, bytes: 8 + 8 * scalars };
  }

  /** The momentum pool. */
  protected override statePool(): Float32Array {
    return this.#pool;
  }

  /** Restores the momentum pool. */
  protected override restorePool(pool: Float32Array): void {
    if (pool.length === this.#pool.length) this.#pool = pool;
  }

  /** Frees the buffers. */
  override destroy(): void {
    super.destroy();
    this.#seeds?.destroy();
    this.#seeds = null;
  }
}

/**
 * Ferret as the released code runs it (paper.md §7).
 *
 * @example
 * ```ts
 * import { ferretOfficial } from "./ferret_official.ts";
 * const algorithm = ferretOfficial({
 *   K: 200, globalLr: 10,
 *   local: { steps: 10, nAccum: 4, optimizer: { kind: "sgd", lr: 1e-4 } },
 * });
 * console.log(algorithm.id); // ferret-official
 * ```
 */
export function ferretOfficial(options: FerretOfficialOptions): FerretOfficial {
  return new FerretOfficial(options);
}

/**
 * The coordinates a client sends (item 2): of the projections `all`
 * [L × K] onto every pool basis, the chosen ones, scaled by d_l / K_l.
 *
 * @example
 * ```ts
 * import { officialCoordinates } from "./ferret_official.ts";
 * const all = new Float32Array([1, 2, 3, 4]); // one block of d_l = 6, K = 4
 * console.log(officialCoordinates(all, [{ start: 0, length: 6 }], 4, [2], new Uint32Array([3, 1]))); // Float32Array(2) [ 12, 6 ]
 * ```
 */
export function officialCoordinates(
  all: Float32Array,
  blocks: readonly Segment[],
  K: number,
  counts: readonly number[],
  indices: Uint32Array,
): Float32Array {
  const coordinates = new Float32Array(indices.length);
  let at = 0;
  counts.forEach((k, l) => {
    const scale = blocks[l]!.length / k;
    for (let j = 0; j < k; j++, at++) coordinates[at] = all[l * K + indices[at]!]! * scale;
  });
  return coordinates;
}

/**
 * Item 7: the new pool [L × K], pool[l·K + i] ← μ·pool[l·K + i] + Σ_c w_c γ_c[i, l].
 *
 * @example
 * ```ts
 * import { aggregatePool } from "./ferret_official.ts";
 * const message = { client: 0, counts: [1], indices: new Uint32Array([1]), coordinates: new Float32Array([4]) };
 * console.log(aggregatePool(new Float32Array([2, 2]), [message], { K: 2, momentum: 0.5, weights: [0.5] })); // Float32Array(2) [ 1, 3 ]
 * ```
 */
export function aggregatePool(
  previous: Float32Array,
  messages: readonly OfficialMessage[],
  options: { readonly K: number; readonly momentum: number; readonly weights: readonly number[] },
): Float32Array {
  const pool = previous.map((v) => options.momentum * v);
  messages.forEach((m, c) => {
    const w = options.weights[c]!;
    let at = 0;
    m.counts.forEach((k, l) => {
      for (let j = 0; j < k; j++, at++) {
        const slot = l * options.K + m.indices[at]!;
        pool[slot] = pool[slot]! + w * m.coordinates[at]!;
      }
    });
  });
  return pool;
}

/**
 * The shared seed pool (item 5): K bases per block under one Philox key,
 * basis (l, i) = `basis(key, l, i)`, with every basis's norm ‖v_{l,i}‖
 * computed once for the clip of item 8.
 *
 * @example
 * ```ts
 * import { SeedPool } from "./ferret_official.ts";
 * import { Gpu } from "../../gpu/gpu.ts";
 * import { GpuVector } from "../../gpu/vector.ts";
 * const gpu = await Gpu.create();
 * const zero = GpuVector.from(gpu, new Float32Array(8));
 * const blocks = [{ start: 0, length: 8 }];
 * const pool = await SeedPool.draw(gpu, { blocks, K: 3, distribution: "rademacher", key: 5, zero });
 * console.log(pool.basisNorms.length); // 3
 * pool.destroy();
 * gpu.destroy();
 * ```
 */
export class SeedPool {
  /** The pool's Philox key. */
  readonly key: number;
  /** ‖v_{l,i}‖, block-major. */
  readonly basisNorms: Float64Array;
  readonly #gpu: Gpu;
  readonly #plan: BasisPlan;
  readonly #blocks: readonly Segment[];

  private constructor(
    gpu: Gpu,
    plan: BasisPlan,
    blocks: readonly Segment[],
    key: number,
    norms: Float64Array,
  ) {
    this.#gpu = gpu;
    this.#plan = plan;
    this.#blocks = blocks;
    this.key = key;
    this.basisNorms = norms;
  }

  /**
   * The pool of `K` bases per block of vectors shaped like `zero`: the norms
   * come from a zeroth-order projection of the zero vector with ε = 1,
   * which sums v² (one O(K·d) pass, one readback). `zero` is cleared.
   */
  static async draw(gpu: Gpu, options: {
    readonly blocks: readonly Segment[];
    readonly K: number;
    readonly distribution: Distribution;
    readonly key: number;
    readonly zero: GpuVector;
  }): Promise<SeedPool> {
    const { blocks, K, distribution, key, zero } = options;
    const plan = BasisPlan.create(gpu, {
      blocks,
      counts: blocks.map(() => K),
      distribution,
      vector: zero,
    });
    zero.clear();
    const squares = await plan.projectToArray(zero, key, { objective: "zo-square", eps: 1 });
    return new SeedPool(gpu, plan, blocks, key, Float64Array.from(squares, Math.sqrt));
  }

  /** ⟨Δ_l, v_{l,i}⟩ for every block and pool basis, [L × K] block-major (one readback). */
  project(delta: GpuVector): Promise<Float32Array> {
    return this.#plan.projectToArray(delta, this.key);
  }

  /** {@linkcode SeedPool.project} of several vectors, recorded together and read back once. */
  async projectMany(deltas: readonly GpuVector[]): Promise<Float32Array[]> {
    if (deltas.length <= 1) return Promise.all(deltas.map((d) => this.project(d)));
    const total = this.#plan.total;
    const out = this.#gpu.buffer(deltas.length * total * 4, "pool projections");
    try {
      for (const [b, delta] of deltas.entries()) {
        await this.#plan.project(delta, this.key, out, { outBase: b * total });
      }
      const all = new Float32Array(await this.#gpu.read(out, 0, deltas.length * total * 4));
      return deltas.map((_, b) => all.slice(b * total, (b + 1) * total));
    } finally {
      out.destroy();
    }
  }

  /** Item 8 onto `target`: target += scale·Σ_{i,l} clip(pool[l·K + i]·v_{l,i}). */
  async reconstruct(
    target: GpuVector,
    pool: Float32Array,
    scale: number,
    clip: number,
  ): Promise<void> {
    const gpu = this.#gpu;
    const coefficients = Float32Array.from(
      pool,
      (v, j) => clippedCoefficient(v, this.basisNorms[j]!, clip),
    );
    const buffer = gpu.upload(coefficients, "pool coefficients");
    const scales = gpu.upload(new Float32Array(this.#blocks.length).fill(scale), "pool scale");
    try {
      await this.#plan.reconstruct(target, this.key, buffer, { scales });
      await gpu.sync();
    } finally {
      buffer.destroy();
      scales.destroy();
    }
  }

  /** Frees the plan. */
  destroy(): void {
    this.#plan.destroy();
  }
}
