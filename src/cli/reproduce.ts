/**
 * `deno task reproduce <id>… | all`: runs experiments and writes
 * `<out>/<id>.{csv,md,json}` (+ `.svg` for figures). The only code that reads
 * arguments or writes result files (DESIGN.md §2).
 *
 * @module
 */

import { EXPERIMENTS, findExperiment } from "../../experiments/mod.ts";
import { planExperiments } from "../../experiments/plan.ts";
import type { DeviceInfo } from "../gpu/device.ts";
import { Gpu } from "../gpu/gpu.ts";
import { resultsIndex } from "./results_index.ts";
import type { Experiment } from "../experiment/define.ts";
import { toCsv } from "../experiment/csv.ts";
import { toManifest } from "../experiment/manifest.ts";
import { toMarkdown } from "../experiment/markdown.ts";
import { figureSvg } from "../experiment/plot.ts";
import { type ExperimentRun, missingCells, runExperiment } from "../experiment/runner.ts";
import {
  autoJobs,
  parseReproduceArgs,
  type ReproduceArgs,
  SHARD_VARIABLES,
  USAGE,
  UsageError,
} from "./args.ts";
import { DirectoryArtifacts, DirectoryCache, DirectoryClaims, writeFileAtomic } from "./files.ts";
import { runJobs } from "./jobs.ts";
import { gitCommit } from "./git.ts";
import { ProgressLine } from "./progress.ts";
import { STAND_IN_DIR } from "./stand_ins.ts";

/** Levenshtein distance, for "did you mean" hints. */
function distance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let diagonal = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const above = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, diagonal + (a[i - 1] === b[j - 1] ? 0 : 1));
      diagonal = above;
    }
  }
  return row[b.length]!;
}

/** Resolves ids (and `all`) to experiments, refusing unknown ids with the valid ones. */
export function selectExperiments(ids: readonly string[]): Experiment[] {
  if (ids.length === 0) {
    throw new UsageError("Cannot reproduce nothing: name an experiment id or `all` (see --list)");
  }
  if (ids.includes("all")) return [...EXPERIMENTS];
  const valid = EXPERIMENTS.map((e) => e.id);
  return ids.map((id) => {
    const experiment = findExperiment(id);
    if (experiment) return experiment;
    const near = valid.filter((v) => distance(v, id) <= 2);
    const hint = near.length > 0 ? ` Did you mean ${near.join(" or ")}?` : "";
    throw new UsageError(
      `Cannot reproduce "${id}": no such experiment.${hint} Valid ids: ${valid.join(", ")}, all`,
    );
  });
}

const REQUIREMENT_FLAGS = {
  data: ["--data-dir", "dataDir", "the real datasets"],
  models: ["--model-dir", "modelDir", "the real model checkpoints"],
} as const;

/** Refuses an experiment whose scale needs folders that were not given or do not exist. */
export function checkRequirements(experiment: Experiment, args: ReproduceArgs): void {
  for (const need of experiment.requires?.[args.scale] ?? []) {
    const [flag, key, what] = REQUIREMENT_FLAGS[need];
    const dir = args[key];
    if (!dir) {
      throw new UsageError(
        `Cannot run ${experiment.id} at scale "${args.scale}": it needs ${what}; pass ${flag} DIR ` +
          "(the README lists what each experiment expects there)",
      );
    }
    if (Deno.permissions.querySync({ name: "read", path: dir }).state !== "granted") {
      throw new UsageError(
        `Cannot read ${flag} ${dir}: this process was not granted it (deno task reproduce ` +
          "grants exactly the --data-dir and --model-dir folders it is given)",
      );
    }
    let isDirectory = false;
    try {
      isDirectory = Deno.statSync(dir).isDirectory;
    } catch {
      // reported below
    }
    if (!isDirectory) {
      throw new UsageError(`Cannot use ${flag} ${dir}: no such folder`);
    }
  }
}

function listing(): string {
  const width = Math.max(...EXPERIMENTS.map((e) => e.id.length));
  return EXPERIMENTS.map((e) =>
    `${e.id.padEnd(width)}  ${e.title} [${Object.keys(e.scales).join(", ")}]`
  ).join("\n");
}

