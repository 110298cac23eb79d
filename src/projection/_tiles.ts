/**
 * Tile tables of the fused projection kernels (private to `src/projection/`;
 * the row layout is `Tile` in kernels/basis_tiles.wgsl).
 *
 * A tile is a run of one block's elements inside one chunk; a workgroup
 * takes a tile and each of its lanes a contiguous run of granules (CPU
 * adapters run sequential streams fastest, and every lane of a SIMD vector
 * then has its own work). Projection rows repeat each tile once per group
 * of bases and every lane writes its own partial sum per basis (no
 * reduction inside the kernel; `project_reduce` adds them up), so a row's
 * loops are bounded by its granules whatever K. Reconstruction rows are the
 * tiles themselves and a lane runs all K_l bases of its granules, so their
 * granules per lane shrink as K_l grows (llvmpipe silently ends a shader
 * invocation's loops after 65535 iterations in total).
 *
 * @module
 */

import { basisParams, type Distribution, GRANULE } from "../random/basis.ts";
import type { Segment } from "../gpu/vector.ts";

/** Lanes per workgroup of the projection kernels. */
export const PROJECTION_LANES = 64;

/** u32 words per row of the tile table (`Tile` in kernels/basis_tiles.wgsl: 48 bytes). */
export const ROW_WORDS = 12;

/** Main-loop steps one reconstruction lane takes at most (granules × steps per granule). */
const RECONSTRUCT_STEPS = 8192;

/**
 * Loop iterations a reconstruction lane may spend (llvmpipe silently ends an invocation's loops
 * after 65535 in all), counting the truncated normal's corrections (kernels/reconstruct.wgsl).
 */
const RECONSTRUCT_ITERATIONS = 40000;

/**
 * Loop iterations one step of a reconstruction lane may cost: the step itself and, once three
 * steps of the lane have met slow truncated-normal elements, a check of every later step (a loop
 * over its GROUP bases, plus one masked pass) and, where some element is slow, its correction
 * (≤ 250: GROUP + 1 bases × 8 elements and the slow path's rejection loop, partly masked).
 */
function stepCost(distribution: Distribution, dimension: number, group: number): number {
  if (distribution !== "truncnormal") return 1;
  const fast = basisParams(distribution, dimension).levels / 65536;
  const hit = 1 - fast ** (8 * group); // P(some element of the step takes the slow path)
  return group + 3 + 250 * hit;
}

/** One tile: a run of one block's elements inside one chunk. */
export interface Tile {
  /** Chunk the tile lies in. */
  readonly chunk: number;
  /** Block index. */
  readonly block: number;
  /** First block element of the tile. */
  readonly first: number;
  /** Elements in the tile. */
  readonly n: number;
  /** Index in the chunk of the tile's first element. */
  readonly offset: number;
  /** Granules per lane. */
  readonly perLane: number;
  /**
   * Every granule lies wholly inside the tile and starts 4-aligned in the
   * chunk (the Rademacher fast kernel's precondition).
   */
  readonly whole: boolean;
}

/** Options of {@linkcode buildTiles}. */
export interface TileOptions {
  /** Elements per granule (GRANULE of the distribution). */
  readonly granule: number;
  /** Granules per lane for block l (before the cap by the block's size). */
  readonly perLane: (block: number) => number;
  /** Cut off the partial granules at each end of a span into tiles of their own. */
  readonly separateEdges: boolean;
  /**
   * Use `perLane` as given; otherwise a small tile spreads its granules over all
   * the lanes (at most ⌈granules / lanes⌉ each).
   */
  readonly exact?: boolean;
}

