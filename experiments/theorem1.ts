/**
 * Theorem 1 (unbiased reconstruction) re-verified by Monte Carlo on the fused
 * GPU kernels, for the paper's 1/(ρK) scaling and the official code's d/K
 * scaling (paper.md §2 Thm 1, §7 item 2, §9).
 *
 * @module
 */

import { defineTable } from "../src/experiment/define.ts";
import { check, fmt, K_SIGMA } from "../src/theory/checks.ts";
import { type Scaling, theorem1Row } from "../src/theory/unbiasedness.ts";

interface Params {
  grid: readonly (readonly [d: number, K: number])[];
  trials: number;
}

const SCALINGS: readonly Scaling[] = ["paper", "official"];
const rowKey = (d: number, K: number, s: Scaling) => `${s}/d=${d}/K=${K}`;

/** Theorem 1 check. */
export const theorem1 = defineTable<Params>({
  id: "theorem1",
  title: "Theorem 1",
  caption:
    "Unbiased reconstruction: ‖mean(Δ̃) − Δ‖/‖Δ‖ over many seeds against its Monte Carlo noise " +
    "level √((d+κ−2)/(K·trials)), and the slope mean(Δ̃)ᵀΔ/‖Δ‖², for the paper's 1/(ρK) scaling " +
    "and the official code's d/K scaling (whose slope is d·ρ ≈ 1/3).",
  source: "paper.md §2 Theorem 1, §7 item 2, §9",
  statement: "E[Δ̃] = Δ with Δ̃ = (ρK)⁻¹VVᵀΔ; with the code's d/K factor instead, E[Δ̃] = dρΔ ≈ Δ/3.",
  scales: {
    smoke: { params: { grid: [[200, 10], [1000, 25]], trials: 200 }, seeds: [1] },
    default: { params: { grid: [[1000, 10], [2000, 50], [10000, 100]], trials: 400 }, seeds: [1] },
  },
  rows: ({ grid }) =>
    SCALINGS.flatMap((s) =>
      grid.map(([d, K]) => ({ key: rowKey(d, K, s), label: `d = ${d}, K = ${K}`, group: s }))
    ),
  columns: [
    { key: "d", label: "d", digits: 0 },
    { key: "K", label: "K", digits: 0 },
    { key: "trials", label: "trials", digits: 0 },
    { key: "bias", label: "‖mean − Δ‖/‖Δ‖", digits: 4 },
    { key: "deviation", label: "‖mean − slope·Δ‖/‖Δ‖", digits: 4 },
    { key: "noise", label: "MC noise level", digits: 4 },
    { key: "slope", label: "slope", digits: 4 },
    { key: "slope_se", label: "slope s.e.", digits: 4 },
    { key: "expected_slope", label: "expected slope", digits: 4 },
  ],
  cells: ({ grid, trials }, seeds) =>
    SCALINGS.flatMap((scaling) =>
      grid.flatMap(([d, K]) =>
        seeds.map((seed) => ({
          key: `theorem1/${scaling}/d=${d}/K=${K}/trials=${trials}/seed=${seed}`,
          row: rowKey(d, K, scaling),
          seed,
          run: async (ctx) => theorem1Row(await ctx.gpu(), { d, K, trials, seed, scaling }),
        }))
      )
    ),
  verify: (table, { grid }) =>
    SCALINGS.flatMap((scaling) =>
      grid.flatMap(([d, K]) => {
        const s = table.stats[rowKey(d, K, scaling)];
        if (!s) return [];
        const v = (c: string) => s[c]!.mean;
        const band = K_SIGMA / Math.sqrt(2 * d);
        const ratio = v("deviation") / v("noise");
        const out = [
          check(
            `${scaling}, d=${d}, K=${K}: slope = ${
              scaling === "paper" ? "1" : "dρ"
            } within ${K_SIGMA} s.e.`,
            Math.abs(v("slope") - v("expected_slope")) <= K_SIGMA * v("slope_se"),
            `slope ${fmt(v("slope"))}, expected ${fmt(v("expected_slope"))}, s.e. ${
              fmt(v("slope_se"))
            }`,
          ),
          check(
            `${scaling}, d=${d}, K=${K}: deviation from the expected mean is at the MC noise level`,
            Math.abs(ratio - 1) <= band,
            `deviation/noise = ${fmt(ratio)} (allowed 1 ± ${fmt(band)})`,
          ),
        ];
        if (scaling === "official") {
          out.push(check(
            `official, d=${d}, K=${K}: the d/K scaling is biased (slope ≠ 1 by > ${K_SIGMA} s.e.)`,
            Math.abs(v("slope") - 1) > K_SIGMA * v("slope_se"),
            `slope ${fmt(v("slope"))}, bias ${fmt(v("bias"))} vs noise ${fmt(v("noise"))}`,
          ));
        }
        return out;
      })
    ),
});
