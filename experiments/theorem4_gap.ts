/**
 * The gap in Theorem 4's proof: Monte Carlo on the fused GPU kernels of
 * E[(VVᵀ)²]/(ρK)² against the identity step (30) uses (1) and the correct
 * 1 + (d + κ − 2)/K (paper.md §2 Thm 4 [our check], §8 item 2, §9).
 *
 * @module
 */

import { defineTable } from "../src/experiment/define.ts";
import { check, fmt, K_SIGMA } from "../src/theory/checks.ts";
import { theorem4GapRow } from "../src/theory/second_moment.ts";

interface Params {
  grid: readonly (readonly [d: number, K: number])[];
  trials: number;
}

const rowKey = (d: number, K: number) => `d=${d}/K=${K}`;

/** Theorem 4 gap check. */
export const theorem4_gap = defineTable<Params>({
  id: "theorem4_gap",
  title: "Theorem 4 (proof gap)",
  caption:
    "E[uᵀ(VVᵀ)²u]/(ρK)² for unit u, measured on the GPU kernels, against the printed identity " +
    "E[VVᵀVVᵀ] = ρ²I (1 after scaling) and the correct ρ²K(K + d + κ − 2)I.",
  source: "paper.md §2 Theorem 4 [our check], §8 item 2, §9",
  statement: "E[(VVᵀ)²] = ρ²K(K + d + κ − 2)·I, so the scaled reconstruction's second moment is " +
    "inflated by 1 + (d + κ − 2)/K, not 1 as step (30) uses.",
  scales: {
    smoke: { params: { grid: [[200, 10], [1000, 20]], trials: 200 }, seeds: [1] },
    default: { params: { grid: [[1000, 10], [1000, 100], [10000, 50]], trials: 400 }, seeds: [1] },
  },
  rows: ({ grid }) => grid.map(([d, K]) => ({ key: rowKey(d, K), label: `d = ${d}, K = ${K}` })),
  columns: [
    { key: "d", label: "d", digits: 0 },
    { key: "K", label: "K", digits: 0 },
    { key: "measured", label: "measured", digits: 3 },
    { key: "measured_se", label: "s.e.", digits: 3 },
    { key: "printed", label: "printed (step 30)", digits: 1 },
    { key: "correct", label: "1 + (d+κ−2)/K", digits: 3 },
  ],
  cells: ({ grid, trials }, seeds) =>
    grid.flatMap(([d, K]) =>
      seeds.map((seed) => ({
        key: `theorem4_gap/d=${d}/K=${K}/trials=${trials}/seed=${seed}`,
        row: rowKey(d, K),
        seed,
        run: async (ctx) => theorem4GapRow(await ctx.gpu(), { d, K, trials, seed }),
      }))
    ),
  verify: (table, { grid }) =>
    grid.flatMap(([d, K]) => {
      const s = table.stats[rowKey(d, K)];
      if (!s) return [];
      const v = (c: string) => s[c]!.mean;
      return [
        check(
          `d=${d}, K=${K}: measured = 1 + (d+κ−2)/K within ${K_SIGMA} s.e.`,
          Math.abs(v("measured") - v("correct")) <= K_SIGMA * v("measured_se"),
          `${fmt(v("measured"))} ± ${fmt(v("measured_se"))} vs ${fmt(v("correct"))}`,
        ),
        check(
          `d=${d}, K=${K}: the printed identity (1) is rejected`,
          Math.abs(v("measured") - v("printed")) > K_SIGMA * v("measured_se"),
          `${fmt(v("measured"))} vs 1`,
        ),
      ];
    }),
});
