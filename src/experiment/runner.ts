/**
 * Runs an experiment's cells, reusing cached results, and returns plain data
 * (DESIGN.md §7). Files are written by the CLI, never here: the cache is an
 * injected interface so the runner stays pure and testable.
 *
 * @module
 */

import { Gpu } from "../gpu/gpu.ts";
import type { DeviceInfo, DeviceOptions } from "../gpu/device.ts";
import type {
  Cell,
  CellOutcome,
  CellResult,
  Check,
  Experiment,
  Point,
  Progress,
  Resources,
  Scale,
  TableData,
} from "./define.ts";
import { aggregateTable } from "./stats.ts";

/** A finished cell as stored in a cache. */
export interface CachedCell {
  /** The cell's key. */
  readonly key: string;
  /** What it returned. */
  readonly result: CellResult;
  /** Seconds it took. */
  readonly seconds: number;
}

/** Where finished cells are kept between runs. */
export interface CellCache {
  /** The cached cell for `key`, if any. */
  get(key: string): Promise<CachedCell | undefined>;
  /** Stores a finished cell (must be durable before it resolves). */
  set(cell: CachedCell): Promise<void>;
}

/** Where named artifacts (pre-trained checkpoints, …) are kept between runs. */
export interface ArtifactStore {
  /** The artifact called `name`, if stored. */
  get(name: string): Promise<Uint8Array | undefined>;
  /** Stores an artifact (durably, before it resolves). */
  set(name: string, bytes: Uint8Array): Promise<void>;
  /** Removes an artifact (nothing happens when there is none). */
  delete(name: string): Promise<void>;
}

/**
 * Artifacts in memory (tests, and runs that should not touch the disk).
 *
 * @example
 * ```ts
 * import { MemoryArtifacts } from "./runner.ts";
 * const store = new MemoryArtifacts();
 * await store.set("base/ci", new Uint8Array([1, 2]));
 * console.log(await store.get("base/ci")); // Uint8Array(2) [1, 2]
 * ```
 */
