/**
 * Statistics over seeds (DESIGN.md §7): mean ± the sample standard
 * deviation of table cells, and the paired comparisons over seeds that
 * decide the paper's claims — a 95% confidence interval of the mean
 * difference from t quantiles, and a verdict: *holds*, *not significant*
 * or *contradicted*.
 *
 * @module
 */

// jStat's Student t inverse CDF: a dependency-free, permission-free library. (@stdlib's typed
// t quantile reads the whole environment when it loads, through its `debug` dependency, which a
// module imported by URL must not require.) Typed at this boundary.
import jStat from "npm:jstat@1.9.6";

/** The p-quantile of Student's t distribution with `dof` degrees of freedom. */
const tQuantile: (p: number, dof: number) => number = (p, dof) => jStat.studentt.inv(p, dof);
import type { CellOutcome, Check, Column, Row, Stat, TableData } from "./define.ts";

/**
 * Mean and sample standard deviation (n − 1 in the denominator; NaN for
 * fewer than two values) of `values`, taken at `seeds` (default 0, 1, …).
 *
 * @example
 * ```ts
 * import { meanStd } from "./stats.ts";
 * const { mean, std } = meanStd([1, 2, 3, 6]);
 * console.log(mean, std.toFixed(4)); // 3 2.1602
 * ```
 */
export function meanStd(values: readonly number[], seeds?: readonly number[]): Stat {
  const n = values.length;
  const at = seeds ?? values.map((_, i) => i);
  if (at.length !== n) {
    throw new TypeError(`Cannot pair ${n} values with ${at.length} seeds`);
  }
  if (n === 0) return { mean: NaN, std: NaN, values, seeds: at };
  const mean = values.reduce((a, b) => a + b, 0) / n;
  const variance = n > 1 ? values.reduce((a, b) => a + (b - mean) ** 2, 0) / (n - 1) : NaN;
  return { mean, std: Math.sqrt(variance), values, seeds: at };
}

/** A confidence interval of a mean paired difference. */
export interface PairedInterval {
  /** Mean of the differences a_s − b_s over the shared seeds. */
  readonly mean: number;
  /** Lower end (NaN with fewer than two seeds). */
  readonly lo: number;
  /** Upper end (NaN with fewer than two seeds). */
  readonly hi: number;
  /** Seeds paired. */
  readonly n: number;
  /** Confidence level. */
  readonly level: number;
}

/**
 * The `level` confidence interval of the mean of a_s − b_s over the seeds
 * both have: mean ± t_{(1+level)/2, n−1} · s/√n, s the sample standard
 * deviation of the differences.
 *
 * @example
 * ```ts
 * import { meanStd, pairedInterval } from "./stats.ts";
 * const a = meanStd([3, 4, 5]), b = meanStd([1, 1, 2]);
 * const { mean, lo, hi } = pairedInterval(a, b);
 * console.log(mean.toFixed(3), lo.toFixed(3), hi.toFixed(3)); // 2.667 1.232 4.101
 * ```
 */
export function pairedInterval(a: Stat, b: Stat, level = 0.95): PairedInterval {
  if (!(level > 0 && level < 1)) {
    throw new RangeError(`Cannot build a ${level} confidence interval: expected 0 < level < 1`);
  }
  const bySeed = new Map(b.seeds.map((seed, i) => [seed, b.values[i]!]));
  const differences = a.seeds.flatMap((seed, i) => {
    const other = bySeed.get(seed);
    return other === undefined ? [] : [a.values[i]! - other];
  });
  const n = differences.length;
  const { mean, std } = meanStd(differences);
  const half = n > 1 ? tQuantile((1 + level) / 2, n - 1) * std / Math.sqrt(n) : NaN;
  return { mean, lo: mean - half, hi: mean + half, n, level };
}

/** The verdict on a claim from a confidence interval. */
export type Verdict = "holds" | "not significant" | "contradicted";

/**
 * What a paired comparison claims about the difference d = a − b:
 * `greater` (d > 0), `less` (d < 0), or `within` (|d| < margin).
 */
export type Hypothesis =
  | { readonly kind: "greater" }
  | { readonly kind: "less" }
  | { readonly kind: "within"; readonly margin: number };

