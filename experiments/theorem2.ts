/**
 * Theorem 2 (reconstruction error) re-verified by Monte Carlo on the fused
 * GPU kernels: the measured error against the theorem's bound (max form and
 * the proof's Eq. 16) and the exact law (paper.md §2 Thm 2, §9).
 *
 * @module
 */

import { defineTable } from "../src/experiment/define.ts";
import { check, fmt, K_SIGMA } from "../src/theory/checks.ts";
import { theorem2Row } from "../src/theory/reconstruction_error.ts";

interface Params {
  grid: readonly (readonly [d: number, K: number])[];
  trials: number;
}

const rowKey = (d: number, K: number) => `d=${d}/K=${K}`;

/** Theorem 2 check. */
export const theorem2 = defineTable<Params>({
  id: "theorem2",
  title: "Theorem 2",
  caption:
    "Reconstruction error: mean ‖Δ̃ − Δ‖/‖Δ‖ measured on the GPU kernels against the Thm 2 bound " +
    "(max form and the proof's Eq. 16 form) and the exact law √((d+κ−2)/K).",
  source: "paper.md §2 Theorem 2, §9",
  statement: "E‖Δ̃ − Δ‖ ≤ max{2√(2ln(2d)/(ρK)), 2ln(2d)/(ρK)}·‖Δ‖ (Thm 2); exactly, " +
    "E‖Δ̃ − Δ‖² = ‖Δ‖²(d + κ − 2)/K.",
  notes: [
    "The bound holds but is vacuous for d ≫ K; the exact law is the useful statement.",
  ],
  scales: {
    smoke: { params: { grid: [[200, 25], [2000, 50]], trials: 100 }, seeds: [1] },
    default: {
      params: {
        grid: [[1000, 20], [1000, 100], [10000, 20], [10000, 100], [100000, 50]],
        trials: 200,
      },
      seeds: [1],
    },
  },
  rows: ({ grid }) => grid.map(([d, K]) => ({ key: rowKey(d, K), label: `d = ${d}, K = ${K}` })),
  columns: [
    { key: "d", label: "d", digits: 0 },
    { key: "K", label: "K", digits: 0 },
    { key: "measured", label: "measured", digits: 4 },
    { key: "measured_se", label: "s.e.", digits: 4 },
    { key: "measured_rms", label: "measured RMS", digits: 4 },
    { key: "exact_law", label: "exact law", digits: 4 },
    { key: "bound_max", label: "Thm 2 bound (max)", digits: 2 },
    { key: "bound_eq16", label: "Eq. 16 bound", digits: 2 },
    { key: "mse_se", label: "MSE s.e.", digits: 4 },
  ],
  cells: ({ grid, trials }, seeds) =>
    grid.flatMap(([d, K]) =>
      seeds.map((seed) => ({
        key: `theorem2/d=${d}/K=${K}/trials=${trials}/seed=${seed}`,
        row: rowKey(d, K),
        seed,
        run: async (ctx) => theorem2Row(await ctx.gpu(), { d, K, trials, seed }),
      }))
    ),
  verify: (table, { grid }) => verifyTheorem2(table.stats, grid),
});

/** The Theorem 2 checks on aggregated rows (exported for tests that mis-scale on purpose). */
export function verifyTheorem2(
  stats: Readonly<Record<string, Readonly<Record<string, { mean: number }>>>>,
  grid: readonly (readonly [number, number])[],
) {
  return grid.flatMap(([d, K]) => {
    const s = stats[rowKey(d, K)];
    if (!s) return [];
    const v = (c: string) => s[c]!.mean;
    const gap = Math.abs(v("measured") - v("exact_law")) / v("exact_law");
    const mseGap = Math.abs(v("measured_rms") ** 2 - v("exact_law") ** 2);
    return [
      check(
        `d=${d}, K=${K}: measured below the Thm 2 bound (max form) and the Eq. 16 bound`,
        v("measured") <= v("bound_max") && v("measured") <= v("bound_eq16"),
        `${fmt(v("measured"))} vs ${fmt(v("bound_max"))} and ${fmt(v("bound_eq16"))}`,
      ),
      check(
        `d=${d}, K=${K}: measured within 5% of the exact law`,
        gap <= 0.05,
        `${fmt(v("measured"))} vs ${fmt(v("exact_law"))} (${(gap * 100).toFixed(2)}%)`,
      ),
      check(
        `d=${d}, K=${K}: mean squared error = (d+κ−2)/K within ${K_SIGMA} s.e.`,
        mseGap <= K_SIGMA * v("mse_se"),
        `${fmt(v("measured_rms") ** 2)} vs ${fmt(v("exact_law") ** 2)}, s.e. ${fmt(v("mse_se"))}`,
      ),
    ];
  });
}
