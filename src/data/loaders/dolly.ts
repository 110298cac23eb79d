/**
 * Dolly-15K loader (`databricks-dolly-15k.jsonl`: one object per line with
 * string fields instruction, context, response, category) with the paper's
 * split (paper.md §5.1 and §7 item 11):
 *
 * - categories are coded as `pd.Categorical` codes them — sorted distinct
 *   values — and code 7 (`summarization` in the real file) is held out as
 *   the test set;
 * - the rows are put in a random order (the official code's `random_split`
 *   of the whole set), then the remaining categories are split over 200
 *   clients by Dirichlet label skew, α = 0.5, at least 10 rows per client
 *   ({@linkcode dirichletPartition});
 * - context becomes the input; prompts use the official code's Dolly
 *   template (`dolly-code`).
 *
 * Deviation, for `heldOutCategory` other than 7 only: the remaining classes
 * are renumbered contiguously (the official code would then silently leave
 * out the last category).
 *
 * @module
 */

import { RandomStream } from "../../random/stream.ts";
import { dirichletPartition } from "../../fl/partition/dirichlet.ts";
import { type Example, type FederatedDataset, federatedDataset } from "../example.ts";
import { DataFormatError, parseJsonl, pathIn, readText, stringField } from "./read.ts";
import type { TemplateId } from "../templates.ts";

/** Options of {@linkcode loadDolly}; defaults are the paper's. */
export interface DollyOptions {
  /** Run seed (u32). */
  readonly seed: number;
  /** File name inside the directory (`databricks-dolly-15k.jsonl`). */
  readonly file?: string;
  /** Clients (200). */
  readonly clients?: number;
  /** Dirichlet α (0.5). */
  readonly alpha?: number;
  /** Minimum examples per client (10). */
  readonly minSize?: number;
  /** Category code held out for evaluation (7). */
  readonly heldOutCategory?: number;
}

/** Reads and validates the Dolly JSONL rows as examples (label = category). */
export async function readDollyRows(path: string): Promise<Example[]> {
  const text = await readText(path);
  return parseJsonl(text, path).map(({ value, line }) => {
    const where = { path, line: () => line };
    return {
      instruction: stringField(value, "instruction", where),
      input: stringField(value, "context", where),
      output: stringField(value, "response", where),
      label: stringField(value, "category", where),
    };
  });
}

/**
 * Loads Dolly-15K from `dir` and splits it as the paper does.
 *
 * @example
 * ```ts
 * import { loadDolly } from "./dolly.ts";
 * const cats = ["brainstorming", "classification", "closed_qa", "creative_writing",
 *   "general_qa", "information_extraction", "open_qa", "summarization"];
 * const rows = Array.from({ length: 80 }, (_, i) => JSON.stringify({
 *   instruction: `q${i}`, context: "", response: `a${i}`, category: cats[i % 8] }));
 * const dir = await Deno.makeTempDir();
 * await Deno.writeTextFile(`${dir}/databricks-dolly-15k.jsonl`, rows.join("\n") + "\n");
 * const ds = await loadDolly(dir, { seed: 1, clients: 3, minSize: 5 });
 * console.log(ds.test.length, ds.stats.trainExamples); // 10 70
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function loadDolly(dir: string, options: DollyOptions): Promise<FederatedDataset> {
  const path = pathIn(dir, options.file ?? "databricks-dolly-15k.jsonl");
  const rows = await readDollyRows(path);
  return splitDollyRows(rows, {
    ...options,
    name: "dolly-15k",
    template: "dolly-code",
    where: path,
  });
}

/**
 * The paper's Dolly split of validated rows (label = category): category code
 * `heldOutCategory` is the test set, the rest go to clients by Dirichlet
 * label skew after a seeded shuffle. Shared by {@linkcode loadDolly} and the
 * Dolly-like built-in suite.
 *
 * @example
 * ```ts
 * import { splitDollyRows } from "./dolly.ts";
 * const cats = "a b c d e f g h".split(" ");
 * const rows = Array.from({ length: 64 }, (_, i) => ({ instruction: `${i}`, input: "", output: "", label: cats[i % 8]! }));
 * const ds = splitDollyRows(rows, { seed: 1, clients: 2, minSize: 5, name: "toy", template: "dolly-code", where: "toy" });
 * console.log(ds.test.length, ds.stats.trainExamples); // 8 56
 * ```
 */
export function splitDollyRows(
  rows: readonly Example[],
  options: DollyOptions & {
    readonly name: string;
    readonly template: TemplateId;
    readonly where: string;
  },
): FederatedDataset {
  const categories = [...new Set(rows.map((r) => r.label))].sort();
  const held = options.heldOutCategory ?? 7;
  const heldName = categories[held];
  if (heldName === undefined) {
    throw new DataFormatError(
      options.where,
      1,
      `Cannot hold out category code ${held}: the data has ${categories.length} categories ` +
        `(${categories.join(", ")})`,
    );
  }
  const order = new RandomStream(options.seed, `data/${options.name}/order`).shuffle(
    Array.from({ length: rows.length }, (_, i) => i),
  );
  const train = order.filter((i) => rows[i]!.label !== heldName).map((i) => rows[i]!);
  const test = order.filter((i) => rows[i]!.label === heldName).map((i) => rows[i]!);
  const { parts } = dirichletPartition(train.map((r) => r.label), {
    clients: options.clients ?? 200,
    alpha: options.alpha ?? 0.5,
    minSize: options.minSize ?? 10,
    seed: options.seed,
  });
  return federatedDataset({
    name: options.name,
    clients: parts.map((p) => p.map((i) => train[i]!)),
    clientLabels: parts.map((_, j) => `client-${j}`),
    test,
    template: options.template,
  });
}
