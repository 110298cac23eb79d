/**
 * Fused block-wise projection and reconstruction on the GPU (paper.md §1.3,
 * Eqs. 6–8; DESIGN.md §4).
 *
 * A vector is split into L blocks (contiguous element ranges) with K_l bases
 * each. {@linkcode BasisPlan.project} computes γ_{l,k} = v_{l,k}ᵀ x_l and
 * {@linkcode BasisPlan.reconstruct} x (+)= Σ_l s_l Σ_k c_{l,k} v_{l,k}; both
 * generate the bases in registers from (seed, l, k, element) — the wire
 * format of `src/random/basis.ts` — so memory stays O(d) whatever K, and a
 * block may span several chunks of a {@linkcode GpuVector}. Only the K
 * coordinates ever need to come back to the CPU.
 *
 * Work is cut into **tiles** (src/projection/_tiles.ts): runs of one block's
 * elements inside one chunk, a workgroup per tile and a contiguous run of
 * granules per lane. A projection row is a tile and a group of bases (8, or
 * 32 for Rademacher): each lane loads its granules of x once per group,
 * projects them onto the group's bases from registers and writes one partial
 * sum per basis — no reduction in the kernel; a second pass
 * (`project_reduce`) adds the partial sums up. A reconstruction lane sums all
 * K_l bases of a granule in registers and stores it once; with subgroups of
 * ≥ 8 lanes the lanes share the coefficient loads by broadcasts
 * (kernels/reconstruct_subgroups.wgsl), otherwise each loads them itself
 * (kernels/reconstruct_main.wgsl, also the GL backend's).
 *
 * Each kernel comes in a fast variant for tiles of whole, 4-aligned granules
 * and full groups of bases, with no branch in its hot loop (on llvmpipe a
 * branch whose condition may differ between lanes costs its body even when
 * no lane takes it), and a generic one for the rest: granules cut by a tile's
 * edge, blocks that start off a multiple of 4 in their chunk, a block's last
 * partial group of bases. So a projection or reconstruction is a few
 * dispatches per chunk (at most 2 or 4) and one `project_reduce`.
 *
 * The bases are bit-identical to the wire format (the Philox words; element
 * values up to the GPU's f32 rounding, as the wire format says). Projection
 * sums are in another order than a plain left-to-right sum (per lane, then
 * compensated across lanes), so they agree with the float64 reference to
 * float rounding — within 2·10⁻⁶·Σ_i|v_i x_i| in the tests — not bit for bit.
 *
 * @module
 */

import * as kernels from "../../kernels/mod.ts";
import type { Gpu } from "../gpu/gpu.ts";
import type { Kernel } from "../gpu/pipelines.ts";
import type { GpuVector, Segment } from "../gpu/vector.ts";
import {
  type BasisParams,
  basisParams,
  basisVariance,
  type Distribution,
  DISTRIBUTION_TAG,
  DISTRIBUTIONS,
  type Seed,
  seedKey,
} from "../random/basis.ts";
import {
  type ChunkRows,
  PROJECTION_LANES,
  projectionTables,
  reconstructionTables,
  type Run,
  type Tile,
} from "./_tiles.ts";

export { PROJECTION_LANES, type Tile };

/** What a zeroth-order projection differentiates (paper.md §2 Thm 3, §4 Figs. 7–8). */
export type Objective = "dot" | "zo-square" | "zo-sin2";

const OBJECTIVE_CODE: Readonly<Record<Objective, number>> = {
  "dot": 0,
  "zo-square": 1,
  "zo-sin2": 2,
};

