/**
 * Per-block ℓ2 norms ‖Δ_l‖ of an update on the GPU, read back as L numbers:
 * what Ferret's allocation rules need (paper.md §1.3, §7 item 4) and how
 * every algorithm tells a non-finite update (NaN and ±∞ propagate into the
 * norm) before it is aggregated (DESIGN.md §5).
 *
 * @module
 */

import * as kernels from "../../kernels/mod.ts";
import type { Gpu } from "./gpu.ts";
import type { GpuVector } from "./vector.ts";
import type { Segment } from "./vector.ts";

/** Lanes per workgroup of `segment_sumsq`. */
const LANES = 64;
/** Most elements a lane sums (a tile is at most LANES × this). */
const PER_LANE = 1024;

interface NormTile {
  chunk: number;
  block: number;
  off: number;
  n: number;
}

/**
 * A reusable plan for the squared norms of fixed blocks of vectors of one
 * shape: one dispatch per chunk, one readback for all blocks.
 *
 * @example
 * ```ts
 * import { BlockNorms } from "./segment_norms.ts";
 * import { Gpu } from "./gpu.ts";
 * import { GpuVector } from "./vector.ts";
 * const gpu = await Gpu.create();
 * const x = GpuVector.from(gpu, new Float32Array([3, 4, 1, 0, 2]));
 * const norms = new BlockNorms(gpu, x, [{ start: 0, length: 2 }, { start: 2, length: 3 }]);
 * console.log(await norms.norms(x)); // [5, 2.236…]
 * norms.destroy();
 * gpu.destroy();
 * ```
 */
export class BlockNorms {
  /** The GPU context. */
  readonly gpu: Gpu;
  /** The blocks. */
  readonly blocks: readonly Segment[];
  readonly #tiles: NormTile[];
  readonly #perChunk: { base: number; count: number }[] = [];
  readonly #table: GPUBuffer;
  readonly #partials: GPUBuffer;
  readonly #length: number;
  readonly #chunkElements: number;

  /** Plans the norms of `blocks` of vectors shaped like `shape`. */
  constructor(
    gpu: Gpu,
    shape: Pick<GpuVector, "length" | "chunkElements">,
    blocks: readonly Segment[],
  ) {
    if (blocks.length === 0) throw new RangeError("Cannot plan block norms: no blocks");
    this.gpu = gpu;
    this.blocks = blocks.map((b) => ({ start: b.start, length: b.length }));
    this.#length = shape.length;
    this.#chunkElements = shape.chunkElements;
    const tiles: NormTile[] = [];
    const span = LANES * PER_LANE;
    this.blocks.forEach((b, l) => {
      if (b.length < 1 || b.start < 0 || b.start + b.length > shape.length) {
        throw new RangeError(
          `Cannot plan block norms: block ${l} [${b.start}, +${b.length}) is outside the ` +
            `vector's ${shape.length} elements`,
        );
      }
      for (let e = b.start; e < b.start + b.length;) {
        const chunk = Math.floor(e / shape.chunkElements);
        const end = Math.min(b.start + b.length, (chunk + 1) * shape.chunkElements, e + span);
        tiles.push({ chunk, block: l, off: e - chunk * shape.chunkElements, n: end - e });
        e = end;
      }
    });
    tiles.sort((a, b) => a.chunk - b.chunk || a.block - b.block || a.off - b.off);
    this.#tiles = tiles;
    const table = new Uint32Array(tiles.length * 4);
    tiles.forEach((t, i) => {
      table.set([t.off, t.n, i, Math.max(1, Math.ceil(t.n / LANES))], i * 4);
      const entry = this.#perChunk[t.chunk] ??= { base: i, count: 0 };
      entry.count++;
    });
    this.#table = gpu.upload(table, "norm tiles");
    this.#partials = gpu.buffer(tiles.length * 4, "norm partials");
  }

  /** Records the tiles' squared sums of `x` (no readback). */
  async record(x: GpuVector): Promise<void> {
    if (x.length !== this.#length || x.chunkElements !== this.#chunkElements) {
      throw new TypeError(
        `Cannot take block norms: planned for ${this.#length} elements by ${this.#chunkElements}, ` +
          `got ${x.length} by ${x.chunkElements}`,
      );
    }
    for (const [chunk, entry] of this.#perChunk.entries()) {
      if (!entry) continue;
      await this.gpu.dispatch({
        kernel: kernels.segmentSumsq,
        constants: { WG: LANES },
        storage: [this.#partials, x.chunks[chunk]!.buffer, this.#table],
        uniform: new Uint32Array([entry.base, entry.count, 0, 0]),
        workgroups: entry.count,
      });
    }
  }

  /** Reads back what {@linkcode BlockNorms.record} recorded: ‖x_l‖ per block (one readback). */
  async read(): Promise<number[]> {
    const partials = new Float32Array(
      await this.gpu.read(this.#partials, 0, this.#tiles.length * 4),
    );
    return this.#blockNorms(partials, 0);
  }

  /** ‖x_l‖ per block from the tiles' squared sums at `partials[first …]`. */
  #blockNorms(partials: Float32Array, first: number): number[] {
    const sums = new Array<number>(this.blocks.length).fill(0);
    this.#tiles.forEach((t, i) => (sums[t.block]! += partials[first + i]!));
    return sums.map(Math.sqrt);
  }

  /** ‖x_l‖ per block: record and read. */
  async norms(x: GpuVector): Promise<number[]> {
    await this.record(x);
    return this.read();
  }

  /** ‖x_l‖ per block of each of `xs`, with one readback for all. */
  async normsOf(xs: readonly GpuVector[]): Promise<number[][]> {
    if (xs.length === 0) return [];
    // One vector needs no buffer to gather several vectors' sums.
    if (xs.length === 1) return [await this.norms(xs[0]!)];
    const bytes = this.#tiles.length * 4;
    const all = this.gpu.buffer(xs.length * bytes, "norm partials of several vectors");
    try {
      for (const [i, x] of xs.entries()) {
        await this.record(x);
        this.gpu.copy(this.#partials, 0, all, i * bytes, bytes);
      }
      const partials = new Float32Array(await this.gpu.read(all, 0, xs.length * bytes));
      return xs.map((_, i) => this.#blockNorms(partials, i * this.#tiles.length));
    } finally {
      all.destroy();
    }
  }

  /** Frees the tables. */
  destroy(): void {
    this.#table.destroy();
    this.#partials.destroy();
  }
}

/**
 * The reference of `segment_sumsq` summed per block: Σ_{e ∈ block l} x_e² in f64.
 *
 * @example
 * ```ts
 * import { segmentSumSquaresReference } from "./segment_norms.ts";
 * console.log(segmentSumSquaresReference([3, 4, 1], [{ start: 0, length: 2 }])); // [25]
 * ```
 */
export function segmentSumSquaresReference(
  x: ArrayLike<number>,
  blocks: readonly Segment[],
): number[] {
  return blocks.map((b) => {
    let s = 0;
    for (let e = b.start; e < b.start + b.length; e++) s += x[e]! * x[e]!;
    return s;
  });
}

/**
 * The ℓ2 norm of all blocks together, from per-block norms.
 *
 * @example
 * ```ts
 * import { totalNorm } from "./segment_norms.ts";
 * console.log(totalNorm([3, 4])); // 5
 * ```
 */
export function totalNorm(norms: readonly number[]): number {
  return Math.sqrt(norms.reduce((s, n) => s + n * n, 0));
}