async function writeOutputs(run: ExperimentRun, args: ReproduceArgs, command: string) {
  const id = run.experiment.id;
  const base = `${args.out}/${id}`;
  const manifest = toManifest(run, { command, gitCommit: await gitCommit() });
  const files: [string, string][] = [
    [`${base}.csv`, toCsv(run)],
    [`${base}.md`, toMarkdown(run)],
    [`${base}.json`, JSON.stringify(manifest, null, 2) + "\n"],
  ];
  if (run.experiment.kind === "figure") {
    files.push([`${base}.svg`, await figureSvg(run.experiment, run.points ?? [])]);
  }
  for (const [path, text] of files) {
    await writeFileAtomic(path, text);
  }
  return files.map(([path]) => path);
}

/** The scheduler variables `--shard auto` reads, where the process may read them. */
function schedulerEnv(): Record<string, string | undefined> {
  const env: Record<string, string | undefined> = {};
  for (const name of SHARD_VARIABLES) {
    if (Deno.permissions.querySync({ name: "env", variable: name }).state === "granted") {
      env[name] = Deno.env.get(name);
    }
  }
  return env;
}

/**
 * Refuses a folder this process may not or cannot write: creates it and a
 * probe file in it, so the reason (permission, read-only disk, a file in
 * the way) is said before any work starts.
 */
function checkWritable(flag: string, dir: string): void {
  if (Deno.permissions.querySync({ name: "write", path: dir }).state !== "granted") {
    throw new UsageError(
      `Cannot write to ${flag} ${dir}: this process was not granted it (deno task reproduce ` +
        `grants exactly the --out and --cache-dir folders it is given)`,
    );
  }
  try {
    Deno.mkdirSync(dir, { recursive: true });
    const probe = `${dir}/.write-probe-${Deno.pid}`;
    Deno.writeTextFileSync(probe, "");
    Deno.removeSync(probe);
  } catch (error) {
    throw new UsageError(`Cannot write to ${flag} ${dir}: ${(error as Error).message}`);
  }
}

