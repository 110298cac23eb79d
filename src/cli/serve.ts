/**
 * `deno task serve`: runs a federation server (src/federation/server.ts)
 * until its last round, printing the token, the command each Deno client
 * runs and the browser client's address (the page's script is bundled at
 * start, src/federation/bundle.ts). Its state — the join token and the per-round checkpoint — lives in
 * `.cache/federation/<name>/`, so the same command after a crash or a
 * Ctrl-C resumes from the last finished round, with the same token.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { SUITE_NAMES, type SuiteName } from "../data/suites/builtin.ts";
import { type Backend, BACKENDS } from "../gpu/device.ts";
import { Gpu } from "../gpu/gpu.ts";
import { bundleBrowserClient } from "../federation/bundle.ts";
import { FederationServer } from "../federation/server.ts";
import {
  EXAMPLE_ALGORITHMS,
  type ExampleAlgorithm,
  exampleSpec,
  type FederationSpec,
  validateSpec,
} from "../federation/spec.ts";
import { hex } from "../federation/wire.ts";
import { FileCheckpointStore, writeFileAtomic } from "./files.ts";
import { parseBackend, parseNumber, UsageError } from "./args.ts";

/** Usage of `deno task serve`. */
export const SERVE_USAGE = `Usage: deno task serve [options]

Runs a federation: waits for every client of the spec to join, then runs
its rounds; clients join with \`deno task client\` (the command is printed).

  --algorithm A        ${EXAMPLE_ALGORITHMS.join(", ")} (default ferret:
                       official mode; ferret-paper: the paper's)
  --suite S            built-in suite whose partitions the clients hold:
                       ${SUITE_NAMES.join(", ")} (default gsm8k-like)
  --rounds R           rounds (default 3)
  --spec FILE          the whole federation spec as JSON instead
                       (src/federation/spec.ts; --algorithm, --suite and
                       --rounds then do not apply)
  --port P             port (default 8787)
  --hostname H         interface (default 127.0.0.1; 0.0.0.0 for all)
  --deadline S         seconds a client has to upload (default 120)
  --name N             state folder .cache/federation/N (default: default)
  --fresh              forget that folder's checkpoint and token first
  --print-spec         print the spec as JSON and exit (edit it, pass it to --spec)
  --backend B          force a WebGPU backend: ${BACKENDS.join(" | ")}
  --help               this text`;

/** Parsed arguments of `deno task serve`. */
export interface ServeArgs {
  readonly spec: FederationSpec;
  readonly port: number;
  readonly hostname: string;
  readonly deadline: number;
  readonly name: string;
  readonly fresh: boolean;
  /** Print the spec and exit. */
  readonly printSpec: boolean;
  readonly backend?: Backend;
  readonly help: boolean;
}

/**
 * Parses `deno task serve`'s arguments (the spec file read by `readSpec`).
 *
 * @example
 * ```ts
 * import { parseServeArgs } from "./serve.ts";
 * const args = parseServeArgs(["--algorithm", "fedavg", "--rounds", "5"], () => "");
 * console.log(args.spec.algorithm.kind, args.spec.rounds, args.port); // fedavg 5 8787
 * ```
 */
