/**
 * The CodeAlpaca-like built-in suite: short code-writing tasks in nine
 * languages (code_tasks.ts), in uneven shares (Python most common, as in
 * CodeAlpaca), plus a few x86-64 Assembly tasks that are excluded exactly
 * as the paper excludes them (paper.md §5.2); 10% of the rest drawn
 * uniformly at random are the test set and the remainder is split by
 * language, one client per language (9 clients).
 *
 * What it cannot mirror: CodeAlpaca's instructions are varied free text
 * (algorithms, debugging, explanations) with long outputs; here a handful of
 * templated tasks with short snippets, whose language must be read from
 * the instruction.
 *
 * @module
 */

import { RandomStream } from "../../random/stream.ts";
import type { Example, FederatedDataset } from "../example.ts";
import { ASSEMBLY, CODE_LANGUAGES, splitCodeAlpacaRows } from "../loaders/code_alpaca.ts";
import type { TemplateId } from "../templates.ts";
import { codeTask } from "./code_tasks.ts";
import type { CodeAlpacaLikeSizes } from "./sizes.ts";

/** Relative share of each client language (same order as `CODE_LANGUAGES`). */
const SHARES: Readonly<Record<string, number>> = {
  "C": 7,
  "C#": 6,
  "C++": 8,
  "HTML": 7,
  "Java": 12,
  "JavaScript": 15,
  "Python": 30,
  "Ruby": 5,
  "SQL": 10,
};

/**
 * Builds the CodeAlpaca-like suite.
 *
 * @example
 * ```ts
 * import { codeAlpacaLikeSuite } from "./code_alpaca_like.ts";
 * import { CODE_ALPACA_LIKE_SIZES } from "./sizes.ts";
 * const ds = codeAlpacaLikeSuite(CODE_ALPACA_LIKE_SIZES.smoke, 1);
 * console.log(ds.clients.length, ds.stats.dropped); // 9 { "x86-64 Assembly (excluded by the paper)": 2 }
 * ```
 */
export function codeAlpacaLikeSuite(
  sizes: CodeAlpacaLikeSizes,
  seed: number,
  template: TemplateId = "compact",
): FederatedDataset {
  const rng = new RandomStream(seed, "data/code-alpaca-like/rows");
  const weights = CODE_LANGUAGES.map((l) => SHARES[l]!);
  const totalWeight = weights.reduce((a, b) => a + b, 0);
  const counts = weights.map((w) => Math.max(1, Math.round((w * sizes.total) / totalWeight)));
  const rows: Example[] = [];
  CODE_LANGUAGES.forEach((lang, k) => {
    for (let i = 0; i < counts[k]!; i++) rows.push({ ...codeTask(lang, rng), label: lang });
  });
  for (let i = 0; i < sizes.assembly; i++) {
    rows.push({ ...codeTask(ASSEMBLY, rng), label: ASSEMBLY });
  }
  return splitCodeAlpacaRows(rng.shuffle(rows), {
    seed,
    testFraction: sizes.testFraction,
    name: "code-alpaca-like",
    template,
  });
}
