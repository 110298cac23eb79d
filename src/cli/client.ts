/**
 * `deno task client`: one client of a federation (src/federation/client.ts)
 * until the server says it is done.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { type Backend, BACKENDS } from "../gpu/device.ts";
import { Gpu } from "../gpu/gpu.ts";
import { runClient } from "../federation/client.ts";
import type { Example } from "../data/example.ts";
import { readCodeAlpacaRows } from "../data/loaders/code_alpaca.ts";
import { readDollyRows } from "../data/loaders/dolly.ts";
import { readGsm8kRows } from "../data/loaders/gsm8k.ts";
import { readNaturalInstructionsTask } from "../data/loaders/natural_instructions.ts";
import { parseBackend, parseNumber, UsageError } from "./args.ts";

/** Usage of `deno task client`. */
export const CLIENT_USAGE = `Usage: deno task client --server URL --token T --client I [options]

Joins the federation at URL (as \`deno task serve\` prints it) as client I,
which holds partition I of the federation's built-in suite (or its own
file, --data), and trains in every round it is sampled for.

  --server URL         the server, e.g. http://127.0.0.1:8787
  --token T            the token the server printed
  --client I           this client's index, 0 … N − 1
  --data FILE          train on this file instead of partition I of the built-in
                       suite: a GSM8K or Dolly JSONL file, a CodeAlpaca JSON
                       file or a Natural Instructions task file
  --format F           the file's format: gsm8k, dolly, code-alpaca or
                       natural-instructions (default: from the file's name)
  --retry S            seconds to keep reconnecting after a drop (default 60)
  --backend B          force a WebGPU backend: ${BACKENDS.join(" | ")}
  --help               this text`;

/** The formats a client's own data file may have. */
export const DATA_FORMATS = ["gsm8k", "dolly", "code-alpaca", "natural-instructions"] as const;

/** One of {@linkcode DATA_FORMATS}. */
export type DataFormat = (typeof DATA_FORMATS)[number];

/** `format`, or the one the file's name says (`gsm8k`, `dolly`, `code_alpaca`, `task…`). */
function dataFormat(path: string, format: string | undefined): DataFormat {
  if (format !== undefined) {
    if (!DATA_FORMATS.includes(format as DataFormat)) {
      throw new UsageError(`Cannot read --format ${format}: choose ${DATA_FORMATS.join(", ")}`);
    }
    return format as DataFormat;
  }
  const name = path.split("/").at(-1)!.toLowerCase();
  const guess = name.includes("gsm8k")
    ? "gsm8k"
    : name.includes("dolly")
    ? "dolly"
    : name.includes("alpaca")
    ? "code-alpaca"
    : /^task\d+/.test(name)
    ? "natural-instructions"
    : null;
  if (!guess) {
    throw new UsageError(
      `Cannot tell the format of ${path} from its name: add --format (${DATA_FORMATS.join(", ")})`,
    );
  }
  return guess;
}

/** The examples of a client's own file, through the dataset loaders. */
export async function readClientExamples(path: string, format: DataFormat): Promise<Example[]> {
  switch (format) {
    case "gsm8k":
      return await readGsm8kRows(path);
    case "dolly":
      return await readDollyRows(path);
    case "code-alpaca":
      return await readCodeAlpacaRows(path);
    case "natural-instructions": {
      const task = await readNaturalInstructionsTask(path);
      const label = path.split("/").at(-1)!.replace(/\.json$/, "");
      return task.instances.map((x) => ({
        instruction: task.definition,
        input: x.input,
        output: x.output,
        label,
      }));
    }
  }
}

/** Parsed arguments of `deno task client`. */
export interface ClientArgs {
  readonly server: string;
  readonly token: string;
  readonly client: number;
  readonly retry: number;
  /** Its own data file and format, if any. */
  readonly data?: { readonly path: string; readonly format: DataFormat };
  readonly backend?: Backend;
  readonly help: boolean;
}

/**
 * Parses `deno task client`'s arguments.
 *
 * @example
 * ```ts
 * import { parseClientArgs } from "./client.ts";
 * const args = parseClientArgs(["--server", "http://127.0.0.1:8787", "--token", "t", "--client", "2"]);
 * console.log(args.client, args.retry); // 2 60
 * ```
 */
export function parseClientArgs(argv: readonly string[]): ClientArgs {
  let values;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      options: {
        server: { type: "string" },
        token: { type: "string" },
        client: { type: "string" },
        retry: { type: "string" },
        data: { type: "string" },
        format: { type: "string" },
        backend: { type: "string" },
        help: { type: "boolean" },
      },
    }));
  } catch (error) {
    throw new UsageError(`${(error as Error).message}\n\n${CLIENT_USAGE}`);
  }
  if (values.help) return { server: "", token: "", client: 0, retry: 0, help: true };
  for (const flag of ["server", "token", "client"] as const) {
    if (!values[flag]) throw new UsageError(`Cannot join without --${flag}\n\n${CLIENT_USAGE}`);
  }
  try {
    const url = new URL(values.server!);
    if (url.protocol !== "http:" && url.protocol !== "https:") throw new TypeError();
  } catch {
    throw new UsageError(`Cannot join ${values.server}: expected an http:// or https:// URL`);
  }
  const client = Number(values.client);
  if (!Number.isInteger(client) || client < 0) {
    throw new UsageError(`Cannot be client ${values.client}: expected an integer ≥ 0`);
  }
  const retry = parseNumber(values.retry, "--retry", 60, 0);
  const backend = parseBackend(values.backend);
  if (values.format !== undefined && values.data === undefined) {
    throw new UsageError("Cannot use --format without --data");
  }
  const data = values.data === undefined
    ? undefined
    : { path: values.data, format: dataFormat(values.data, values.format) };
  return {
    server: values.server!,
    token: values.token!,
    client,
    retry,
    ...(data ? { data } : {}),
    ...(backend ? { backend } : {}),
    help: false,
  };
}

if (import.meta.main) {
  try {
    const args = parseClientArgs(Deno.args);
    if (args.help) {
      console.log(CLIENT_USAGE);
      Deno.exit(0);
    }
    const examples = args.data && await readClientExamples(args.data.path, args.data.format);
    const gpu = await Gpu.create(args.backend ? { backend: args.backend } : {});
    const summary = await runClient({
      ...(examples ? { examples } : {}),
      server: args.server,
      token: args.token,
      client: args.client,
      gpu,
      retrySeconds: args.retry,
      log: (line) => console.log(line),
    });
    console.log(
      `Done: trained in rounds ${summary.trained.join(", ")}; sent ${summary.bytes.up} B, ` +
        `received ${summary.bytes.down} B after joining (${summary.bytes.welcome} B at joining); ` +
        `model ${summary.hash.slice(0, 16)}…, final eval loss ${summary.evalLoss?.toFixed(4)}`,
    );
    gpu.destroy();
  } catch (error) {
    if (error instanceof UsageError) {
      console.error(error.message);
      Deno.exit(2);
    }
    console.error((error as Error).message);
    Deno.exit(1);
  }
}
