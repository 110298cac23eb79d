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
 * and coordinates (seeds are distinct, so the server cannot sum them) with
 * its weight p_i.
 *
 * Random streams of round r: the fresh seed from `ferret/seed/client=<id>`,
 * the data order from `client=<id>/order`. Blocks and the client-side
 * rebuild: src/fl/algorithms/ferret_shared.ts. The released code's variant
 * is a separate implementation: src/fl/algorithms/ferret_official.ts.
 *
 * @module
 */

import type { Gpu } from "../../gpu/gpu.ts";
import type { GpuVector, Segment } from "../../gpu/vector.ts";
import type { Transformer } from "../../model/transformer.ts";
import { allocateBases, type AllocationRule } from "../../projection/allocation.ts";
import { BasisPlan } from "../../projection/plan.ts";
import type { Distribution } from "../../random/basis.ts";
import type { MessageSize, RoundInfo } from "../types.ts";
import type { ClientUpdate } from "./client_update.ts";
import { FerretBase, type FerretCommonOptions } from "./ferret_shared.ts";
import { leastSquaresCoordinates } from "./ferret_least_squares.ts";

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
export class FerretPaper extends FerretBase<PaperMessage, PaperDownload> {
  /** `ferret-paper`. */
  readonly id = "ferret-paper";
  readonly #allocation: AllocationRule;
  readonly #leastSquares: boolean;
  #scratch: GpuVector | null = null;

  /** Use {@linkcode ferretPaper}. */
  constructor(options: FerretPaperOptions) {
    const allocation = options.allocation ?? "norm";
    const leastSquares = options.leastSquares ?? false;
    super("paper", options, { allocation, leastSquares });
    this.#allocation = allocation;
    this.#leastSquares = leastSquares;
  }

  /** Plans the blocks; checks K ≥ L. */
  setup(model: Transformer): Promise<void> {
    const { blocks } = this.prepare(model);
    const K = this.settings.K;
    if (!Number.isInteger(K) || K < blocks.length) {
      throw new RangeError(
        `Cannot run Ferret (paper mode) with K = ${K}: Σ K_l = K needs K ≥ L = ${blocks.length}`,
      );
    }
    if (this.#leastSquares) {
      this.#scratch = model.trainable.params.vector.like("least-squares scratch");
    }
    return Promise.resolve();
  }

  /** Step 3: a fresh seed, the allocation Σ_l K_l = K, and Eq. (8) (or Eq. 5). */
  protected async encode(
    work: RoundInfo,
    client: number,
    update: ClientUpdate,
  ): Promise<PaperMessage | null> {
    const { model, blocks } = this.ready();
    const s = this.settings;
    const counts = paperCounts(blocks, update.norms, s.K, this.#allocation, this.#leastSquares);
    const seed = freshSeed(work.stream(`ferret/seed/client=${client}`));
    const coordinates = await paperCoordinates(model.gpu, {
      blocks,
      counts,
      distribution: s.distribution,
      delta: update.delta,
      seed,
      leastSquares: this.#scratch,
    });
    return coordinates.every(Number.isFinite) ? { client, seed, counts, coordinates } : null;
  }

  /** The server relays the messages with their weights p_i (seeds differ: nothing to sum). */
  protected combine(messages: readonly PaperMessage[], weights: readonly number[]): PaperDownload {
    return { messages, weights };
  }

  /** Eq. (2) onto `target`. */
  protected reconstruct(target: GpuVector, download: PaperDownload): Promise<void> {
    const { model, blocks } = this.ready();
    const { distribution, globalLr } = this.settings;
    return paperReconstruct(model.gpu, { blocks, distribution, globalLr, target, download });
  }

  /** Up: 1 seed (8 bytes), the L counts (4 bytes each), Σ_l K_l f32 coordinates. */
  uploadSize(message: PaperMessage): MessageSize {
    const n = message.coordinates.length;
    return { scalars: n, seeds: 1, bytes: 8 + 4 * message.counts.length + 4 * n };
  }

  /** Down: every aggregated message with its weight p_i (f64). */
  broadcastSize(download: PaperDownload): MessageSize {
    const L = this.ready().blocks.length;
    const scalars = download.messages.reduce((s, m) => s + m.coordinates.length, 0);
    const seeds = download.messages.length;
    return { scalars, seeds, bytes: 16 * seeds + 4 * L * seeds + 4 * scalars };
  }

  /** Frees the buffers. */
  override destroy(): void {
    super.destroy();
    this.#scratch?.destroy();
    this.#scratch = null;
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
