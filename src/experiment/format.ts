/**
 * Number formatting shared by the report writers, so CSV, Markdown and the
 * console agree to the digit.
 *
 * @module
 */

import type { Column, PaperValue, Stat } from "./define.ts";

/** `value` with a column's digits: fixed, or scientific with 2 significant decimals. */
export function formatNumber(value: number, digits: number | "sci"): string {
  if (Number.isNaN(value)) return "NaN";
  if (!Number.isFinite(value)) return value > 0 ? "∞" : "−∞";
  if (digits === "sci") {
    if (value === 0) return "0";
    const exponent = Math.floor(Math.log10(Math.abs(value)));
    const mantissa = value / 10 ** exponent;
    const rounded = Number(mantissa.toFixed(2));
    // 9.996e3 rounds to 10.00e3: renormalise.
    return rounded >= 10 || rounded <= -10
      ? `${(rounded / 10).toFixed(2)}e${exponent + 1}`
      : `${rounded.toFixed(2)}e${exponent}`;
  }
  const fixed = value.toFixed(digits);
  return /^-0(\.0*)?$/.test(fixed) ? fixed.slice(1) : fixed;
}

/** `mean ± std` (just the mean for a single seed). */
export function formatStat(stat: Stat, column: Column): string {
  if (column.labels) return column.labels[stat.mean] ?? formatNumber(stat.mean, column.digits);
  const mean = formatNumber(stat.mean, column.digits);
  return stat.values.length > 1 ? `${mean} ± ${formatNumber(stat.std, column.digits)}` : mean;
}

/** A paper value as printed: `24.99 ± 0.99`, a number, or text. */
export function formatPaper(value: PaperValue, column: Column): string {
  if (typeof value === "string") return value;
  if (typeof value === "number") return formatNumber(value, column.digits);
  return value.std === undefined
    ? formatNumber(value.mean, column.digits)
    : `${formatNumber(value.mean, column.digits)} ± ${formatNumber(value.std, column.digits)}`;
}

/** The numeric mean of a paper value (NaN for text). */
export function paperMean(value: PaperValue | undefined): number {
  if (value === undefined || typeof value === "string") return NaN;
  return typeof value === "number" ? value : value.mean;
}

/** Abbreviations the paper's captions use that end in a full stop but do not end a sentence. */
const ABBREVIATIONS = /(?:Prop|Props|Fig|Figs|Eq|Eqs|Thm|Sec|Appx|Tab|e\.g|i\.e|w\.r\.t|vs|cf)$/;

/**
 * The first sentence of `text`, cut to `max` characters with an ellipsis.
 *
 * @example
 * ```ts
 * import { firstSentence } from "./format.ts";
 * console.log(firstSentence("Prop. 2 holds. Then more.", 80)); // "Prop. 2 holds."
 * ```
 */
export function firstSentence(text: string, max: number): string {
  let end = text.length;
  for (const match of text.matchAll(/\.\s/g)) {
    if (!ABBREVIATIONS.test(text.slice(0, match.index))) {
      end = match.index + 1;
      break;
    }
  }
  const sentence = text.slice(0, end);
  return sentence.length > max ? `${sentence.slice(0, max - 1).trimEnd()}…` : sentence;
}

/**
 * The seeds a run names, followed by those only some of its cells ran (a
 * table column that needs more seeds than the scale's, as its notes say).
 *
 * @example
 * ```ts
 * import { seedsText } from "./format.ts";
 * console.log(seedsText([0, 1, 2], [0, 1, 2, 3, 4, 5])); // "0, 1, 2; 3–5 in some columns"
 * console.log(seedsText([0, 1], [1, 0])); // "0, 1"
 * ```
 */
export function seedsText(seeds: readonly number[], cellSeeds: Iterable<number>): string {
  const named = new Set(seeds);
  const extra = [...new Set(cellSeeds)].filter((seed) => !named.has(seed)).sort((a, b) => a - b);
  if (extra.length === 0) return seeds.join(", ");
  const contiguous = extra.length > 2 && extra.at(-1)! - extra[0]! === extra.length - 1;
  return `${seeds.join(", ")}; ${
    contiguous ? `${extra[0]}–${extra.at(-1)}` : extra.join(", ")
  } in some columns`;
}