/** Options for {@linkcode BasisPlan.create}. */
export interface PlanOptions {
  /** The blocks, in increasing order, not overlapping, each ≥ 1 element. */
  readonly blocks: readonly Segment[];
  /** K_l ≥ 1 bases per block. */
  readonly counts: readonly number[];
  /** Basis distribution (default `truncnormal`, the paper's). */
  readonly distribution?: Distribution;
  /** The vectors the plan will run on: their length and chunking. */
  readonly vector: Pick<GpuVector, "length" | "chunkElements">;
  /**
   * Granules per lane (tuning and tests). By default projection lanes take up to 128, 256, 32
   * and reconstruction lanes up to 32, 64, 4 for truncnormal, gaussian, rademacher, fewer in a
   * small tile so that all lanes get work; a value given here is used as is, within the bounds
   * that keep a lane's loops under llvmpipe's cap (projection ≤ 256, 4096, 32; reconstruction
   * fewer for large K_l).
   */
  readonly granulesPerLane?: number;
}

/** Options of {@linkcode BasisPlan.project}. */
export interface ProjectOptions {
  /** Where coordinate 0 goes in the output buffer (in f32 elements). Default 0. */
  readonly outBase?: number;
  /** `dot` (default): γ = Vᵀx. `zo-*`: g_k = [F(x + εv_k) − F(x)]/ε for F = Σx² or Σsin²x. */
  readonly objective?: Objective;
  /** ε for the zeroth-order objectives. */
  readonly eps?: number;
}

/** Options of {@linkcode BasisPlan.reconstruct}. */
export interface ReconstructOptions {
  /** Where this call's coefficients start in the coefficient buffer (f32 elements). Default 0. */
  readonly coefBase?: number;
  /** Per-block factors s_l (a buffer from {@linkcode BasisPlan.scaleBuffer}); default all 1. */
  readonly scales?: GPUBuffer;
  /** Add to the target (default) or overwrite it. */
  readonly accumulate?: boolean;
}

/** Bytes of one `BasisBlock` entry (kernels/philox.wgsl). */
export const BLOCK_BYTES = 48;

/** Writes entry `index` of a `BasisBlock` table (kernels/philox.wgsl). */
export function writeBlockParams(
  table: ArrayBuffer,
  index: number,
  params: BasisParams,
  block: number,
  count: number,
  coef: number,
): void {
  const u32 = new Uint32Array(table, index * BLOCK_BYTES, BLOCK_BYTES / 4);
  const f32 = new Float32Array(table, index * BLOCK_BYTES, BLOCK_BYTES / 4);
  u32[0] = params.levels;
  u32[1] = params.flat2;
  f32[2] = params.a;
  f32[3] = params.scale;
  f32[4] = params.offset;
  f32[5] = params.oneMinusM;
  u32[6] = block;
  u32[7] = count;
  u32[8] = coef;
}

/** Largest K_l a plan accepts (reconstruction lanes loop over all K_l bases of a granule). */
export const MAX_BASES_PER_BLOCK = 32768;

function validate(options: PlanOptions): void {
  const { blocks, counts, vector } = options;
  if (blocks.length === 0) throw new RangeError("Cannot plan a projection: no blocks");
  if (counts.length !== blocks.length) {
    throw new TypeError(
      `Cannot plan a projection: ${blocks.length} blocks but ${counts.length} basis counts`,
    );
  }
  let previousEnd = 0;
  blocks.forEach((block, l) => {
    if (!Number.isSafeInteger(block.length) || block.length < 1) {
      throw new RangeError(
        `Cannot plan a projection: block ${l} has ${block.length} elements (empty blocks are not allowed)`,
      );
    }
    if (!Number.isSafeInteger(block.start) || block.start < previousEnd) {
      throw new RangeError(
        `Cannot plan a projection: block ${l} starts at ${block.start}, before the previous block ends (${previousEnd})`,
      );
    }
    previousEnd = block.start + block.length;
    const k = counts[l]!;
    if (!Number.isInteger(k) || k < 1 || k > MAX_BASES_PER_BLOCK) {
      throw new RangeError(
        `Cannot plan a projection: block ${l} has K_l = ${k} (expected 1 ≤ K_l ≤ ${MAX_BASES_PER_BLOCK})`,
      );
    }
  });
  if (previousEnd > vector.length) {
    throw new RangeError(
      `Cannot plan a projection: blocks end at ${previousEnd}, past the vector's ${vector.length} elements`,
    );
  }
  const perLane = options.granulesPerLane;
  if (perLane !== undefined && !(Number.isSafeInteger(perLane) && perLane >= 1)) {
    throw new RangeError(`Cannot plan a projection with ${perLane} granules per lane`);
  }
  const distribution = options.distribution ?? "truncnormal";
  if (!DISTRIBUTIONS.includes(distribution)) {
    throw new TypeError(`Cannot plan a projection with "${distribution}" bases`);
  }
}

