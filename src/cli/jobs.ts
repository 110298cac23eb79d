/**
 * `deno task reproduce --jobs N`: N worker processes of src/cli/reproduce.ts
 * compute the cells of the given experiments side by side on this machine,
 * each claiming the next federated run (or GPU-using cell) that no other
 * has claimed (`WorkClaims` in src/experiment/runner.ts), in a claims folder
 * under --cache-dir. Their results land in the shared cache, from which the
 * calling process then renders the tables. Their progress is shown
 * together: one line per job on a terminal, each line prefixed in logs.
 *
 * @module
 */

import type { ReproduceArgs } from "./args.ts";
import { reproduceCommand } from "./launch.ts";

/**
 * A worker's arguments: the same work at the same scale, seeds and
 * folders, as one of `jobs` claiming in `claims`.
 *
 * @example
 * ```ts
 * import { workerArgs } from "./jobs.ts";
 * import { parseReproduceArgs } from "./args.ts";
 * const args = parseReproduceArgs(["table3", "--seeds", "0,1"]);
 * console.log(workerArgs(["table3"], args, 2, ".cache/claims/1").join(" "));
 * // table3 --scale default --cache-dir .cache --out results --jobs 2 --claims .cache/claims/1 --seeds 0,1
 * ```
 */
export function workerArgs(
  ids: readonly string[],
  args: ReproduceArgs,
  jobs: number,
  claims: string,
): string[] {
  return [
    ...ids,
    ...["--scale", args.scale, "--cache-dir", args.cacheDir, "--out", args.out],
    ...["--jobs", String(jobs), "--claims", claims],
    ...(args.seeds ? ["--seeds", args.seeds.join(",")] : []),
    ...(args.force ? ["--force"] : []),
    ...(args.backend ? ["--backend", args.backend] : []),
    ...(args.dataDir ? ["--data-dir", args.dataDir] : []),
    ...(args.modelDir ? ["--model-dir", args.modelDir] : []),
  ];
}

/** What {@linkcode runJobs} reports. */
export interface JobsOutcome {
  /** Each job that did not exit with status 0, as `job i: status s`. */
  readonly failed: readonly string[];
  /** Whether the run was interrupted (SIGINT or SIGTERM, passed on to the jobs). */
  readonly interrupted: boolean;
}

/**
 * Runs `jobs` workers over the experiments `ids` and waits for all of
 * them. The claims folder is removed afterwards, so a later run claims
 * afresh (interrupted work resumes from the cache and its checkpoints).
 */
export async function runJobs(
  ids: readonly string[],
  args: ReproduceArgs,
  jobs: number,
): Promise<JobsOutcome> {
  const claims = `${args.cacheDir}/claims/${Deno.pid}-${Date.now()}`;
  const root = new URL("../../", import.meta.url).pathname.replace(/\/$/, "");
  const command = reproduceCommand(workerArgs(ids, args, jobs, claims), root, ".");
  const view = new JobsView(jobs);
  const children: Deno.ChildProcess[] = [];
  try {
    for (let job = 0; job < jobs; job++) {
      children.push(
        new Deno.Command(Deno.execPath(), {
          args: command,
          stdin: "null",
          stdout: "null",
          stderr: "piped",
        }).spawn(),
      );
    }
  } catch (error) {
    // Not allowed to start processes (reproduce.ts run without the launcher's --allow-run, say).
    for (const child of children) {
      child.kill("SIGTERM");
      await child.stderr.cancel();
      await child.status;
    }
    return { failed: [`cannot start the jobs: ${(error as Error).message}`], interrupted: false };
  }
  let interrupted = false;
  const stop = () => {
    interrupted = true;
    for (const child of children) {
      try {
        child.kill("SIGTERM");
      } catch {
        // Already exited.
      }
    }
  };
  const signals = ["SIGINT", "SIGTERM"] as const;
  for (const signal of signals) Deno.addSignalListener(signal, stop);
  try {
    const statuses = await Promise.all(children.map(async (child, job) => {
      await view.follow(job, child.stderr);
      return (await child.status).code;
    }));
    view.done();
    const failed = statuses.flatMap((code, job) =>
      code === 0 ? [] : [`job ${job + 1}: status ${code}`]
    );
    return { failed, interrupted };
  } finally {
    for (const signal of signals) Deno.removeSignalListener(signal, stop);
    await Deno.remove(claims, { recursive: true }).catch(() => {});
    // The claims/ folder too, unless another run's claims are in it.
    await Deno.remove(`${args.cacheDir}/claims`).catch(() => {});
  }
}

/** The jobs' stderr on this process's stderr: their latest lines side by side, or prefixed. */
class JobsView {
  readonly #tty = Deno.stderr.isTerminal();
  readonly #encoder = new TextEncoder();
  readonly #latest: string[];

  constructor(jobs: number) {
    this.#latest = Array.from({ length: jobs }, () => "starting");
  }

  /** Shows job `job`'s lines until its stream ends. */
  async follow(job: number, stream: ReadableStream<Uint8Array>): Promise<void> {
    let pending = "";
    for await (const text of stream.pipeThrough(new TextDecoderStream())) {
      const lines = (pending + text).split(/[\r\n]+/);
      pending = lines.pop()!;
      for (const line of lines) if (line.trim()) this.#show(job, line);
    }
    if (pending.trim()) this.#show(job, pending);
  }

  /** Clears the live line (on a terminal). */
  done(): void {
    if (this.#tty) this.#write("\r\x1b[2K");
  }

  #show(job: number, line: string): void {
    const label = `[job ${job + 1}/${this.#latest.length}]`;
    // Errors and warnings stay on screen; progress only updates the live line.
    if (!this.#tty || /^(error|warning)\b/i.test(line)) {
      this.#write(`${this.#tty ? "\r\x1b[2K" : ""}${label} ${line}\n`);
      return;
    }
    this.#latest[job] = line;
    let width = 160;
    try {
      width = Deno.consoleSize().columns;
    } catch {
      // No console size: keep the default.
    }
    const share = Math.max(20, Math.floor(width / this.#latest.length) - 3);
    const parts = this.#latest.map((l, j) => `${j + 1}: ${l}`.slice(0, share));
    this.#write(`\r\x1b[2K${parts.join(" │ ").slice(0, width - 1)}`);
  }

  #write(text: string): void {
    Deno.stderr.writeSync(this.#encoder.encode(text));
  }
}
