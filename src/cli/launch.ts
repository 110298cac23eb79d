/**
 * `deno task reproduce`: starts the reproduction (src/cli/reproduce.ts) in
 * a Deno process that may read this repository and the folders its
 * arguments name, and write exactly its `--out` and `--cache-dir` folders
 * (by default results/ and .cache/) — wherever the user points them (a
 * shared cache on a cluster, a scratch disk) and nowhere else — and may
 * start only itself again (the workers of `--jobs`). The launcher
 * itself reads and writes nothing: it only resolves those folders and
 * passes the exit status, and Ctrl-C or a scheduler's SIGTERM, through.
 *
 * @module
 */

import { parseReproduceArgs, SHARD_VARIABLES } from "./args.ts";

/** Environment variables the reproduction reads. */
const ENV = ["DENO_WEBGPU_BACKEND", "XDG_RUNTIME_DIR", "NO_COLOR", ...SHARD_VARIABLES];

/**
 * The `deno run` arguments that start src/cli/reproduce.ts with `argv`
 * from the repository `root`, its folders resolved against `cwd`.
 *
 * @example
 * ```ts
 * import { reproduceCommand } from "./launch.ts";
 * const args = reproduceCommand(["table3", "--out", "/tmp/out"], "/repo", "/repo");
 * console.log(args.find((a) => a.startsWith("--allow-write"))); // --allow-write=/tmp/out,/repo/.cache
 * ```
 */
export function reproduceCommand(argv: readonly string[], root: string, cwd: string): string[] {
  const absolute = (path: string) => (path.startsWith("/") ? path : `${cwd}/${path}`);
  let read = [root];
  let write: string[] = [];
  try {
    const args = parseReproduceArgs(argv);
    write = [args.out, args.cacheDir].map(absolute);
    read = [
      root,
      ...write,
      ...[args.dataDir, args.modelDir].filter((d) => d).map((d) => absolute(d!)),
    ];
  } catch {
    // Bad arguments: the reproduction says what is wrong, with nothing granted.
  }
  const list = (paths: string[]) => [...new Set(paths.map((p) => p.replace(/\/+$/, "") || "/"))];
  return [
    "run",
    `--allow-read=${list(read).join(",")}`,
    ...(write.length > 0 ? [`--allow-write=${list(write).join(",")}`] : []),
    `--allow-env=${ENV.join(",")}`,
    // --jobs starts its workers as this same command.
    `--allow-run=${Deno.execPath()}`,
    `${root}/src/cli/reproduce.ts`,
    ...argv,
  ];
}

if (import.meta.main) {
  const root = new URL("../../", import.meta.url).pathname.replace(/\/$/, "");
  const child = new Deno.Command(Deno.execPath(), {
    args: reproduceCommand(Deno.args, root, Deno.cwd()),
    stdin: "inherit",
    stdout: "inherit",
    stderr: "inherit",
  }).spawn();
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    Deno.addSignalListener(signal, () => child.kill(signal));
  }
  Deno.exit((await child.status).code);
}
