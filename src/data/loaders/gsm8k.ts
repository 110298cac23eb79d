/**
 * GSM8K loader (`train.jsonl`, `test.jsonl`: one `{question, answer}` object
 * per line; every answer ends in `#### <number>`). As in the paper
 * (paper.md §5.2) the official training split is spread IID over 3 clients
 * and the official test split is the test set. The question is the
 * instruction, the worked answer the reference output.
 *
 * @module
 */

import { iidPartition } from "../../fl/partition/iid.ts";
import { finalAnswer } from "../../metrics/exact_match.ts";
import { type Example, type FederatedDataset, federatedDataset } from "../example.ts";
import { DataFormatError, parseJsonl, pathIn, readText, stringField } from "./read.ts";

/** Options of {@linkcode loadGsm8k}. */
export interface Gsm8kOptions {
  /** Run seed (u32). */
  readonly seed: number;
  /** Clients (3). */
  readonly clients?: number;
  /** Training file name (`train.jsonl`). */
  readonly trainFile?: string;
  /** Test file name (`test.jsonl`). */
  readonly testFile?: string;
}

/** Reads and validates GSM8K rows. */
export async function readGsm8kRows(path: string): Promise<Example[]> {
  const text = await readText(path);
  return parseJsonl(text, path).map(({ value, line }) => {
    const where = { path, line: () => line };
    const question = stringField(value, "question", where);
    const answer = stringField(value, "answer", where);
    if (finalAnswer(answer) === null) {
      throw new DataFormatError(path, line, 'the answer does not end in "#### <number>"');
    }
    return { instruction: question, input: "", output: answer, label: "gsm8k" };
  });
}

/**
 * Loads GSM8K from `dir`.
 *
 * @example
 * ```ts
 * import { loadGsm8k } from "./gsm8k.ts";
 * const dir = await Deno.makeTempDir();
 * const row = (i: number) => JSON.stringify({ question: `${i}+1?`, answer: `${i}+1=${i + 1}\n#### ${i + 1}` });
 * await Deno.writeTextFile(`${dir}/train.jsonl`, [0, 1, 2, 3, 4, 5].map(row).join("\n"));
 * await Deno.writeTextFile(`${dir}/test.jsonl`, row(9) + "\n");
 * const ds = await loadGsm8k(dir, { seed: 3 });
 * console.log(ds.stats.samplesPerClient, ds.test.length); // [2, 2, 2] 1
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function loadGsm8k(dir: string, options: Gsm8kOptions): Promise<FederatedDataset> {
  const train = await readGsm8kRows(pathIn(dir, options.trainFile ?? "train.jsonl"));
  const test = await readGsm8kRows(pathIn(dir, options.testFile ?? "test.jsonl"));
  const parts = iidPartition(train.length, options.clients ?? 3, options.seed);
  return federatedDataset({
    name: "gsm8k",
    clients: parts.map((p) => p.map((i) => train[i]!)),
    clientLabels: parts.map((_, j) => `client-${j}`),
    test,
    template: "alpaca",
  });
}
