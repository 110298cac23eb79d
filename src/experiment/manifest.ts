/**
 * The JSON manifest written beside every result: how exactly it was made.
 *
 * @module
 */

import { VERSION } from "../version.ts";
import type { ExperimentRun } from "./runner.ts";

/** Facts about the invocation that only the caller knows. */
export interface Invocation {
  /** The command line that produced the run. */
  command: string;
  /** The git commit of the toolkit, when known. */
  gitCommit: string | null;
}

/** The manifest's shape (stable; consumers may rely on these fields). */
export interface Manifest {
  id: string;
  kind: "table" | "figure";
  title: string;
  caption: string;
  source: string;
  statement: string | null;
  command: string;
  scale: string;
  seeds: readonly number[];
  config: unknown;
  adapter: unknown;
  deno: string;
  toolkit: string;
  gitCommit: string | null;
  wallSeconds: number;
  cells: {
    key: string;
    row: string;
    seed: number;
    seconds: number;
    cached: boolean;
    /** Processes computing cells side by side when it ran (absent: 1). */
    jobs?: number;
    result: unknown;
  }[];
  checks: readonly {
    claim: string;
    holds: boolean;
    verdict?: string;
    timed?: true;
    detail: string;
  }[];
  notes: readonly string[];
}

/** Builds the manifest of a run. */
export function toManifest(run: ExperimentRun, invocation: Invocation): Manifest {
  const e = run.experiment;
  return {
    id: e.id,
    kind: e.kind,
    title: e.title,
    caption: e.caption,
    source: e.source,
    statement: e.statement ?? null,
    command: invocation.command,
    scale: run.scale,
    seeds: run.seeds,
    config: run.params,
    adapter: run.adapter,
    deno: Deno.version.deno,
    toolkit: VERSION,
    gitCommit: invocation.gitCommit,
    wallSeconds: Math.round(run.wallSeconds * 1000) / 1000,
    cells: run.outcomes.map((o) => ({
      key: o.key,
      row: o.row,
      seed: o.seed,
      seconds: Math.round(o.seconds * 1000) / 1000,
      cached: o.cached,
      ...(o.jobs ? { jobs: o.jobs } : {}),
      result: o.result,
    })),
    checks: run.checks,
    notes: e.notes ?? [],
  };
}
