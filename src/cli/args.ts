/**
 * Command-line arguments of `deno task reproduce`, parsed and validated
 * (bad values are refused with the reason, never ignored).
 *
 * @module
 */

import { parseArgs } from "node:util";
import { type Backend, BACKENDS } from "../gpu/device.ts";
import { type Scale, SCALES } from "../experiment/define.ts";

/** Thrown for bad command-line input; the CLI prints it and exits with status 2. */
export class UsageError extends Error {
  /** @param message what is wrong, with the offending value */
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

/** Parsed arguments. */
export interface ReproduceArgs {
  /** Experiment ids (`all` expanded by the caller). */
  ids: string[];
  /** List the experiments and exit. */
  list: boolean;
  /** Print usage and exit. */
  help: boolean;
  /** The scale. */
  scale: Scale;
  /** Seeds overriding each experiment's preset. */
  seeds?: number[];
  /** Output folder. */
  out: string;
  /** Cache folder: finished cells in `cells/`, shared artifacts in `artifacts/`. */
  cacheDir: string;
  /** This process's part of a sharded reproduction, if any. */
  shard?: { index: number; count: number };
  /** Processes computing cells side by side (`--jobs`; absent: `auto`, see {@linkcode autoJobs}). */
  jobs?: number;
  /** Claims folder of a `--jobs` run: this process is one of its jobs. */
  claims?: string;
  /** List the cells the cache does not hold yet and exit. */
  listMissing: boolean;
  /** Print the plan (runs, memory, time, refusals) and exit. */
  plan: boolean;
  /** The device's memory in bytes, for the plan. */
  deviceMemory?: number;
  /** Recompute cached cells. */
  force: boolean;
  /** Forced wgpu backend. */
  backend?: Backend;
  /** Real datasets (paper scale). */
  dataDir?: string;
  /** Real checkpoints (paper scale). */
  modelDir?: string;
}

/** Usage text. */
export const USAGE = `Usage: deno task reproduce <id>… | all [options]

Reproduces the paper's tables and figures; writes <out>/<id>.csv, .md, .json (and .svg for figures).

Options:
  --list               list the experiments and exit
  --scale S            smoke | default | paper (default: default)
  --seeds 0,1,2        seeds to run instead of the experiment's own
  --out DIR            output folder (default: results)
  --cache-dir DIR      cache folder: finished cells (cells/), shared runs, base models and
                       checkpoints (artifacts/) (default: .cache); interrupted runs resume from it
  --shard I/N          compute only shard I (0 … N − 1) of the work, into --cache-dir shared by
                       the N shards; then a plain run renders the results. I/N may be auto
                       (Slurm: SLURM_ARRAY_TASK_ID and _COUNT) or auto/N (Slurm or Kubernetes'
                       JOB_COMPLETION_INDEX)
  --jobs N             processes computing cells side by side on this machine, each claiming
                       the next run no other has (default auto: 2 at default scale where there
                       are 2 cores or more, else 1); experiments that report seconds (tables 4,
                       5, 10, figures 1, 5, 8, proposition1, pretrain) run first, alone
  --list-missing       list the cells the cache does not hold yet, and exit
  --plan               list every federated run with its model, GPU memory and estimated time
                       per round (calibrated on this adapter), refusing what cannot fit; exit
  --device-memory GIB  the device's memory, for --plan (WebGPU does not tell it)
  --force              recompute cells even when cached
  --backend B          force a WebGPU backend: ${BACKENDS.join(" | ")}
  --data-dir DIR       the real datasets, for --scale paper (see README)
  --model-dir DIR      the real model checkpoints, for --scale paper (see README)
  -h, --help           this text`;

function parseSeeds(text: string): number[] {
  const seeds = text.split(",").map((s) => s.trim()).filter((s) => s.length > 0).map((s) => {
    const n = Number(s);
    if (!/^\d+$/.test(s) || !Number.isSafeInteger(n) || n > 0xffffffff) {
      throw new UsageError(`Cannot use --seeds "${text}": "${s}" is not an integer 0 … 4294967295`);
    }
    return n;
  });
  if (seeds.length === 0) throw new UsageError(`Cannot use --seeds "${text}": no seed given`);
  if (new Set(seeds).size !== seeds.length) {
    throw new UsageError(`Cannot use --seeds "${text}": a seed is repeated`);
  }
  return seeds;
}

function parseGib(text: string): number {
  const gib = Number(text);
  if (!(gib > 0) || !Number.isFinite(gib)) {
    throw new UsageError(`Cannot use --device-memory "${text}": expected a number of GiB > 0`);
  }
  return gib * 2 ** 30;
}

/** The scheduler variables `--shard auto` reads. */
export const SHARD_VARIABLES = [
  "SLURM_ARRAY_TASK_ID",
  "SLURM_ARRAY_TASK_MIN",
  "SLURM_ARRAY_TASK_COUNT",
  "JOB_COMPLETION_INDEX",
] as const;

/**
 * `--shard I/N`: shard I of N. `auto` takes both from a Slurm job array
 * (SLURM_ARRAY_TASK_ID counted from SLURM_ARRAY_TASK_MIN, of
 * SLURM_ARRAY_TASK_COUNT); `auto/N` takes I from Slurm or from a
 * Kubernetes Indexed Job's JOB_COMPLETION_INDEX.
 *
 * @example
 * ```ts
 * import { parseShard } from "./args.ts";
 * console.log(parseShard("2/4", {}), parseShard("auto/3", { JOB_COMPLETION_INDEX: "1" })); // { index: 2, count: 4 } { index: 1, count: 3 }
 * ```
 */
export function parseShard(
  text: string,
  env: Readonly<Record<string, string | undefined>>,
): { index: number; count: number } {
  const integer = (value: string | undefined, what: string) => {
    if (value === undefined || !/^\d+$/.test(value.trim())) {
      throw new UsageError(`Cannot use --shard ${text}: ${what} is ${value ?? "not set"}`);
    }
    return Number(value.trim());
  };
  const [first, second, ...rest] = text.split("/");
  if (rest.length > 0 || first === undefined || first === "") {
    throw new UsageError(`Cannot use --shard ${text}: expected I/N, auto or auto/N`);
  }
  let index: number;
  let count: number;
  if (first === "auto") {
    const slurm = env.SLURM_ARRAY_TASK_ID;
    if (slurm !== undefined) {
      index = integer(slurm, "SLURM_ARRAY_TASK_ID") -
        (env.SLURM_ARRAY_TASK_MIN === undefined
          ? 0
          : integer(env.SLURM_ARRAY_TASK_MIN, "SLURM_ARRAY_TASK_MIN"));
      count = second === undefined
        ? integer(env.SLURM_ARRAY_TASK_COUNT, "SLURM_ARRAY_TASK_COUNT")
        : integer(second, "N");
    } else if (env.JOB_COMPLETION_INDEX !== undefined && second !== undefined) {
      index = integer(env.JOB_COMPLETION_INDEX, "JOB_COMPLETION_INDEX");
      count = integer(second, "N");
    } else {
      throw new UsageError(
        `Cannot use --shard ${text}: no scheduler variable (SLURM_ARRAY_TASK_ID, or ` +
          "JOB_COMPLETION_INDEX with auto/N); pass --shard I/N",
      );
    }
  } else {
    index = integer(first, "I");
    count = integer(second, "N");
  }
  if (count < 1 || index >= count) {
    throw new UsageError(`Cannot use --shard ${text}: shard ${index} of ${count} does not exist`);
  }
  return { index, count };
}

/**
 * The `--backend` value of any of the toolkit's commands, or undefined when
 * it is not given.
 *
 * @example
 * ```ts
 * import { parseBackend } from "./args.ts";
 * console.log(parseBackend("gl"), parseBackend(undefined)); // gl undefined
 * ```
 */
export function parseBackend(value: string | undefined): Backend | undefined {
  if (value !== undefined && !BACKENDS.includes(value as Backend)) {
    throw new UsageError(`Cannot use --backend "${value}": expected one of ${BACKENDS.join(", ")}`);
  }
  return value as Backend | undefined;
}

/**
 * A number flag of any of the toolkit's commands: `fallback` when absent,
 * else a finite number ≥ `min`.
 *
 * @example
 * ```ts
 * import { parseNumber } from "./args.ts";
 * console.log(parseNumber("2.5", "--retry", 60, 0), parseNumber(undefined, "--retry", 60, 0)); // 2.5 60
 * ```
 */
export function parseNumber(
  value: string | undefined,
  flag: string,
  fallback: number,
  min: number,
): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isFinite(n) || n < min) {
    throw new UsageError(`Cannot use ${flag} ${value}: expected a number ≥ ${min}`);
  }
  return n;
}

