/**
 * Proposition 2 (block-wise reconstruction error) and its allocation rule:
 * the exact block MSE under each allocation rule, closed form and Monte Carlo
 * on the fused GPU kernels, next to the bound objective Prop. 2 minimises
 * (paper.md §2 Prop. 2, §8 item 1, §9).
 *
 * @module
 */

import { defineTable } from "../src/experiment/define.ts";
import { check, fmt, K_SIGMA } from "../src/theory/checks.ts";
import { PROPOSITION2_RULES, proposition2Row } from "../src/theory/allocation_error.ts";

interface Params {
  dims: readonly number[];
  norms: readonly number[];
  K: number;
  trials: number;
}

const LABELS: Readonly<Record<string, string>> = {
  "uniform": "K_l ∝ 1 (uniform)",
  "dim": "K_l ∝ d_l",
  "norm": "K_l ∝ ‖Δ_l‖ (experiments, code)",
  "norm-over-rho": "K_l ∝ ‖Δ_l‖/ρ_l (Prop. 2 as printed)",
  "sqrt-norm-over-rho": "K_l ∝ √(‖Δ_l‖/ρ_l) (Prop. 2 solved)",
  "mse-optimal": "K_l ∝ ‖Δ_l‖√(d_l+κ−2) (exact MSE optimum)",
};

/** Proposition 2 check. */
export const proposition2 = defineTable<Params>({
  id: "proposition2",
  title: "Proposition 2",
  caption: "Block MSE E‖Δ̃ − Δ‖²/‖Δ‖² = Σ_l ‖Δ_l‖²(d_l+κ−2)/K_l/‖Δ‖² under each allocation rule " +
    "(Σ K_l = K), closed form and Monte Carlo, and Prop. 2's objective Σ_l ‖Δ_l‖/(ρ_l K_l)/‖Δ‖.",
  source: "paper.md §2 Proposition 2, §8 item 1, §9",
  statement:
    "Prop. 2's Lagrangian (Eq. 24) gives K_l ∝ √(‖Δ_l‖/ρ_l), not the printed ‖Δ_l‖/ρ_l; the " +
    "exact MSE is minimised by K_l ∝ ‖Δ_l‖√(d_l + κ − 2).",
  notes: ["Prop. 2 prints K_l ∝ ‖Δ_l‖/ρ_l; Eq. 24 gives the square root (paper.md §8 item 1)."],
  scales: {
    smoke: {
      params: { dims: [200, 800, 3000, 6000], norms: [4, 1, 2, 0.5], K: 64, trials: 100 },
      seeds: [1],
    },
    default: {
      params: {
        dims: [1024, 1024, 10000, 40000, 150000],
        norms: [3, 0.5, 2, 1, 0.25],
        K: 128,
        trials: 100,
      },
      seeds: [1],
    },
  },
  rows: () => PROPOSITION2_RULES.map((r) => ({ key: r, label: LABELS[r] ?? r })),
  columns: [
    { key: "closed_form", label: "closed form", digits: 3, better: "lower" },
    { key: "measured", label: "Monte Carlo", digits: 3, better: "lower" },
    { key: "measured_se", label: "s.e.", digits: 3 },
    { key: "bound_objective", label: "Prop. 2 objective", digits: 1, better: "lower" },
    { key: "total", label: "Σ K_l", digits: 0 },
  ],
  cells: ({ dims, norms, K, trials }, seeds) =>
    PROPOSITION2_RULES.flatMap((rule) =>
      seeds.map((seed) => ({
        key:
          `proposition2/${rule}/dims=${dims}/norms=${norms}/K=${K}/trials=${trials}/seed=${seed}`,
        row: rule,
        seed,
        run: async (ctx) =>
          proposition2Row(await ctx.gpu(), { rule, dims, norms, K, trials, seed }),
      }))
    ),
  verify: (table, { K }) => {
    const v = (r: string, c: string) => table.stats[r]?.[c]?.mean ?? NaN;
    const checks = PROPOSITION2_RULES.map((r) =>
      check(
        `${r}: Monte Carlo = closed form within ${K_SIGMA} s.e., Σ K_l = ${K}`,
        Math.abs(v(r, "measured") - v(r, "closed_form")) <= K_SIGMA * v(r, "measured_se") &&
          v(r, "total") === K,
        `${fmt(v(r, "measured"))} ± ${fmt(v(r, "measured_se"))} vs ${fmt(v(r, "closed_form"))}`,
      )
    );
    const best = (c: string) =>
      PROPOSITION2_RULES.reduce((a, b) => (v(b, c) < v(a, c) ? b : a), PROPOSITION2_RULES[0]!);
    checks.push(
      check(
        "the exact-MSE rule has the lowest closed-form MSE",
        best("closed_form") === "mse-optimal",
        `lowest: ${best("closed_form")}`,
      ),
      check(
        "the square-root rule minimises Prop. 2's own objective better than the printed rule",
        v("sqrt-norm-over-rho", "bound_objective") < v("norm-over-rho", "bound_objective"),
        `${fmt(v("sqrt-norm-over-rho", "bound_objective"))} vs ${
          fmt(v("norm-over-rho", "bound_objective"))
        }`,
      ),
    );
    return checks;
  },
});
