/**
 * Rouge-L F as the `rouge==1.0.1` PyPI package computes `"rouge-l"` `"f"`,
 * the paper's metric (paper.md §5.1 "Evaluation"), reimplemented from its
 * documented behaviour:
 *
 * 1. Sentences: the text is split on `"."`; pieces of length 0 are dropped
 *    (before whitespace is normalised, so a piece of only spaces stays as an
 *    empty sentence); each piece's whitespace runs (Python `str.split()`
 *    whitespace) collapse to one space and its ends are trimmed.
 * 2. Words: each sentence is split on `" "` — an empty sentence gives the
 *    single word `""`.
 * 3. The package's default `exclusive=True` makes every count a count of
 *    *distinct* words: m = |set(reference words)|, n = |set(hypothesis
 *    words)|, and the summary-level union LCS is the set union, over every
 *    (reference sentence, hypothesis sentence) pair, of the words of the one
 *    LCS that the package's backtracking picks (match → diagonal; else up
 *    when the cell above is strictly larger, otherwise left).
 * 4. R = |union| / m, P = |union| / n, F = 2·(P·R)/(P + R + 1e-8).
 *
 * Scoring follows the official evaluation (`rouge_score` in FedKSeed/Ferret's
 * `evaluations`): an empty generation scores 0 without calling the package,
 * and a pair the package rejects (no sentence on either side, e.g. `"..."`)
 * scores 0. No lower-casing, no stemming. One difference: the package's
 * recursive backtracking raises `RecursionError` on sentence pairs longer
 * than about 1000 words combined; here such pairs are scored normally.
 *
 * @module
 */

/** Python's `str.isspace()` characters, which `str.split()` splits on. */
// deno-lint-ignore no-control-regex
const PY_WHITESPACE = new RegExp(
  "[\\t\\n\\v\\f\\r\\x1c-\\x1f \\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000]+",
);

/**
 * The package's sentences of `text` (step 1 above).
 *
 * @example
 * ```ts
 * import { rougeSentences } from "./rouge_l.ts";
 * console.log(rougeSentences("A  b. c.. ")); // ["A b", "c", ""]
 * ```
 */
export function rougeSentences(text: string): string[] {
  return text.split(".").filter((s) => s.length > 0).map((s) =>
    s.split(PY_WHITESPACE).filter((w) => w.length > 0).join(" ")
  );
}

/** Words of the LCS of `x` (reference) and `y` (hypothesis) that the package's backtracking returns. */
function reconLcsWords(x: readonly string[], y: readonly string[]): string[] {
  const n = x.length, m = y.length, w = m + 1;
  const table = new Int32Array((n + 1) * w);
  for (let i = 1; i <= n; i++) {
    for (let j = 1; j <= m; j++) {
      table[i * w + j] = x[i - 1] === y[j - 1]
        ? table[(i - 1) * w + j - 1]! + 1
        : Math.max(table[(i - 1) * w + j]!, table[i * w + j - 1]!);
    }
  }
  const out: string[] = [];
  let i = n, j = m;
  while (i > 0 && j > 0) {
    if (x[i - 1] === y[j - 1]) {
      out.push(x[i - 1]!);
      i--;
      j--;
    } else if (table[(i - 1) * w + j]! > table[i * w + j - 1]!) i--;
    else j--;
  }
  return out;
}

/** Rouge-L of one pair with its counts. */
export interface RougeLScore {
  /** F score. */
  readonly f: number;
  /** Precision |union LCS| / n. */
  readonly p: number;
  /** Recall |union LCS| / m. */
  readonly r: number;
  /** Distinct words in the union LCS. */
  readonly lcs: number;
  /** Distinct hypothesis words (n). */
  readonly hypWords: number;
  /** Distinct reference words (m). */
  readonly refWords: number;
}

/**
 * The package's full `rouge-l` result for one pair, or `null` where it
 * raises (`"Collections must contain at least 1 sentence."`).
 *
 * @example
 * ```ts
 * import { rougeLScore } from "./rouge_l.ts";
 * console.log(rougeLScore("the cat sat", "the cat")); // { f: 0.7999999952000001, p: 0.6666666666666666, r: 1, lcs: 2, hypWords: 3, refWords: 2 }
 * ```
 */
export function rougeLScore(hypothesis: string, reference: string): RougeLScore | null {
  const hyp = rougeSentences(hypothesis);
  const ref = rougeSentences(reference);
  if (hyp.length === 0 || ref.length === 0) return null;
  const hypSentenceWords = hyp.map((s) => s.split(" "));
  const refSentenceWords = ref.map((s) => s.split(" "));
  const m = new Set(refSentenceWords.flat()).size;
  const n = new Set(hypSentenceWords.flat()).size;
  const union = new Set<string>();
  for (const r of refSentenceWords) {
    for (const h of hypSentenceWords) for (const word of reconLcsWords(r, h)) union.add(word);
  }
  const lcs = union.size;
  const r = lcs / m;
  const p = lcs / n;
  const f = 2.0 * ((p * r) / (p + r + 1e-8));
  return { f, p, r, lcs, hypWords: n, refWords: m };
}

/**
 * Rouge-L F of a generation against its reference, scored as the paper's
 * evaluation does (empty generation → 0; a pair the package rejects → 0).
 *
 * @example
 * ```ts
 * import { rougeL } from "./rouge_l.ts";
 * console.log(rougeL("a b c", "a c"), rougeL("", "a")); // 0.7999999952000001 0
 * ```
 */
export function rougeL(hypothesis: string, reference: string): number {
  if (hypothesis.length === 0) return 0;
  return rougeLScore(hypothesis, reference)?.f ?? 0;
}

/**
 * Mean Rouge-L F over pairs (the paper averages over evaluation instances).
 *
 * @example
 * ```ts
 * import { meanRougeL } from "./rouge_l.ts";
 * console.log(meanRougeL(["a", ""], ["a", "b"])); // 0.4999999975
 * ```
 */
export function meanRougeL(hypotheses: readonly string[], references: readonly string[]): number {
  if (hypotheses.length !== references.length) {
    throw new TypeError(
      `Cannot average Rouge-L: ${hypotheses.length} hypotheses but ${references.length} references`,
    );
  }
  if (hypotheses.length === 0) throw new RangeError("Cannot average Rouge-L over no pairs");
  let sum = 0;
  for (let i = 0; i < hypotheses.length; i++) sum += rougeL(hypotheses[i]!, references[i]!);
  return sum / hypotheses.length;
}