/**
 * The verdict of `hypothesis` on `interval`: *holds* when the whole
 * interval supports it, *contradicted* when the whole interval supports its
 * opposite (d ≤ 0 for `greater`; |d| ≥ margin for `within`), else *not
 * significant* (also with fewer than two seeds).
 *
 * @example
 * ```ts
 * import { verdict } from "./stats.ts";
 * const interval = { mean: 2, lo: 0.5, hi: 3.5, n: 4, level: 0.95 };
 * console.log(verdict(interval, { kind: "greater" }), verdict(interval, { kind: "within", margin: 1 })); // holds not significant
 * ```
 */
export function verdict(interval: PairedInterval, hypothesis: Hypothesis): Verdict {
  const { lo, hi } = interval;
  if (!(Number.isFinite(lo) && Number.isFinite(hi))) return "not significant";
  switch (hypothesis.kind) {
    case "greater":
      return lo > 0 ? "holds" : hi <= 0 ? "contradicted" : "not significant";
    case "less":
      return hi < 0 ? "holds" : lo >= 0 ? "contradicted" : "not significant";
    case "within": {
      const m = hypothesis.margin;
      if (lo > -m && hi < m) return "holds";
      return lo >= m || hi <= -m ? "contradicted" : "not significant";
    }
  }
}

/**
 * A paper claim decided by a paired comparison over seeds: `claim` about
 * d = a − b (named `names`), its interval and verdict in the detail.
 *
 * @example
 * ```ts
 * import { meanStd, pairedCheck } from "./stats.ts";
 * const check = pairedCheck("A above B", meanStd([3, 4, 5]), meanStd([1, 1, 2]), {
 *   hypothesis: { kind: "greater" }, names: ["A", "B"], digits: 2,
 * });
 * console.log(check.verdict, check.detail); // holds A − B = 2.67, 95% CI [1.23, 4.10] over 3 seeds (A 4.00, B 1.33)
 * ```
 */
export function pairedCheck(
  claim: string,
  a: Stat,
  b: Stat,
  options: { hypothesis: Hypothesis; names: readonly [string, string]; digits: number },
): Check {
  const interval = pairedInterval(a, b);
  const decided = verdict(interval, options.hypothesis);
  const f = (v: number) => v.toFixed(options.digits);
  const [na, nb] = options.names;
  const range = interval.n > 1
    ? `${Math.round(interval.level * 100)}% CI [${f(interval.lo)}, ${
      f(interval.hi)
    }] over ${interval.n} seeds`
    : `no interval from ${interval.n} seed${interval.n === 1 ? "" : "s"}`;
  return {
    claim,
    holds: decided === "holds",
    verdict: decided,
    detail: `${na} − ${nb} = ${f(interval.mean)}, ${range} (${na} ${f(a.mean)}, ${nb} ${
      f(b.mean)
    })`,
  };
}

/**
 * Groups outcomes by row and column: every numeric value a cell returns under
 * a column's key counts as one seed's value for that (row, column).
 */
export function aggregateTable(
  rows: readonly Row[],
  columns: readonly Column[],
  outcomes: readonly CellOutcome[],
): TableData {
  const stats: Record<string, Record<string, Stat>> = {};
  for (const row of rows) {
    const mine = outcomes.filter((o) => o.row === row.key).sort((a, b) => a.seed - b.seed);
    const byColumn: Record<string, Stat> = {};
    for (const column of columns) {
      const seeded = mine.filter((o) => typeof o.result[column.key] === "number");
      if (seeded.length > 0) {
        byColumn[column.key] = meanStd(
          seeded.map((o) => o.result[column.key] as number),
          seeded.map((o) => o.seed),
        );
      }
    }
    stats[row.key] = byColumn;
  }
  return { rows, columns, stats };
}

/**
 * Row keys holding the best and second-best mean of a column, by the
 * column's `better` direction (none when it has no direction).
 */
export function ranking(table: TableData, column: Column): { best?: string; second?: string } {
  if (!column.better) return {};
  const sign = column.better === "higher" ? -1 : 1;
  const ranked = table.rows
    .map((row) => ({ key: row.key, mean: table.stats[row.key]?.[column.key]?.mean }))
    .filter((r): r is { key: string; mean: number } => Number.isFinite(r.mean))
    .sort((a, b) => sign * (a.mean - b.mean));
  return { best: ranked[0]?.key, second: ranked[1]?.key };
}
