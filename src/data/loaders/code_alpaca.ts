/**
 * CodeAlpaca loader (a JSON list of `{instruction, input, output}`) with the
 * paper's split (paper.md §5.2): x86-64 Assembly excluded, 10% of the rows
 * drawn uniformly at random as the test set (⌊0.1·n + 0.5⌋ rows), the rest
 * split by programming language into one client per language (9).
 *
 * The file has no language field, so the language is inferred
 * ({@linkcode inferCodeLanguage}) [our rule — the paper does not say how]:
 * a row may carry an explicit string field `language`, `lang` or
 * `category`; otherwise the instruction and input are searched for the
 * languages' names. A row that names exactly one known language gets it; a
 * row naming none or several is left out and counted, as is every Assembly
 * row. (The paper's ~8.0k rows in ten languages out of CodeAlpaca-20k fit
 * such a filter.)
 *
 * @module
 */

import { RandomStream } from "../../random/stream.ts";
import { partitionByAttribute } from "../../fl/partition/by_attribute.ts";
import { type Example, type FederatedDataset, federatedDataset } from "../example.ts";
import type { TemplateId } from "../templates.ts";
import {
  DataFormatError,
  lineOf,
  parseJson,
  pathIn,
  readText,
  stringField,
  typeName,
} from "./read.ts";

/**
 * The nine client languages, in client order [our assumption; see module doc].
 *
 * @example
 * ```ts
 * import { CODE_LANGUAGES } from "./code_alpaca.ts";
 * console.log(CODE_LANGUAGES.length); // 9
 * ```
 */
export const CODE_LANGUAGES: readonly string[] = [
  "C",
  "C#",
  "C++",
  "HTML",
  "Java",
  "JavaScript",
  "Python",
  "Ruby",
  "SQL",
];

/**
 * The excluded language.
 *
 * @example
 * ```ts
 * import { ASSEMBLY, inferCodeLanguage } from "./code_alpaca.ts";
 * console.log(inferCodeLanguage("Write x86-64 assembly to add two numbers.", "") === ASSEMBLY); // true
 * ```
 */
export const ASSEMBLY = "x86-64 Assembly";

