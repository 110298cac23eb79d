/**
 * Helpers the theory experiments share to turn numbers into Checks.
 *
 * @module
 */

import type { CellOutcome, Check, Point } from "../experiment/define.ts";

/** Standard errors a statistical check allows (fixed seeds make it deterministic). */
export const K_SIGMA = 4;

/** A check from a condition and its numbers. */
export function check(claim: string, holds: boolean, detail: string): Check {
  return { claim, holds, detail };
}

/** A check on measured seconds (see Check.timed). */
export function timedCheck(claim: string, holds: boolean, detail: string): Check {
  return { claim, holds, timed: true, detail };
}

/** Formats a number for check details. */
export function fmt(x: number): string {
  return Math.abs(x) >= 1e4 || (Math.abs(x) < 1e-3 && x !== 0) ? x.toExponential(3) : x.toFixed(4);
}

/**
 * Figure points from per-seed results holding parallel arrays: `xKey` gives the
 * x values, each of `series` (result key → legend) a y per x; means over seeds (std when > 1).
 */
export function seriesPoints(
  outcomes: readonly CellOutcome[],
  panel: string,
  xKey: string,
  series: Readonly<Record<string, string>>,
  filter: (o: CellOutcome) => boolean = () => true,
): Point[] {
  const mine = outcomes.filter(filter);
  if (mine.length === 0) return [];
  const xs = mine[0]!.result[xKey] as readonly number[];
  const points: Point[] = [];
  for (const [key, label] of Object.entries(series)) {
    xs.forEach((x, i) => {
      const ys = mine.map((o) => (o.result[key] as readonly number[])[i]!);
      const mean = ys.reduce((a, b) => a + b, 0) / ys.length;
      const std = Math.sqrt(ys.reduce((a, b) => a + (b - mean) ** 2, 0) / ys.length);
      points.push(
        ys.length > 1
          ? { panel, series: label, x, y: mean, std }
          : { panel, series: label, x, y: mean },
      );
    });
  }
  return points;
}