/** Runs the CLI with `argv`; returns the exit status. */
export async function main(argv: readonly string[]): Promise<number> {
  let args: ReproduceArgs;
  let experiments: Experiment[];
  try {
    args = parseReproduceArgs(argv, schedulerEnv());
    if (args.help) {
      console.log(USAGE);
      return 0;
    }
    if (args.list) {
      console.log(listing());
      return 0;
    }
    experiments = selectExperiments(args.ids);
    const explicit = !args.ids.includes("all");
    const unavailable = experiments.filter((e) => !e.scales[args.scale]);
    if (explicit && unavailable.length > 0) {
      const e = unavailable[0]!;
      throw new UsageError(
        `Cannot run ${e.id} at scale "${args.scale}": it is defined for ` +
          `${Object.keys(e.scales).join(", ")} only`,
      );
    }
    for (const e of unavailable) console.error(`skipping ${e.id}: no "${args.scale}" preset`);
    // The plan reads no data (a model's config.json at most, where --model-dir names it).
    if (!args.plan) { for (const e of experiments) checkRequirements(e, args); }
    // The plan writes nothing; a shard, a job and --list-missing write no results.
    if (!args.plan && !args.shard && !args.claims && !args.listMissing) {
      checkWritable("--out", args.out);
    }
    if (!args.plan) checkWritable("--cache-dir", args.cacheDir);
    experiments = experiments.filter((e) => e.scales[args.scale]);
  } catch (error) {
    if (error instanceof UsageError) {
      console.error(`error: ${error.message}\n\n${USAGE}`);
      return 2;
    }
    throw error;
  }
  if (args.plan) {
    const gpu = await Gpu.create(args.backend ? { backend: args.backend } : {});
    try {
      const { text, refused } = await planExperiments(experiments, {
        scale: args.scale,
        gpu,
        ...(args.seeds ? { seeds: args.seeds } : {}),
        ...(args.modelDir ? { modelDir: args.modelDir } : {}),
        ...(args.deviceMemory ? { deviceMemory: args.deviceMemory } : {}),
      });
      console.log(text);
      return refused > 0 ? 1 : 0;
    } finally {
      gpu.destroy();
    }
  }
  const command = ["deno task reproduce", ...argv].join(" ");
  const cache = new DirectoryCache(`${args.cacheDir}/cells`);
  const artifacts = new DirectoryArtifacts(`${args.cacheDir}/artifacts`);
  if (args.listMissing) {
    let missing = 0;
    for (const experiment of experiments) {
      const keys = await missingCells(experiment, {
        scale: args.scale,
        cache,
        ...(args.seeds ? { seeds: args.seeds } : {}),
      });
      missing += keys.length;
      for (const key of keys) console.log(`${experiment.id}\t${key}`);
    }
    console.error(`${missing} cell(s) missing from ${args.cacheDir}`);
    return 0;
  }
  const partial = args.shard !== undefined || args.claims !== undefined;
  const jobs = args.jobs ?? (partial ? 1 : autoJobs(args.scale, navigator.hardwareConcurrency));
  // With several jobs, what reports seconds runs first and alone; then the jobs compute the rest
  // side by side, and this process renders it from the cache (making alone what they left).
  const shared = jobs > 1 && !partial ? experiments.filter((e) => !e.timed) : [];
  const order = [...experiments.filter((e) => !shared.includes(e)), ...shared];
  const claims = args.claims ? new DirectoryClaims(args.claims) : undefined;
  const progress = new ProgressLine();
  const failures: string[] = [];
  // The adapter the jobs ran on (this machine's), for the manifests rendered from their cache.
  let jobsAdapter: DeviceInfo | null = null;
  for (const experiment of order) {
    if (experiment === shared[0]) {
      const what = shared.length === 1 ? shared[0]!.id : `${shared.length} experiments`;
      console.error(`${what}: ${jobs} jobs side by side (--jobs ${jobs})`);
      const { failed, interrupted } = await runJobs(shared.map((e) => e.id), args, jobs);
      if (interrupted) {
        console.error("Stopped; the same command resumes from the cache.");
        return 130;
      }
      for (const line of failed) {
        console.error(`warning: ${line}; what the jobs left is made here, alone`);
      }
      const gpu = await Gpu.create(args.backend ? { backend: args.backend } : {});
      jobsAdapter = gpu.info;
      gpu.destroy();
    }
    try {
      const ran = await runExperiment(experiment, {
        scale: args.scale,
        ...(args.seeds ? { seeds: args.seeds } : {}),
        cache,
        artifacts,
        resources: {
          ...(args.dataDir ? { dataDir: args.dataDir } : {}),
          ...(args.modelDir ? { modelDir: args.modelDir } : {}),
          standInDir: STAND_IN_DIR,
        },
        // The jobs did what --force asks of the experiments they ran: rendering redoes none of it.
        force: args.force && !shared.includes(experiment),
        onProgress: (event) => progress.update(event),
        ...(args.backend ? { device: { backend: args.backend } } : {}),
        ...(args.shard ? { shard: args.shard } : {}),
        ...(claims ? { claims, jobs } : {}),
      });
      progress.done();
      const run = shared.includes(experiment)
        ? { ...ran, adapter: ran.adapter ?? jobsAdapter }
        : ran;
      if (partial) {
        const cells = run.outcomes.length + run.unfinished.length;
        const part = args.shard ? `shard ${args.shard.index}/${args.shard.count}` : "job";
        const others = args.shard ? "other shards'" : "other jobs'";
        console.error(
          `${experiment.id}: ${part} finished ${run.outcomes.length} of ${cells} ` +
            `cells (${run.unfinished.length} wait for ${others} runs) in ` +
            `${run.wallSeconds.toFixed(1)} s`,
        );
        continue;
      }
      const paths = await writeOutputs(run, args, command);
      console.log(toMarkdown(run));
      const cached = run.outcomes.filter((o) => o.cached).length;
      console.error(
        `${experiment.id}: ${run.outcomes.length} cells (${cached} cached) in ` +
          `${run.wallSeconds.toFixed(1)} s → ${paths.join(", ")}`,
      );
    } catch (error) {
      progress.done();
      const message = error instanceof Error ? error.message : String(error);
      console.error(`error: ${experiment.id} failed: ${message}`);
      failures.push(experiment.id);
    }
  }
  if (experiments.length > failures.length && !partial) {
    await writeFileAtomic(`${args.out}/README.md`, await resultsIndex(args.out));
  }
  if (failures.length > 0) {
    console.error(`${failures.length} of ${experiments.length} failed: ${failures.join(", ")}`);
    return 1;
  }
  return 0;
}

if (import.meta.main) {
  Deno.exit(await main(Deno.args));
}