/** Cuts blocks into tiles (each inside one chunk, granule-aligned in block index space). */
export function buildTiles(
  blocks: readonly Segment[],
  chunkElements: number,
  options: TileOptions,
): Tile[] {
  const { granule } = options;
  const tiles: Tile[] = [];
  blocks.forEach((block, l) => {
    const perLane = Math.max(1, Math.floor(options.perLane(l)));
    const span = PROJECTION_LANES * perLane * granule;
    const aligned = block.start % 4 === 0;
    const end = block.start + block.length;
    const push = (from: number, to: number, whole: boolean) => {
      // Tiles of at most `span` elements, cut at multiples of `span` in block index space.
      let e = from;
      while (e < to) {
        const rel = e - block.start;
        const tileEnd = Math.min(block.start + (Math.floor(rel / span) + 1) * span, to);
        const chunk = Math.floor(e / chunkElements);
        // Granules the tile touches (it may start mid-granule at a chunk boundary): ≤ span/G.
        const granules = Math.ceil((rel % granule + tileEnd - e) / granule);
        tiles.push({
          chunk,
          block: l,
          first: rel,
          n: tileEnd - e,
          offset: e - chunk * chunkElements,
          perLane: options.exact
            ? perLane
            : Math.max(1, Math.min(perLane, Math.ceil(granules / PROJECTION_LANES))),
          whole,
        });
        e = tileEnd;
      }
    };
    let e = block.start;
    while (e < end) {
      const chunk = Math.floor(e / chunkElements);
      const spanEnd = Math.min((chunk + 1) * chunkElements, end);
      if (!options.separateEdges) {
        push(e, spanEnd, false);
      } else {
        // [e, head) and [tail, spanEnd) hold the partial granules, [head, tail) whole ones.
        const head = block.start + Math.ceil((e - block.start) / granule) * granule;
        const tail = block.start + Math.floor((spanEnd - block.start) / granule) * granule;
        if (head >= tail) {
          push(e, spanEnd, false);
        } else {
          push(e, head, false);
          push(head, tail, aligned);
          push(tail, spanEnd, false);
        }
      }
      e = spanEnd;
    }
  });
  return tiles;
}

/** Granules per lane of a reconstruction taking `steps` steps per granule. */
function reconstructPerLane(steps: number, wanted: number): number {
  return Math.max(1, Math.min(wanted, Math.floor(RECONSTRUCT_STEPS / steps)));
}

/** Writes row `index` of a tile table. */
function writeRow(
  table: Uint32Array,
  index: number,
  tile: Tile,
  granule: number,
  fields: { partial: number; kb: number; stride: number },
): void {
  const g0 = Math.floor(tile.first / granule);
  table.set([
    g0 >>> 0,
    Math.floor(g0 / 2 ** 32) >>> 0,
    tile.first - g0 * granule,
    tile.n,
    tile.offset,
    tile.block,
    fields.partial >>> 0,
    tile.perLane,
    fields.kb >>> 0,
    fields.stride >>> 0,
    0,
    0,
  ], index * ROW_WORDS);
}

/** Bases per projection row: the kernels' unrolled group (kernels/project*.wgsl). */
const ROW_BASES: Readonly<Record<Distribution, number>> = {
  truncnormal: 8,
  gaussian: 8,
  rademacher: 32,
};

/** Default granules per lane: projection, reconstruction (measured on llvmpipe). */
const PER_LANE: Readonly<Record<Distribution, readonly [number, number]>> = {
  truncnormal: [128, 32],
  gaussian: [256, 64],
  rademacher: [32, 4],
};

/**
 * Most granules per projection lane, whatever the options say: the truncated normal's
 * corrections may revisit every granule (~220 iterations each at worst), the Rademacher generic
 * kernel loops over 32 bases × 32 vec4s per granule; llvmpipe caps a lane at 65535 iterations.
 */
const PROJECT_MAX_PER_LANE: Readonly<Record<Distribution, number>> = {
  truncnormal: 256,
  gaussian: 4096,
  rademacher: 32,
};

/**
 * Rows of one chunk in a tile table, grouped by the kernel variant that takes them: from `base`,
 * `counts[0]` rows of the first kind, then `counts[1]` of the second, and so on.
 */
