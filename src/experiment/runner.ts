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
  ArtifactOptions,
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
import { sha256Hex } from "./hash.ts";
import { aggregateTable } from "./stats.ts";

/** A finished cell as stored in a cache. */
export interface CachedCell {
  /** The cell's key. */
  readonly key: string;
  /** What it returned. */
  readonly result: CellResult;
  /** Seconds it took. */
  readonly seconds: number;
  /**
   * Processes that computed cells side by side when it was made (absent:
   * 1); a timed experiment does not take it from the cache when above 1.
   */
  readonly jobs?: number;
}

/** Where finished cells are kept between runs. */
export interface CellCache {
  /** The cached cell for `key`, if any. */
  get(key: string): Promise<CachedCell | undefined>;
  /** Stores a finished cell (must be durable before it resolves). */
  set(cell: CachedCell): Promise<void>;
}

/**
 * Work shared out at run time among processes over one artifact store and
 * cache (`deno task reproduce --jobs`): the first to claim a name makes it.
 */
export interface WorkClaims {
  /** Whether this process is the first to claim `name` (then it makes it). */
  claim(name: string): Promise<boolean>;
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
  /**
   * Run only this shard's part of the work (a sharded reproduction, several
   * processes over one shared artifact store and cache): the shardable
   * artifacts (federated runs) whose name hashes to `index` mod `count`, and
   * the cells whose key does, for cells that use the GPU outside such
   * artifacts. A cell that needs another shard's missing artifact is left
   * unfinished (not cached, not in `outcomes`); a plain run over the same
   * store then finishes it from what the shards stored.
   */
  shard?: { readonly index: number; readonly count: number };
  /**
   * Run only the work this process claims first (several processes on one
   * machine over one store, each claiming as it goes): like `shard`, with
   * the shardable artifacts and GPU-using cells owned by whoever claims
   * them first instead of by a hash. Not with `shard`.
   */
  claims?: WorkClaims;
  /**
   * Processes computing cells side by side on this machine (default 1).
   * Recorded with every cell and timed artifact made, so that a `timed`
   * experiment never reports seconds measured beside other jobs: it makes
   * such cells and artifacts again.
   */
  jobs?: number;
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
  /** Keys of the cells left to other shards or jobs (empty unless `shard` or `claims` was given). */
  readonly unfinished: readonly string[];
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
  const shard = options.shard ?? null;
  if (shard) validateShard(shard);
  const claims = options.claims ?? null;
  if (shard && claims) throw new RangeError("Cannot run a shard and claim work at once");
  const jobs = options.jobs ?? 1;
  if (!Number.isInteger(jobs) || jobs < 1) {
    throw new RangeError(`Cannot run as one of ${jobs} jobs: expected an integer ≥ 1`);
  }
  // A part of the work only (a shard, or the claims of one of several jobs).
  const partial = shard !== null || claims !== null;
  const claimed = new Set<string>();
  const owns = async (name: string): Promise<boolean> => {
    if (claims) {
      if (!claimed.has(name) && await claims.claim(name)) claimed.add(name);
      return claimed.has(name);
    }
    return !shard || await shardOf(name, shard.count) === shard.index;
  };
  // Cells made beside other jobs record their number (absent: made alone).
  const besideOthers = jobs > 1 ? { jobs } : {};
  // Timed artifacts made beside other jobs carry a note `<name>.jobs` with their number.
  const jobsNote = (name: string) => `${name}.jobs`;
  const madeBesideOthers = async (name: string) => {
    const note = await artifacts.get(jobsNote(name));
    return note !== undefined && Number(new TextDecoder().decode(note)) > 1;
  };
  // Partial: what the cell being run may do, and which other jobs' artifacts it lacked.
  let cellOwned: boolean | null = null;
  let cellKey = "";
  let insideOwned = 0;
  let lacking: string[] = [];
  // Under `force`, an artifact asked for with `refresh` is made afresh once per call, then shared.
  const made = new Set<string>();
  const artifact = async (
    name: string,
    make: () => Promise<Uint8Array>,
    artifactOptions: ArtifactOptions = {},
  ) => {
    const refresh = options.force && artifactOptions.refresh && !made.has(name);
    const stale = experiment.timed && artifactOptions.timed && await madeBesideOthers(name);
    const stored = refresh || stale ? undefined : await artifacts.get(name);
    if (stored) return stored;
    let bytes: Uint8Array;
    if (partial && artifactOptions.shardable) {
      if (!await owns(name)) {
        lacking.push(name);
        if (artifactOptions.placeholder) return artifactOptions.placeholder();
        throw new OtherShardsWork(name);
      }
      insideOwned++;
      try {
        bytes = await make();
      } finally {
        insideOwned--;
      }
    } else {
      bytes = await make();
    }
    // The note goes first when made beside others, last when not: an interruption between the
    // two writes leaves the artifact marked as made beside others, which only costs a remake.
    if (artifactOptions.timed && jobs > 1) {
      await artifacts.set(jobsNote(name), new TextEncoder().encode(`${jobs}\n`));
    }
    await artifacts.set(name, bytes);
    if (artifactOptions.timed && jobs === 1) await artifacts.delete(jobsNote(name));
    made.add(name);
    return bytes;
  };
  // A cell another job owns may still make this job's artifacts, but not use the GPU itself.
  const cellGpu = async (): Promise<Gpu> => {
    if (partial && insideOwned === 0) {
      cellOwned ??= await owns(cellKey);
      if (!cellOwned) throw new OtherShardsWork("cell");
    }
    return getGpu();
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
  const unfinished: string[] = [];
  try {
    for (const [index, cell] of cells.entries()) {
      const base = {
        experiment: experiment.id,
        cell: index,
        cells: cells.length,
        row: cell.row,
        seed: cell.seed,
      };
      const cached = options.force ? undefined : await cache.get(cell.key);
      // A timed experiment's seconds are measured alone.
      const hit = experiment.timed && (cached?.jobs ?? 1) > 1 ? undefined : cached;
      if (hit) {
        options.onProgress?.({ ...base, cached: true, fraction: 1 });
        outcomes.push({
          ...cellIdentity(cell),
          result: hit.result,
          seconds: hit.seconds,
          cached: true,
          ...(hit.jobs ? { jobs: hit.jobs } : {}),
        });
        continue;
      }
      options.onProgress?.({ ...base, cached: false, fraction: 0 });
      const t0 = performance.now();
      cellOwned = null;
      cellKey = cell.key;
      lacking = [];
      let result: CellResult;
      try {
        result = await cell.run({
          scale: options.scale,
          seed: cell.seed,
          gpu: cellGpu,
          resources: options.resources ?? {},
          artifact,
          checkpoint,
          progress: (update) => options.onProgress?.({ ...base, cached: false, ...update }),
        });
      } catch (error) {
        // Sharded, a cell fed another shard's placeholder may fail on it: it is unfinished either way.
        if (!(error instanceof OtherShardsWork) && lacking.length === 0) throw error;
        unfinished.push(cell.key);
        continue;
      }
      if (lacking.length > 0) {
        unfinished.push(cell.key);
        continue;
      }
      assertResult(cell, result);
      const seconds = (performance.now() - t0) / 1000;
      await cache.set({ key: cell.key, result, seconds, ...besideOthers });
      outcomes.push({ ...cellIdentity(cell), result, seconds, cached: false, ...besideOthers });
    }
  } finally {
    if (gpu && !options.gpu) (gpu as Gpu).destroy();
  }
  const params = preset.params;
  let table: TableData | undefined;
  let points: Point[] | undefined;
  let checks: Check[] = [];
  if (partial) {
    // A part's outcomes are a part of the experiment: the plain run over the store renders it.
  } else if (experiment.kind === "table") {
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
    unfinished,
    wallSeconds: (performance.now() - started) / 1000,
  };
}

/** Work that belongs to another shard of a sharded reproduction. */
class OtherShardsWork extends Error {
  constructor(what: string) {
    super(`Cannot make ${what}: it belongs to another shard`);
    this.name = "OtherShardsWork";
  }
}

function validateShard(shard: { readonly index: number; readonly count: number }): void {
  const { index, count } = shard;
  if (
    !Number.isInteger(count) || count < 1 || !Number.isInteger(index) || index < 0 || index >= count
  ) {
    throw new RangeError(`Cannot run shard ${index} of ${count}: expected 0 ≤ index < count`);
  }
}

/**
 * The shard (0 … count − 1) that owns the work called `name`: the first 32
 * bits of its SHA-256, mod `count`. A pure function of the name, so every
 * process of a sharded reproduction agrees on the partition.
 *
 * @example
 * ```ts
 * import { shardOf } from "./runner.ts";
 * console.log(await shardOf("runs/smoke/abc.json", 1), (await shardOf("x", 3)) < 3); // 0 true
 * ```
 */
export async function shardOf(name: string, count: number): Promise<number> {
  return parseInt((await sha256Hex(name)).slice(0, 8), 16) % count;
}

/** What {@linkcode planCells} learns of one cell without running its work. */
export interface CellPlan {
  /** The cell's key, row and seed. */
  readonly key: string;
  /** Its row. */
  readonly row: string;
  /** Its seed. */
  readonly seed: number;
  /** The shardable artifacts (federated runs) it asks for, with their plans. */
  readonly work: readonly { readonly name: string; readonly plan: unknown }[];
  /** Whether it also uses the GPU itself (outside those artifacts). */
  readonly gpu: boolean;
}

/** Ends a cell being planned: its work is not run. */
class Planned extends Error {}

/**
 * Walks `experiment`'s cells at `scale` without running their work: each
 * cell runs until it asks for the GPU or for an artifact it would have to
 * make, and the shardable artifacts it asks for on the way are recorded
 * with their `plan` (a cell reading them gets their placeholders).
 *
 * @example
 * ```ts
 * import { planCells } from "./runner.ts";
 * import { table7 } from "../../experiments/table7.ts";
 * const plans = await planCells(table7, { scale: "smoke" });
 * console.log(plans.length, plans[0]!.work.length, plans[0]!.gpu); // 1 0 false
 * ```
 */
export async function planCells(
  experiment: Experiment,
  options: { readonly scale: Scale; readonly seeds?: readonly number[] },
): Promise<CellPlan[]> {
  const plans: CellPlan[] = [];
  const cells = presetCells(experiment, options.scale, options.seeds);
  for (const cell of cells) {
    const work: { name: string; plan: unknown }[] = [];
    let gpu = false;
    try {
      await cell.run({
        scale: options.scale,
        seed: cell.seed,
        gpu: () => {
          gpu = true;
          return Promise.reject(new Planned());
        },
        resources: {},
        artifact: (name, _make, artifactOptions = {}) => {
          if (!artifactOptions.shardable || !artifactOptions.placeholder) throw new Planned();
          work.push({ name, plan: artifactOptions.plan ?? null });
          return Promise.resolve(artifactOptions.placeholder());
        },
        checkpoint: () => ({
          load: () => Promise.resolve(null),
          save: () => Promise.resolve(),
          clear: () => Promise.resolve(),
        }),
        progress: () => {},
      });
    } catch {
      // Planned, or a cell failing on a placeholder: what it asked for so far is recorded.
    }
    plans.push({ key: cell.key, row: cell.row, seed: cell.seed, work, gpu });
  }
  return plans;
}

/**
 * The keys of `experiment`'s cells at `scale` that `cache` does not hold
 * yet: what a sharded reproduction has still to finish.
 *
 * @example
 * ```ts
 * import { MemoryCache, missingCells, runExperiment } from "./runner.ts";
 * import { table7 } from "../../experiments/table7.ts";
 * const cache = new MemoryCache();
 * const before = await missingCells(table7, { scale: "smoke", cache });
 * await runExperiment(table7, { scale: "smoke", cache });
 * console.log(before.length, (await missingCells(table7, { scale: "smoke", cache })).length); // 1 0
 * ```
 */
export async function missingCells(
  experiment: Experiment,
  options: { readonly scale: Scale; readonly seeds?: readonly number[]; readonly cache: CellCache },
): Promise<string[]> {
  const missing: string[] = [];
  for (const cell of presetCells(experiment, options.scale, options.seeds)) {
    if (!await options.cache.get(cell.key)) missing.push(cell.key);
  }
  return missing;
}

/** The cells of `experiment` at `scale` (none where it has no preset), with `seeds` or its own. */
function presetCells(experiment: Experiment, scale: Scale, seeds?: readonly number[]): Cell[] {
  const preset = experiment.scales[scale];
  return preset ? experiment.cells(preset.params, seeds ?? preset.seeds, scale) : [];
}

function cellIdentity(cell: Cell): { key: string; row: string; seed: number } {
  return { key: cell.key, row: cell.row, seed: cell.seed };
}