export class MemoryArtifacts implements ArtifactStore {
  readonly #items = new Map<string, Uint8Array>();
  /** The artifact called `name`, if stored. */
  get(name: string): Promise<Uint8Array | undefined> {
    return Promise.resolve(this.#items.get(name));
  }
  /** Stores an artifact. */
  set(name: string, bytes: Uint8Array): Promise<void> {
    this.#items.set(name, bytes);
    return Promise.resolve();
  }
  /** Removes an artifact. */
  delete(name: string): Promise<void> {
    this.#items.delete(name);
    return Promise.resolve();
  }
}

/**
 * An in-memory cache (tests, and runs that should not touch the disk).
 *
 * @example
 * ```ts
 * import { MemoryCache } from "./runner.ts";
 * const cache = new MemoryCache();
 * await cache.set({ key: "k", result: { x: 1 }, seconds: 0.1 });
 * console.log((await cache.get("k"))?.result); // { x: 1 }
 * ```
 */
export class MemoryCache implements CellCache {
  readonly #cells = new Map<string, CachedCell>();
  /** Number of cached cells. */
  get size(): number {
    return this.#cells.size;
  }
  /** The cached cell for `key`, if any. */
  get(key: string): Promise<CachedCell | undefined> {
    return Promise.resolve(this.#cells.get(key));
  }
  /** Stores a finished cell. */
  set(cell: CachedCell): Promise<void> {
    this.#cells.set(cell.key, cell);
    return Promise.resolve();
  }
}

/** What the progress line shows. */
export interface ProgressEvent extends Progress {
  /** The experiment id. */
  experiment: string;
  /** Index of the running cell (0-based). */
  cell: number;
  /** Number of cells. */
  cells: number;
  /** The cell's row or series. */
  row: string;
  /** The cell's seed. */
  seed: number;
  /** Whether the result comes from the cache. */
  cached: boolean;
}

/** Options for {@linkcode runExperiment}. */
export interface RunOptions {
  /** The scale to run (its preset must exist). */
  scale: Scale;
  /** Seeds to use instead of the preset's. */
  seeds?: readonly number[];
  /** Cache of finished cells. Defaults to a fresh in-memory cache. */
  cache?: CellCache;
  /** Recompute cells even when cached (the new results replace the cached ones). */
  force?: boolean;
  /** Receives progress updates. */
  onProgress?: (event: ProgressEvent) => void;
  /** A GPU context to share; otherwise one is created on first use and destroyed at the end. */
  gpu?: Gpu;
  /** Options for a GPU context created by the runner. */
  device?: DeviceOptions;
  /** Store of shared artifacts (default: in memory). */
  artifacts?: ArtifactStore;
  /** Real data and checkpoint folders. */
  resources?: Resources;
}

/** The outcome of an experiment run: plain data, ready for the report writers. */
export interface ExperimentRun {
  /** The experiment. */
  readonly experiment: Experiment;
  /** The scale it ran at. */
  readonly scale: Scale;
  /** The preset parameters used. */
  readonly params: unknown;
  /** The seeds used. */
  readonly seeds: readonly number[];
  /** Every finished cell, in run order. */
  readonly outcomes: readonly CellOutcome[];
  /** Aggregated table (tables only). */
  readonly table?: TableData;
  /** Plotted points (figures only). */
  readonly points?: readonly Point[];
  /** Statements checked on this run. */
  readonly checks: readonly Check[];
  /** The GPU that ran the cells, when one was used. */
  readonly adapter: DeviceInfo | null;
  /** Seconds the run took (cached cells cost nearly nothing). */
  readonly wallSeconds: number;
}

/**
 * Thrown when an experiment has no preset for the requested scale.
 *
 * @example
 * ```ts
 * import { ScaleUnavailableError } from "./runner.ts";
 * console.log(new ScaleUnavailableError("table3", "paper", ["smoke"]).message);
 * // Cannot run table3 at scale "paper": it is defined for smoke only
 * ```
 */
export class ScaleUnavailableError extends RangeError {
  /**
   * Creates the error.
   * @param id experiment id
   * @param scale requested scale
   * @param available scales it has
   */
  constructor(id: string, scale: Scale, available: readonly string[]) {
    super(
      `Cannot run ${id} at scale "${scale}": it is defined for ${available.join(", ")} only`,
    );
    this.name = "ScaleUnavailableError";
  }
}

function validateSeeds(seeds: readonly number[]): void {
  if (seeds.length === 0) throw new RangeError("Cannot run with no seeds");
  for (const seed of seeds) {
    if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) {
      throw new RangeError(`Cannot run with seed ${seed}: seeds are integers 0 … 2³² − 1`);
    }
  }
}

function assertResult(cell: Cell, result: unknown): asserts result is CellResult {
  if (typeof result !== "object" || result === null) {
    throw new TypeError(`Cannot accept the result of cell "${cell.key}": not an object`);
  }
  for (const [name, value] of Object.entries(result)) {
    const ok = typeof value === "number" ||
      (Array.isArray(value) && value.every((v) => typeof v === "number"));
    if (!ok) {
      throw new TypeError(
        `Cannot accept the result of cell "${cell.key}": "${name}" is not a number or number[]`,
      );
    }
  }
}

/**
 * Runs every cell of `experiment` at `options.scale`, taking finished cells
 * from the cache, storing new ones as soon as each finishes (so an
 * interrupted run resumes where it stopped), then aggregates.
 *
 * @example
 * ```ts
 * import { runExperiment } from "./runner.ts";
 * import { defineTable } from "./define.ts";
 * const table = defineTable({
 *   id: "twice",
 *   title: "Twice",
 *   caption: "2·seed.",
 *   source: "example",
 *   scales: { smoke: { params: {}, seeds: [1, 2, 3] } },
 *   rows: () => [{ key: "r", label: "r" }],
 *   columns: [{ key: "v", label: "v", digits: 1 }],
 *   cells: (_p, seeds) =>
 *     seeds.map((seed) => ({ key: `twice/${seed}`, row: "r", seed, run: () => Promise.resolve({ v: 2 * seed }) })),
 * });
 * const run = await runExperiment(table, { scale: "smoke" });
 * console.log(run.table?.stats.r?.v?.mean); // 4
 * ```
 */
export async function runExperiment(
  experiment: Experiment,
  options: RunOptions,
): Promise<ExperimentRun> {
  const started = performance.now();
  const preset = experiment.scales[options.scale];
  if (!preset) {
    throw new ScaleUnavailableError(experiment.id, options.scale, Object.keys(experiment.scales));
  }
  const seeds = options.seeds ?? preset.seeds;
  validateSeeds(seeds);
  const cache = options.cache ?? new MemoryCache();
  const cells = experiment.cells(preset.params, seeds, options.scale);
  const keys = new Set<string>();
  for (const cell of cells) {
    if (keys.has(cell.key)) {
      throw new TypeError(`Cannot run ${experiment.id}: two cells share the key "${cell.key}"`);
    }
    keys.add(cell.key);
  }
  let gpu = options.gpu ?? null;
  let gpuPromise: Promise<Gpu> | null = null;
  const getGpu = (): Promise<Gpu> => {
    if (gpu) return Promise.resolve(gpu);
    gpuPromise ??= Gpu.create(options.device).then((g) => (gpu = g));
    return gpuPromise;
  };
  const artifacts = options.artifacts ?? new MemoryArtifacts();
  // Under `force`, an artifact asked for with `refresh` is made afresh once per call, then shared.
  const made = new Set<string>();
  const artifact = async (
    name: string,
    make: () => Promise<Uint8Array>,
    artifactOptions: { refresh?: boolean } = {},
  ) => {
    const refresh = options.force && artifactOptions.refresh && !made.has(name);
    const stored = refresh ? undefined : await artifacts.get(name);
    if (stored) return stored;
    const bytes = await make();
    await artifacts.set(name, bytes);
    made.add(name);
    return bytes;
  };
  const checkpoint = (name: string) => {
    const path = `checkpoints/${name}`;
    return {
      load: async () => (await artifacts.get(path)) ?? null,
      save: (bytes: Uint8Array) => artifacts.set(path, bytes),
      clear: () => artifacts.delete(path),
    };
  };
  const outcomes: CellOutcome[] = [];
  try {
    for (const [index, cell] of cells.entries()) {
      const base = {
        experiment: experiment.id,
        cell: index,
        cells: cells.length,
        row: cell.row,
        seed: cell.seed,
      };
      const hit = options.force ? undefined : await cache.get(cell.key);
      if (hit) {
        options.onProgress?.({ ...base, cached: true, fraction: 1 });
        outcomes.push({
          ...cellIdentity(cell),
          result: hit.result,
          seconds: hit.seconds,
          cached: true,
        });
        continue;
      }
      options.onProgress?.({ ...base, cached: false, fraction: 0 });
      const t0 = performance.now();
      const result = await cell.run({
        scale: options.scale,
        seed: cell.seed,
        gpu: getGpu,
        resources: options.resources ?? {},
        artifact,
        checkpoint,
        progress: (update) => options.onProgress?.({ ...base, cached: false, ...update }),
      });
      assertResult(cell, result);
      const seconds = (performance.now() - t0) / 1000;
      await cache.set({ key: cell.key, result, seconds });
      outcomes.push({ ...cellIdentity(cell), result, seconds, cached: false });
    }
  } finally {
    if (gpu && !options.gpu) (gpu as Gpu).destroy();
  }
  const params = preset.params;
  let table: TableData | undefined;
  let points: Point[] | undefined;
  let checks: Check[] = [];
  if (experiment.kind === "table") {
    table = aggregateTable(experiment.rows(params), experiment.columns, outcomes);
    checks = experiment.verify?.(table, params) ?? [];
  } else {
    points = experiment.points(outcomes, params);
    checks = experiment.verify?.(points, params) ?? [];
  }
  const adapter = gpu ? (gpu as Gpu).info : null;
  return {
    experiment,
    scale: options.scale,
    params,
    seeds,
    outcomes,
    ...(table ? { table } : {}),
    ...(points ? { points } : {}),
    checks,
    adapter,
    wallSeconds: (performance.now() - started) / 1000,
  };
}

function cellIdentity(cell: Cell): { key: string; row: string; seed: number } {
  return { key: cell.key, row: cell.row, seed: cell.seed };
}
