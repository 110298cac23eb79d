/**
 * Theorem 3 (connection with zeroth-order methods) on the fused GPU kernels:
 * the ZO reconstruction's deviation from VVᵀ∇F/K against βε/2 for every draw,
 * with F(x) = Σ sin²(x_i) (β = 2) (paper.md §2 Thm 3, §9).
 *
 * @module
 */

import { defineTable } from "../src/experiment/define.ts";
import { check, fmt } from "../src/theory/checks.ts";
import { theorem3Row } from "../src/theory/zo_connection.ts";

interface Params {
  d: number;
  K: number;
  epsilons: readonly number[];
  draws: number;
}

/** Theorem 3 check. */
export const theorem3 = defineTable<Params>({
  id: "theorem3",
  title: "Theorem 3",
  caption: "Zeroth-order vs projection: max over draws of ‖(1/K)V(g − Vᵀ∇F)‖ against βε/2 for " +
    "F = Σ sin²(x_i) (β = 2), and the per-coordinate ratio |g_k − v_kᵀ∇F|/(βε‖v_k‖²/2).",
  source: "paper.md §2 Theorem 3, §9",
  statement: "‖(1/K)Vg − (1/K)VVᵀ∇ℓ‖ ≤ βε/2 for every draw when ℓ is β-smooth.",
  scales: {
    smoke: { params: { d: 2000, K: 20, epsilons: [1, 0.1, 0.01], draws: 4 }, seeds: [1] },
    default: {
      params: { d: 50000, K: 100, epsilons: [1, 0.3, 0.1, 0.03, 0.01, 0.001], draws: 10 },
      seeds: [1],
    },
  },
  rows: ({ epsilons }) => epsilons.map((e) => ({ key: `eps=${e}`, label: `ε = ${e}` })),
  columns: [
    { key: "eps", label: "ε", digits: 3 },
    { key: "max_deviation", label: "max deviation", digits: "sci" },
    { key: "mean_deviation", label: "mean deviation", digits: "sci" },
    { key: "bound", label: "βε/2", digits: "sci" },
    { key: "max_coordinate_ratio", label: "max coord. ratio", digits: 4 },
  ],
  cells: ({ d, K, epsilons, draws }, seeds) =>
    epsilons.flatMap((eps) =>
      seeds.map((seed) => ({
        key: `theorem3/d=${d}/K=${K}/eps=${eps}/draws=${draws}/seed=${seed}`,
        row: `eps=${eps}`,
        seed,
        run: async (ctx) => theorem3Row(await ctx.gpu(), { d, K, eps, draws, seed }),
      }))
    ),
  verify: (table, { epsilons }) =>
    epsilons.flatMap((eps) => {
      const s = table.stats[`eps=${eps}`];
      if (!s) return [];
      const v = (c: string) => s[c]!.mean;
      return [
        check(
          `ε = ${eps}: deviation ≤ βε/2 for every draw`,
          v("max_deviation") <= v("bound"),
          `max ${fmt(v("max_deviation"))} vs ${fmt(v("bound"))}`,
        ),
        check(
          `ε = ${eps}: every coordinate within βε‖v_k‖²/2 (Eq. 18)`,
          v("max_coordinate_ratio") <= 1,
          `max ratio ${fmt(v("max_coordinate_ratio"))}`,
        ),
      ];
    }),
});