/** Name patterns; order does not matter (a row must match exactly one). */
const PATTERNS: readonly (readonly [string, RegExp])[] = [
  [ASSEMBLY, /\bx86(?:-64|_64)?\b|\bassembly(?: language| code)?\b|\bnasm\b/i],
  ["C#", /\bC#|\bc[- ]?sharp\b/i],
  ["C++", /\bC\+\+|\bcpp\b/i],
  ["C", /\bC\b(?![+#])/],
  ["HTML", /\bHTML5?\b/i],
  ["JavaScript", /\bjavascript\b|\bnode\.?js\b|\bjquery\b|\bJS\b/i],
  ["Java", /\bjava\b/i],
  ["Python", /\bpython3?\b/i],
  ["Ruby", /\bruby\b/i],
  ["SQL", /\b(?:my|postgre|t-?|no)?sql(?:ite)?\b/i],
  ["CSS", /\bCSS3?\b/],
  ["PHP", /\bPHP\b/i],
  ["Go", /\bGolang\b|\bin Go\b|\bGo (?:program|function|code)\b/],
  ["Swift", /\bSwift\b/],
  ["R", /\bin R\b|\bR (?:program|function|code|script)\b/],
  ["Bash", /\bbash\b|\bshell script\b/i],
  ["Rust", /\bRust\b/],
  ["Kotlin", /\bKotlin\b/i],
  ["TypeScript", /\bTypeScript\b/i],
];

/**
 * The language a CodeAlpaca row names: one of {@linkcode CODE_LANGUAGES},
 * {@linkcode ASSEMBLY}, another language's name, `"ambiguous"` (several
 * named) or `null` (none). Case matters for `C`, `CSS`, `Go`, `Swift`, `R`
 * and `Rust`, whose names are also common words or letters.
 *
 * @example
 * ```ts
 * import { inferCodeLanguage } from "./code_alpaca.ts";
 * console.log(inferCodeLanguage("Write a Python function to add two numbers.", ""));
 * // prints "Python"
 * ```
 */
export function inferCodeLanguage(instruction: string, input: string): string | null {
  const text = `${instruction}\n${input}`;
  const hits = PATTERNS.filter(([, re]) => re.test(text)).map(([name]) => name);
  if (hits.length === 0) return null;
  if (hits.length > 1) return "ambiguous";
  return hits[0]!;
}

/** Options of {@linkcode loadCodeAlpaca}. */
export interface CodeAlpacaOptions {
  /** Run seed (u32). */
  readonly seed: number;
  /** File name inside the directory (`code_alpaca_20k.json`). */
  readonly file?: string;
  /** Client languages, in client order ({@linkcode CODE_LANGUAGES}). */
  readonly languages?: readonly string[];
  /** Test fraction (0.1). */
  readonly testFraction?: number;
}

/** Reads and validates the CodeAlpaca rows; label = the row's explicit language field or "". */
export async function readCodeAlpacaRows(path: string): Promise<Example[]> {
  const text = await readText(path);
  const json = parseJson(text, path);
  if (!Array.isArray(json)) {
    throw new DataFormatError(path, 1, `expected a list of rows, got ${typeName(json)}`);
  }
  return json.map((row: unknown, k) => {
    const where = { path, line: () => lineOf(text, [k]) };
    const explicit = ["language", "lang", "category"].find((key) =>
      typeof row === "object" && row !== null &&
      typeof (row as Record<string, unknown>)[key] === "string"
    );
    return {
      instruction: stringField(row, "instruction", where),
      input: stringField(row, "input", where),
      output: stringField(row, "output", where),
      label: explicit ? (row as Record<string, string>)[explicit]! : "",
    };
  });
}

/**
 * Loads CodeAlpaca from `dir` and splits it as the paper does.
 *
 * @example
 * ```ts
 * import { loadCodeAlpaca } from "./code_alpaca.ts";
 * const rows = ["Python", "Java", "C++"].flatMap((lang) =>
 *   Array.from({ length: 10 }, (_, i) => ({ instruction: `Write ${lang} code ${i}.`, input: "", output: "x" })));
 * const dir = await Deno.makeTempDir();
 * await Deno.writeTextFile(`${dir}/code_alpaca_20k.json`, JSON.stringify(rows, null, 1));
 * const ds = await loadCodeAlpaca(dir, { seed: 2 });
 * console.log(ds.clientLabels, ds.test.length); // ["C++", "Java", "Python"] 3
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function loadCodeAlpaca(
  dir: string,
  options: CodeAlpacaOptions,
): Promise<FederatedDataset> {
  const path = pathIn(dir, options.file ?? "code_alpaca_20k.json");
  const rows = await readCodeAlpacaRows(path);
  const dropped: Record<string, number> = {};
  const labelled: Example[] = [];
  for (const row of rows) {
    const lang = row.label !== ""
      ? normaliseLanguage(row.label)
      : inferCodeLanguage(row.instruction, row.input);
    if (lang === null) dropped["no language named"] = (dropped["no language named"] ?? 0) + 1;
    else if (lang === "ambiguous") {
      dropped["several languages named"] = (dropped["several languages named"] ?? 0) + 1;
    } else labelled.push({ ...row, label: lang });
  }
  return splitCodeAlpacaRows(labelled, {
    ...options,
    name: "code-alpaca",
    template: "alpaca",
    dropped,
  });
}

/**
 * The paper's CodeAlpaca split of rows labelled with their language:
 * Assembly and languages outside `languages` are left out (and counted),
 * 10% of the rest (⌊0.1·n + 0.5⌋) drawn uniformly at random are the test set,
 * and the remainder is split by language. Shared by {@linkcode loadCodeAlpaca}
 * and the CodeAlpaca-like built-in suite.
 *
 * @example
 * ```ts
 * import { splitCodeAlpacaRows } from "./code_alpaca.ts";
 * const rows = ["Python", "SQL", "x86-64 Assembly"].flatMap((label) =>
 *   Array.from({ length: 10 }, () => ({ instruction: "i", input: "", output: "o", label })));
 * const ds = splitCodeAlpacaRows(rows, { seed: 1, name: "toy", template: "alpaca" });
 * console.log(ds.clientLabels, ds.test.length, ds.stats.dropped); // ["Python", "SQL"] 2 { "x86-64 Assembly (excluded by the paper)": 10 }
 * ```
 */
export function splitCodeAlpacaRows(
  rows: readonly Example[],
  options: CodeAlpacaOptions & {
    readonly name: string;
    readonly template: TemplateId;
    readonly dropped?: Readonly<Record<string, number>>;
  },
): FederatedDataset {
  const languages = options.languages ?? CODE_LANGUAGES;
  const dropped: Record<string, number> = { ...options.dropped };
  const count = (why: string) => dropped[why] = (dropped[why] ?? 0) + 1;
  const kept: Example[] = [];
  for (const row of rows) {
    if (row.label === ASSEMBLY) count(`${ASSEMBLY} (excluded by the paper)`);
    else if (!languages.includes(row.label)) count(`language not among the clients: ${row.label}`);
    else kept.push(row);
  }
  const fraction = options.testFraction ?? 0.1;
  const nTest = Math.floor(kept.length * fraction + 0.5);
  const testIdx = new RandomStream(options.seed, `data/${options.name}/test`).sample(
    kept.length,
    nTest,
  );
  const isTest = new Set(testIdx);
  const train = kept.filter((_, i) => !isTest.has(i));
  const present = languages.filter((l) => train.some((r) => r.label === l));
  const { keys, parts } = partitionByAttribute(train.map((r) => r.label), present);
  return federatedDataset({
    name: options.name,
    clients: parts.map((p) => p.map((i) => train[i]!)),
    clientLabels: keys,
    test: testIdx.map((i) => kept[i]!),
    template: options.template,
    dropped,
  });
}

/** Maps an explicit language field to the names used here (case-insensitive). */
function normaliseLanguage(name: string): string {
  const n = name.trim().toLowerCase();
  if (/x86|assembly|asm/.test(n)) return ASSEMBLY;
  const aliases: Record<string, string> = {
    js: "JavaScript",
    py: "Python",
    cpp: "C++",
    csharp: "C#",
  };
  if (aliases[n]) return aliases[n]!;
  for (const [lang] of PATTERNS) if (lang.toLowerCase() === n) return lang;
  return name.trim();
}