function parseJobs(text: string): number {
  const jobs = Number(text);
  if (!/^\d+$/.test(text) || jobs < 1 || jobs > 64) {
    throw new UsageError(`Cannot use --jobs ${text}: expected auto or an integer 1 … 64`);
  }
  return jobs;
}

/**
 * How many jobs `--jobs auto` runs: 2 at default scale where the machine
 * has 2 cores or more (on 2 cores one job keeps them 1.46 cores busy, and
 * two jobs finish Table 3's seeds 1.28× sooner), else 1: smoke runs are
 * too short to repay a second process's start, and a paper-scale run has
 * the GPU to itself.
 *
 * @example
 * ```ts
 * import { autoJobs } from "./args.ts";
 * console.log(autoJobs("default", 2), autoJobs("default", 1), autoJobs("smoke", 2), autoJobs("paper", 16)); // 2 1 1 1
 * ```
 */
export function autoJobs(scale: Scale, cores: number): number {
  return scale === "default" ? Math.max(1, Math.min(2, cores)) : 1;
}

/** Parses `argv` (without the program name); `env` feeds `--shard auto`. */
export function parseReproduceArgs(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>> = {},
): ReproduceArgs {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      allowPositionals: true,
      strict: true,
      options: {
        list: { type: "boolean", default: false },
        help: { type: "boolean", short: "h", default: false },
        scale: { type: "string", default: "default" },
        seeds: { type: "string" },
        out: { type: "string", default: "results" },
        "cache-dir": { type: "string", default: ".cache" },
        shard: { type: "string" },
        jobs: { type: "string" },
        claims: { type: "string" },
        "list-missing": { type: "boolean", default: false },
        plan: { type: "boolean", default: false },
        "device-memory": { type: "string" },
        force: { type: "boolean", default: false },
        backend: { type: "string" },
        "data-dir": { type: "string" },
        "model-dir": { type: "string" },
      },
    });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const { values, positionals } = parsed;
  const scale = values.scale as Scale;
  if (!SCALES.includes(scale)) {
    throw new UsageError(
      `Cannot use --scale "${values.scale}": expected one of ${SCALES.join(", ")}`,
    );
  }
  const backend = parseBackend(values.backend);
  const alone = values.shard !== undefined
    ? "--shard"
    : values.plan
    ? "--plan"
    : values["list-missing"]
    ? "--list-missing"
    : null;
  if (alone && values.jobs !== undefined && values.jobs !== "auto" && values.jobs !== "1") {
    throw new UsageError(`Cannot use --jobs ${values.jobs} with ${alone}: it runs as one process`);
  }
  if (values.claims !== undefined && (alone || values.jobs === undefined)) {
    throw new UsageError(
      `Cannot use --claims ${alone ? `with ${alone}` : "without --jobs"}: it makes this process ` +
        "one of the jobs of a --jobs run",
    );
  }
  for (const [flag, value] of [["--out", values.out], ["--cache-dir", values["cache-dir"]]]) {
    if (!value) throw new UsageError(`Cannot use ${flag} "": a folder is required`);
  }
  return {
    ids: positionals,
    list: values.list,
    help: values.help,
    scale,
    ...(values.seeds !== undefined ? { seeds: parseSeeds(values.seeds) } : {}),
    out: values.out.replace(/\/+$/, "") || "/",
    cacheDir: values["cache-dir"].replace(/\/+$/, "") || "/",
    ...(values.shard !== undefined ? { shard: parseShard(values.shard, env) } : {}),
    ...(values.jobs !== undefined && values.jobs !== "auto"
      ? { jobs: parseJobs(values.jobs) }
      : {}),
    ...(values.claims !== undefined ? { claims: values.claims.replace(/\/+$/, "") || "/" } : {}),
    listMissing: values["list-missing"],
    plan: values.plan,
    ...(values["device-memory"] !== undefined
      ? { deviceMemory: parseGib(values["device-memory"]) }
      : {}),
    force: values.force,
    ...(backend ? { backend } : {}),
    ...(values["data-dir"] ? { dataDir: values["data-dir"] } : {}),
    ...(values["model-dir"] ? { modelDir: values["model-dir"] } : {}),
  };
}
