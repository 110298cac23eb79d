/**
 * Exact match of GSM8K-style final answers: the number after the last
 * `#### ` marker (GSM8K solutions end in `#### <number>`, paper.md §5.2).
 * Thousands separators and a leading `$` are ignored; the numbers are
 * compared as values, so `1,000` matches `1000` and `3.50` matches `3.5`.
 *
 * @module
 */

const FINAL = /####\s*\$?\s*(-?[\d,]*\.?\d+)/g;

/**
 * The final `#### <number>` of a text as a canonical numeral, or `null`.
 *
 * @example
 * ```ts
 * import { finalAnswer } from "./exact_match.ts";
 * console.log(finalAnswer("2 + 3 = <<2+3=5>>5\n#### 1,005")); // "1005"
 * ```
 */
export function finalAnswer(text: string): string | null {
  let last: string | undefined;
  for (const m of text.matchAll(FINAL)) last = m[1];
  if (last === undefined) return null;
  const value = Number(last.replace(/,/g, ""));
  return Number.isFinite(value) ? String(value) : null;
}

/**
 * 1 when both texts have a final answer and they are equal, else 0.
 *
 * @example
 * ```ts
 * import { exactMatch } from "./exact_match.ts";
 * console.log(exactMatch("... #### 12", "So 12.\n#### 12"), exactMatch("12", "#### 12")); // 1 0
 * ```
 */
export function exactMatch(hypothesis: string, reference: string): number {
  const h = finalAnswer(hypothesis);
  return h !== null && h === finalAnswer(reference) ? 1 : 0;
}

/**
 * Mean exact match over pairs.
 *
 * @example
 * ```ts
 * import { meanExactMatch } from "./exact_match.ts";
 * console.log(meanExactMatch(["#### 1", "#### 3"], ["#### 1", "#### 2"])); // 0.5
 * ```
 */
export function meanExactMatch(
  hypotheses: readonly string[],
  references: readonly string[],
): number {
  if (hypotheses.length !== references.length || hypotheses.length === 0) {
    throw new RangeError(
      `Cannot average exact match over ${hypotheses.length} hypotheses and ${references.length} references`,
    );
  }
  let sum = 0;
  for (let i = 0; i < hypotheses.length; i++) sum += exactMatch(hypotheses[i]!, references[i]!);
  return sum / hypotheses.length;
}

/**
 * Exact match (%) of final answers over pairs, or `null` when some
 * reference has no final `#### <number>` (the metric is undefined for it).
 *
 * @example
 * ```ts
 * import { finalAnswerScore } from "./exact_match.ts";
 * console.log(finalAnswerScore(["#### 1", "2"], ["#### 1", "#### 2"])); // 50
 * console.log(finalAnswerScore(["yes"], ["yes"])); // null
 * ```
 */
export function finalAnswerScore(
  hypotheses: readonly string[],
  references: readonly string[],
): number | null {
  if (references.length === 0 || references.some((r) => finalAnswer(r) === null)) return null;
  return 100 * meanExactMatch(hypotheses, references);
}