export interface ChunkRows {
  /** First row of the chunk. */
  base: number;
  /** Rows of each kind, in table order. */
  counts: number[];
}

/** Orders rows by chunk, then kind; returns the order and each chunk's ranges. */
function groupRows(
  n: number,
  kinds: number,
  chunk: (i: number) => number,
  kind: (i: number) => number,
): { order: number[]; chunks: ChunkRows[] } {
  const order = Array.from({ length: n }, (_, i) => i);
  order.sort((a, b) => chunk(a) - chunk(b) || kind(a) - kind(b) || a - b);
  const chunks: ChunkRows[] = [];
  order.forEach((i, r) => {
    const entry = chunks[chunk(i)] ??= { base: r, counts: new Array<number>(kinds).fill(0) };
    entry.counts[kind(i)]!++;
  });
  return { order, chunks };
}

/** Tuning shared by the table builders. */
export interface TableOptions {
  /** Granules per lane as given (tests, tuning); default per distribution, spread in small tiles. */
  readonly granulesPerLane?: number | undefined;
}

/** The projection's tile table, partial-sum layout and output table. */
export interface ProjectionTables {
  /** The tiles. */
  readonly tiles: Tile[];
  /** Rows per chunk: kind 0 the fast kernels' (whole aligned granules, a full group), 1 the rest. */
  readonly rows: ChunkRows[];
  /** The rows (`Tile` of kernels/basis_tiles.wgsl). */
  readonly table: Uint32Array;
  /** Partial sums in all. */
  readonly partials: number;
  /** Per coordinate: (first partial sum, count, 0, 0), for project_reduce. */
  readonly outputs: Uint32Array;
}

/**
 * Projection rows: a tile and a group of bases each. Block l's partial sums are K_l runs of
 * lanes_l (the lanes of its tiles): basis k's at P_l + k·lanes_l, lane j of the block's tile i at
 * i·PROJECTION_LANES + j. Tiles of whole aligned granules with a full group take the fast kernels
 * (kind 0), the rest — tile edges, misaligned blocks, a block's last partial group — the generic
 * ones (kind 1).
 */
export function projectionTables(
  blocks: readonly Segment[],
  counts: readonly number[],
  distribution: Distribution,
  chunkElements: number,
  options: TableOptions,
): ProjectionTables {
  const granule = GRANULE[distribution];
  const rowBases = ROW_BASES[distribution];
  const tiles = buildTiles(blocks, chunkElements, {
    granule,
    perLane: () =>
      Math.min(
        options.granulesPerLane ?? PER_LANE[distribution][0],
        PROJECT_MAX_PER_LANE[distribution],
      ),
    separateEdges: true,
    exact: options.granulesPerLane !== undefined,
  });
  const lanes = new Array<number>(blocks.length).fill(0);
  const tileLane = tiles.map((t) => {
    const lane = lanes[t.block]!;
    lanes[t.block]! += PROJECTION_LANES;
    return lane;
  });
  const partialBase: number[] = [];
  let partials = 0;
  lanes.forEach((n, l) => {
    partialBase.push(partials);
    partials += n * counts[l]!;
  });
  const rows: { tile: number; kb: number; kind: number }[] = [];
  tiles.forEach((t, i) => {
    const K = counts[t.block]!;
    for (let kb = 0; kb < K; kb += rowBases) {
      rows.push({ tile: i, kb, kind: t.whole && kb + rowBases <= K ? 0 : 1 });
    }
  });
  const { order, chunks } = groupRows(
    rows.length,
    2,
    (i) => tiles[rows[i]!.tile]!.chunk,
    (i) => rows[i]!.kind,
  );
  const table = new Uint32Array(Math.max(1, rows.length) * ROW_WORDS);
  order.forEach((i, r) => {
    const row = rows[i]!;
    const t = tiles[row.tile]!;
    writeRow(table, r, t, granule, {
      partial: partialBase[t.block]! + row.kb * lanes[t.block]! + tileLane[row.tile]!,
      kb: row.kb,
      stride: lanes[t.block]!,
    });
  });
  const outputs = new Uint32Array(counts.reduce((a, b) => a + b, 0) * 4);
  let o = 0;
  counts.forEach((k, l) => {
    for (let j = 0; j < k; j++, o++) {
      outputs.set([partialBase[l]! + j * lanes[l]!, lanes[l]!, 0, 0], o * 4);
    }
  });
  return { tiles, rows: chunks, table, partials, outputs };
}