export function parseServeArgs(
  argv: readonly string[],
  readSpec: (path: string) => string,
): ServeArgs {
  let values;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      options: {
        algorithm: { type: "string" },
        suite: { type: "string" },
        rounds: { type: "string" },
        spec: { type: "string" },
        port: { type: "string" },
        hostname: { type: "string" },
        deadline: { type: "string" },
        name: { type: "string" },
        fresh: { type: "boolean" },
        "print-spec": { type: "boolean" },
        backend: { type: "string" },
        help: { type: "boolean" },
      },
    }));
  } catch (error) {
    throw new UsageError(`${(error as Error).message}\n\n${SERVE_USAGE}`);
  }
  const algorithm = (values.algorithm ?? "ferret") as ExampleAlgorithm;
  if (!EXAMPLE_ALGORITHMS.includes(algorithm)) {
    throw new UsageError(
      `Cannot serve algorithm "${algorithm}": choose ${EXAMPLE_ALGORITHMS.join(", ")} (or --spec)`,
    );
  }
  const suite = (values.suite ?? "gsm8k-like") as SuiteName;
  if (!SUITE_NAMES.includes(suite)) {
    throw new UsageError(`Cannot serve suite "${suite}": choose ${SUITE_NAMES.join(", ")}`);
  }
  let spec: FederationSpec;
  if (values.spec) {
    try {
      spec = validateSpec(JSON.parse(readSpec(values.spec)));
    } catch (error) {
      throw new UsageError(`Cannot use the spec ${values.spec}: ${(error as Error).message}`);
    }
  } else {
    const rounds = parseNumber(values.rounds, "--rounds", 3, 1);
    if (!Number.isInteger(rounds)) throw new UsageError(`Cannot run ${rounds} rounds`);
    spec = { ...exampleSpec(suite, algorithm), rounds };
  }
  const name = values.name ?? "default";
  if (!/^[\w.-]+$/.test(name) || name.startsWith(".")) {
    throw new UsageError(`Cannot name the state folder "${name}": use letters, digits, . _ -`);
  }
  const backend = parseBackend(values.backend);
  const port = parseNumber(values.port, "--port", 8787, 0);
  if (!Number.isInteger(port) || port > 65535) {
    throw new UsageError(`Cannot listen on port ${port}`);
  }
  return {
    spec,
    port,
    hostname: values.hostname ?? "127.0.0.1",
    deadline: parseNumber(values.deadline, "--deadline", 120, 0.001),
    name,
    fresh: values.fresh ?? false,
    printSpec: values["print-spec"] ?? false,
    ...(backend ? { backend } : {}),
    help: values.help ?? false,
  };
}

/** The state folder's token, made and saved on first use. */
async function tokenOf(dir: string): Promise<string> {
  const path = `${dir}/token`;
  try {
    return (await Deno.readTextFile(path)).trim();
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
  const token = hex(crypto.getRandomValues(new Uint8Array(16)));
  await writeFileAtomic(path, token + "\n");
  return token;
}

async function main(argv: readonly string[]): Promise<number> {
  const args = parseServeArgs(argv, (path) => Deno.readTextFileSync(path));
  if (args.help) {
    console.log(SERVE_USAGE);
    return 0;
  }
  if (args.printSpec) {
    console.log(JSON.stringify(args.spec, null, 2));
    return 0;
  }
  const dir = `.cache/federation/${args.name}`;
  if (args.fresh) await Deno.remove(dir, { recursive: true }).catch(() => {});
  const gpu = await Gpu.create(args.backend ? { backend: args.backend } : {});
  const browserClient = await bundleBrowserClient().catch((error: Error) => {
    console.error(`No browser page: ${error.message}`);
    return undefined;
  });
  const server = await FederationServer.start({
    spec: args.spec,
    gpu,
    port: args.port,
    hostname: args.hostname,
    token: await tokenOf(dir),
    checkpoint: new FileCheckpointStore(`${dir}/checkpoint.bin`),
    deadlineSeconds: args.deadline,
    log: (line) => console.log(line),
    ...(browserClient ? { browserClient } : {}),
  });
  const clients = server.clients;
  console.log(
    `Federation ${args.spec.algorithm.kind} on ${args.spec.data.suite}: ${clients} clients, ` +
      `${args.spec.rounds} rounds; state in ${dir}/`,
  );
  console.log(`Token: ${server.token}`);
  console.log("Each client runs (i = 0 … " + (clients - 1) + "):");
  console.log(`  deno task client --server ${server.url} --token ${server.token} --client i`);
  if (browserClient) {
    console.log(
      `or opens, in a browser with WebGPU: ${server.url}/?token=${server.token}&client=i`,
    );
  }
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    Deno.addSignalListener(signal, () => {
      console.log("Stopped; the same command resumes from the last finished round.");
      Deno.exit(130);
    });
  }
  const result = await server.run();
  const last = result.records.at(-1);
  console.log(
    `Done: ${result.records.length} rounds, final eval loss ${last?.evalLoss?.toFixed(4)}`,
  );
  await server.close();
  gpu.destroy();
  return 0;
}

if (import.meta.main) {
  try {
    Deno.exit(await main(Deno.args));
  } catch (error) {
    if (error instanceof UsageError) {
      console.error(error.message);
      Deno.exit(2);
    }
    throw error;
  }
}