/**
 * A reusable plan for projecting onto and reconstructing from block bases;
 * holds the tile and block tables on the GPU. Seeds are given per call.
 *
 * @example
 * ```ts
 * import { BasisPlan } from "./plan.ts";
 * import { Gpu } from "../gpu/gpu.ts";
 * import { GpuVector } from "../gpu/vector.ts";
 * const gpu = await Gpu.create();
 * const x = GpuVector.from(gpu, new Float32Array([1, 2, 3, 4, 5]));
 * const plan = BasisPlan.create(gpu, {
 *   blocks: [{ start: 0, length: 2 }, { start: 2, length: 3 }],
 *   counts: [1, 2],
 *   vector: x,
 * });
 * console.log(await plan.projectToArray(x, 7)); // Float32Array(3) [γ_{0,0}, γ_{1,0}, γ_{1,1}]
 * plan.destroy();
 * gpu.destroy();
 * ```
 */
export class BasisPlan {
  /** The GPU context. */
  readonly gpu: Gpu;
  /** The blocks. */
  readonly blocks: readonly Segment[];
  /** K_l per block. */
  readonly counts: readonly number[];
  /** Σ_l K_l: coordinates per projection. */
  readonly total: number;
  /** Index of block l's first coordinate (Σ_{l'<l} K_l'). */
  readonly offsets: readonly number[];
  /** The basis distribution. */
  readonly distribution: Distribution;
  /** The projection tiles, in table order (a row per tile and group of bases). */
  readonly tiles: readonly Tile[];
  readonly #projectRows: ChunkRows[];
  readonly #reconstructRuns: Run[][];
  readonly #projectTable: GPUBuffer;
  readonly #reconstructTable: GPUBuffer;
  readonly #blockBuffer: GPUBuffer;
  readonly #outsBuffer: GPUBuffer;
  readonly #partials: GPUBuffer;
  readonly #unitScales: GPUBuffer;
  readonly #owned: GPUBuffer[] = [];
  readonly #chunkElements: number;
  readonly #length: number;
  /** Whether the reconstruction shares coefficient loads by subgroup broadcasts. */
  readonly #subgroups: boolean;

  private constructor(gpu: Gpu, options: PlanOptions) {
    this.gpu = gpu;
    this.#subgroups = gpu.info.subgroups && gpu.info.subgroupMinSize >= 8;
    this.blocks = options.blocks.map((b) => ({ start: b.start, length: b.length }));
    this.counts = options.counts.slice();
    this.distribution = options.distribution ?? "truncnormal";
    this.#chunkElements = options.vector.chunkElements;
    this.#length = options.vector.length;
    const offsets: number[] = [];
    let total = 0;
    for (const k of this.counts) {
      offsets.push(total);
      total += k;
    }
    this.total = total;
    this.offsets = offsets;
    const dist = this.distribution;
    const projection = projectionTables(this.blocks, this.counts, dist, this.#chunkElements, {
      granulesPerLane: options.granulesPerLane,
    });
    this.tiles = projection.tiles;
    this.#projectRows = projection.rows;
    const reconstruction = reconstructionTables(
      this.blocks,
      this.counts,
      dist,
      this.#chunkElements,
      { granulesPerLane: options.granulesPerLane },
    );
    this.#reconstructRuns = reconstruction.runs;