/** A run of rows that one dispatch takes. */
export interface Run {
  /** First row. */
  readonly base: number;
  /** Rows. */
  readonly count: number;
  /** Kernel variant (see the table builders). */
  readonly kind: number;
  /** Reconstruction pass: 0 for the first bases of each block, later passes always add. */
  readonly pass: number;
}

/**
 * Reconstruction rows: tiles and a range of bases each (a pass). Kinds: whole aligned granules or
 * not (the kernels' WHOLE, kinds 0–1 and 2–3), bases 8 per step (K_l ≥ 8) or one (GROUP, even and
 * odd kinds; a Rademacher lane always takes one basis per step). A block's bases are split into
 * passes when its lanes' loops would otherwise exceed llvmpipe's cap (large K_l on a small block,
 * whose truncated-normal elements often take the slow path); passes run one after another.
 */
export function reconstructionTables(
  blocks: readonly Segment[],
  counts: readonly number[],
  distribution: Distribution,
  chunkElements: number,
  options: TableOptions,
): { runs: Run[][]; table: Uint32Array } {
  const granule = GRANULE[distribution];
  const group = (l: number) => distribution === "rademacher" || counts[l]! < 8 ? 1 : 8;
  const steps = (l: number) => Math.ceil(counts[l]! / group(l));
  const tiles = buildTiles(blocks, chunkElements, {
    granule,
    perLane: (l) =>
      reconstructPerLane(steps(l), options.granulesPerLane ?? PER_LANE[distribution][1]),
    separateEdges: true,
    exact: options.granulesPerLane !== undefined,
  });
  // Bases per pass of each block: whole steps, as many as the iteration budget allows.
  const passBases = blocks.map((b, l) => {
    const perLane = Math.max(...tiles.filter((t) => t.block === l).map((t) => t.perLane), 1);
    const cost = perLane * stepCost(distribution, b.length, group(l));
    return Math.max(1, Math.floor(RECONSTRUCT_ITERATIONS / cost)) * group(l);
  });
  const rows: { tile: number; kb: number; n: number; pass: number; kind: number }[] = [];
  tiles.forEach((t, i) => {
    const K = counts[t.block]!;
    const kind = (t.whole ? 0 : 2) + (group(t.block) === 8 ? 0 : 1);
    for (let kb = 0, pass = 0; kb < K; kb += passBases[t.block]!, pass++) {
      rows.push({ tile: i, kb, n: Math.min(passBases[t.block]!, K - kb), pass, kind });
    }
  });
  const passes = Math.max(...rows.map((r) => r.pass)) + 1;
  const { order, chunks } = groupRows(
    rows.length,
    passes * 4,
    (i) => tiles[rows[i]!.tile]!.chunk,
    (i) => rows[i]!.pass * 4 + rows[i]!.kind,
  );
  const table = new Uint32Array(Math.max(1, rows.length) * ROW_WORDS);
  order.forEach((i, r) => {
    const row = rows[i]!;
    writeRow(table, r, tiles[row.tile]!, granule, { partial: 0, kb: row.kb, stride: row.n });
  });
  const runs = chunks.map((c) => {
    const list: Run[] = [];
    let base = c.base;
    c.counts.forEach((count, key) => {
      if (count > 0) list.push({ base, count, kind: key % 4, pass: Math.floor(key / 4) });
      base += count;
    });
    return list;
  });
  return { runs, table };
}
