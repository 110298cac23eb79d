/**
 * The shapes every data source produces: one instruction-tuning
 * {@linkcode Example}, and a {@linkcode FederatedDataset} (examples split
 * over clients plus a held-out test set), as paper.md §5 describes the four
 * datasets. Built-in suites and the real-file loaders both return these.
 *
 * @module
 */

import type { TemplateId } from "./templates.ts";
import { type PartitionStats, partitionStats } from "../fl/partition/stats.ts";

/** One instruction / (optional) input / reference output triple with its label. */
export interface Example {
  /** The task instruction (NI "Definition", Dolly "instruction", GSM8K "question"). */
  readonly instruction: string;
  /** Extra context; `""` when there is none (Dolly "context", NI instance "input"). */
  readonly input: string;
  /** The reference response (first reference only, paper.md §5.1). */
  readonly output: string;
  /** Category, task name or language: what partitioners and statistics group by. */
  readonly label: string;
}

/** Statistics of a federated dataset, for reports. */
export interface DatasetStats extends PartitionStats {
  /** Examples in the test set. */
  readonly testExamples: number;
  /** Test examples per label. */
  readonly testLabelHistogram: Readonly<Record<string, number>>;
  /** Mean UTF-8 bytes of instruction + input + output over train and test examples. */
  readonly meanBytes: number;
  /** Largest UTF-8 bytes of instruction + input + output. */
  readonly maxBytes: number;
  /** Examples or files left out by a named rule (paper rules only), with counts. */
  readonly dropped: Readonly<Record<string, number>>;
}

/** Examples split over clients, a test set, and how prompts are rendered. */
export interface FederatedDataset {
  /** Dataset name, e.g. `ni-like` or `dolly-15k`. */
  readonly name: string;
  /** Training examples of each client. */
  readonly clients: readonly (readonly Example[])[];
  /** A label per client (task name, language, or `client-<i>`). */
  readonly clientLabels: readonly string[];
  /** Held-out evaluation examples. */
  readonly test: readonly Example[];
  /** The prompt template to render examples with (see templates.ts). */
  readonly template: TemplateId;
  /** Counts for reports. */
  readonly stats: DatasetStats;
}

const encoder = new TextEncoder();

/**
 * UTF-8 size of an example's three texts.
 *
 * @example
 * ```ts
 * import { exampleBytes } from "./example.ts";
 * console.log(exampleBytes({ instruction: "é", input: "ab", output: "c", label: "x" })); // 5
 * ```
 */
export function exampleBytes(example: Example): number {
  return encoder.encode(example.instruction).length + encoder.encode(example.input).length +
    encoder.encode(example.output).length;
}

/**
 * Assembles a {@linkcode FederatedDataset}, computing its statistics.
 *
 * @example
 * ```ts
 * import { federatedDataset } from "./example.ts";
 * const ex = { instruction: "Add 1.", input: "2", output: "3", label: "add" };
 * const ds = federatedDataset({
 *   name: "toy", clients: [[ex], [ex, ex]], clientLabels: ["a", "b"], test: [ex], template: "compact",
 * });
 * console.log(ds.stats.samplesPerClient); // [1, 2]
 * ```
 */
export function federatedDataset(parts: {
  name: string;
  clients: readonly (readonly Example[])[];
  clientLabels: readonly string[];
  test: readonly Example[];
  template: TemplateId;
  dropped?: Readonly<Record<string, number>>;
}): FederatedDataset {
  if (parts.clients.length !== parts.clientLabels.length) {
    throw new TypeError(
      `Cannot assemble dataset "${parts.name}": ${parts.clients.length} clients but ` +
        `${parts.clientLabels.length} client labels`,
    );
  }
  const labelOf = parts.clients.map((c) => c.map((e) => e.label));
  const base = partitionStats(labelOf);
  const testLabelHistogram: Record<string, number> = {};
  for (const e of parts.test) testLabelHistogram[e.label] = (testLabelHistogram[e.label] ?? 0) + 1;
  let total = 0, count = 0, maxBytes = 0;
  for (const e of [...parts.clients.flat(), ...parts.test]) {
    const b = exampleBytes(e);
    total += b;
    count++;
    if (b > maxBytes) maxBytes = b;
  }
  return {
    name: parts.name,
    clients: parts.clients,
    clientLabels: parts.clientLabels,
    test: parts.test,
    template: parts.template,
    stats: {
      ...base,
      testExamples: parts.test.length,
      testLabelHistogram: sortedRecord(testLabelHistogram),
      meanBytes: count === 0 ? 0 : total / count,
      maxBytes,
      dropped: sortedRecord(parts.dropped ?? {}),
    },
  };
}

function sortedRecord(r: Readonly<Record<string, number>>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const k of Object.keys(r).sort()) out[k] = r[k]!;
  return out;
}