    const blockTable = new ArrayBuffer(this.blocks.length * BLOCK_BYTES);
    this.blocks.forEach((b, l) => {
      writeBlockParams(blockTable, l, basisParams(dist, b.length), l, this.counts[l]!, offsets[l]!);
    });
    this.#projectTable = gpu.upload(projection.table, "projection rows");
    this.#reconstructTable = gpu.upload(reconstruction.table, "reconstruction rows");
    this.#blockBuffer = gpu.upload(new Uint8Array(blockTable), "basis blocks");
    this.#outsBuffer = gpu.upload(projection.outputs, "projection outputs");
    this.#partials = gpu.buffer(Math.max(1, projection.partials) * 4, "projection partials");
    this.#unitScales = gpu.upload(new Float32Array(this.blocks.length).fill(1), "unit scales");
  }

  /** Validates `options` and builds the plan's tables on the GPU. */
  static create(gpu: Gpu, options: PlanOptions): BasisPlan {
    validate(options);
    return new BasisPlan(gpu, options);
  }

  /** ρ_l = E[v²] per block for this plan's distribution. */
  variances(): number[] {
    return this.blocks.map((b) => basisVariance(this.distribution, b.length));
  }

  /** The paper's factors 1/(ρ_l K_l) (Eq. 8), which make the reconstruction unbiased. */
  paperScales(): number[] {
    return this.variances().map((r, l) => 1 / (r * this.counts[l]!));
  }

  /** The official code's factors d_l/K_l (paper.md §7 item 2; biased by d_l·ρ_l ≈ 1/3). */
  officialScales(): number[] {
    return this.blocks.map((b, l) => b.length / this.counts[l]!);
  }

  /** A GPU buffer of per-block factors for {@linkcode BasisPlan.reconstruct}; freed with the plan. */
  scaleBuffer(scales: readonly number[]): GPUBuffer {
    if (scales.length !== this.blocks.length || !scales.every(Number.isFinite)) {
      throw new TypeError(
        `Cannot use block scales [${
          scales.slice(0, 4)
        }…]: expected ${this.blocks.length} finite numbers`,
      );
    }
    const buffer = this.gpu.upload(new Float32Array(scales), "block scales");
    this.#owned.push(buffer);
    return buffer;
  }

  /** A zeroed f32 buffer for `n` coordinates; freed with the plan. */
  coordinateBuffer(n = this.total): GPUBuffer {
    const buffer = this.gpu.buffer(n * 4, "coordinates");
    this.#owned.push(buffer);
    return buffer;
  }

  #checkVector(x: GpuVector, action: string): void {
    if (x.length !== this.#length || x.chunkElements !== this.#chunkElements) {
      throw new TypeError(
        `Cannot ${action}: the plan is for ${this.#length} elements by ${this.#chunkElements}, ` +
          `the vector has ${x.length} by ${x.chunkElements}`,
      );
    }
  }

  /** Records γ = Vᵀx (or the ZO differences) into `out[outBase …]`, two passes, no readback. */
  async project(
    x: GpuVector,
    seed: Seed,
    out: GPUBuffer,
    options: ProjectOptions = {},
  ): Promise<void> {
    this.#checkVector(x, "project");
    const objective = options.objective ?? "dot";
    const eps = options.eps ?? 0;
    if (objective !== "dot" && !(eps > 0 && Number.isFinite(eps))) {
      throw new RangeError(`Cannot run a zeroth-order projection with ε = ${eps}`);
    }
    const outBase = options.outBase ?? 0;
    if ((outBase + this.total) * 4 > out.size) {
      throw new RangeError(
        `Cannot project into ${out.size} bytes: ${this.total} coordinates from ${outBase} do not fit`,
      );
    }
    const [k0, k1] = seedKey(seed);
    const constants = {
      WG: PROJECTION_LANES,
      DIST: DISTRIBUTION_TAG[this.distribution],
      OBJECTIVE: OBJECTIVE_CODE[objective],
    };
    const run = async (
      kernel: Kernel,
      variant: Record<string, number>,
      chunk: number,
      base: number,
      count: number,
    ) => {
      if (count === 0) return;
      const params = new ArrayBuffer(32);
      new Uint32Array(params).set([k0, k1, base, count]);
      new Float32Array(params, 16, 1)[0] = eps;
      await this.gpu.dispatch({
        kernel,
        constants: { ...constants, ...variant },
        storage: [this.#partials, x.chunks[chunk]!.buffer, this.#projectTable, this.#blockBuffer],
        uniform: new Uint8Array(params),
        workgroups: count,
      });
    };
    for (const [chunk, rows] of this.#projectRows.entries()) {
      if (!rows) continue;
      const [fast, generic] = rows.counts as [number, number];
      if (this.distribution !== "rademacher") {
        await run(kernels.project, { WHOLE: 1 }, chunk, rows.base, fast);
        await run(kernels.project, { WHOLE: 0 }, chunk, rows.base + fast, generic);
      } else if (objective === "dot") {
        await run(kernels.projectRademacher, {}, chunk, rows.base, fast);
        await run(kernels.projectRademacherGeneric, {}, chunk, rows.base + fast, generic);
      } else {
        await run(kernels.projectRademacherGeneric, {}, chunk, rows.base, fast + generic);
      }
    }
    await this.gpu.dispatch({
      kernel: kernels.projectReduce,
      constants: { WG: 64 },
      storage: [out, this.#partials, this.#outsBuffer],
      uniform: new Uint32Array([this.total, outBase, 0, 0]),
      workgroups: this.total,
    });
  }

  /** Projects `x` and reads the Σ K_l coordinates back (one readback). */
  async projectToArray(
    x: GpuVector,
    seed: Seed,
    options: ProjectOptions = {},
  ): Promise<Float32Array> {
    const out = this.gpu.buffer(this.total * 4, "coordinates");
    try {
      await this.project(x, seed, out, { ...options, outBase: 0 });
      return new Float32Array(await this.gpu.read(out, 0, this.total * 4));
    } finally {
      out.destroy();
    }
  }

  /** Records x (+)= Σ_l s_l Σ_k c[coefBase + offset_l + k]·v_{l,k} (no readback). */
  async reconstruct(
    target: GpuVector,
    seed: Seed,
    coefficients: GPUBuffer,
    options: ReconstructOptions = {},
  ): Promise<void> {
    this.#checkVector(target, "reconstruct");
    const coefBase = options.coefBase ?? 0;
    if ((coefBase + this.total) * 4 > coefficients.size) {
      throw new RangeError(
        `Cannot reconstruct from ${coefficients.size} bytes: ${this.total} coefficients from ${coefBase} do not fit`,
      );
    }
    const [k0, k1] = seedKey(seed);
    const accumulate = options.accumulate ?? true;
    const scales = options.scales ?? this.#unitScales;
    const constants = { WG: PROJECTION_LANES, DIST: DISTRIBUTION_TAG[this.distribution] };
    const rademacher = this.distribution === "rademacher";
    const kernel = rademacher
      ? kernels.reconstructRademacher
      : this.#subgroups
      ? kernels.reconstructSubgroups
      : kernels.reconstruct;
    for (const [chunk, runs] of this.#reconstructRuns.entries()) {
      if (!runs) continue;
      for (const run of runs) {
        const variant: Record<string, number> = { WHOLE: run.kind < 2 ? 1 : 0 };
        if (!rademacher) variant.GROUP = run.kind % 2 === 0 ? 8 : 1;
        await this.gpu.dispatch({
          kernel,
          constants: { ...constants, ...variant },
          storage: [
            target.chunks[chunk]!.buffer,
            coefficients,
            scales,
            this.#reconstructTable,
            this.#blockBuffer,
          ],
          uniform: new Uint32Array([
            k0,
            k1,
            run.base,
            run.count,
            coefBase,
            accumulate || run.pass > 0 ? 1 : 0,
            0,
            0,
          ]),
          workgroups: run.count,
        });
      }
    }
  }

  /** Frees the plan's buffers (and those it handed out). */
  destroy(): void {
    for (
      const b of [
        this.#projectTable,
        this.#reconstructTable,
        this.#blockBuffer,
        this.#outsBuffer,
        this.#partials,
        this.#unitScales,
        ...this.#owned,
      ]
    ) b.destroy();
  }
}
