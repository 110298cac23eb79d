/**
 * Proposition 1 (block-wise reconstruction speed-up): Σ_l d_l K_l vs dK
 * exactly, and the fused reconstruction kernel's time vs L at fixed K
 * (paper.md §2 Prop. 1, §9).
 *
 * @module
 */

import { defineTable } from "../src/experiment/define.ts";
import { check, fmt, timedCheck } from "../src/theory/checks.ts";
import { proposition1Row } from "../src/theory/block_speedup.ts";

interface Params {
  d: number;
  K: number;
  Ls: readonly number[];
  repeats: number;
}

/** Proposition 1 check. */
export const proposition1 = defineTable<Params>({
  id: "proposition1",
  timed: true,
  title: "Proposition 1",
  caption:
    "Block-wise reconstruction: work Σ_l d_l K_l against dK for L equal blocks at fixed K = Σ K_l, " +
    "and the measured time of one fused reconstruction.",
  source: "paper.md §2 Proposition 1, §9",
  statement: "Σ_l d_l K_l < dK for L > 1, and = dK/L for equal blocks with equal K_l.",
  scales: {
    smoke: { params: { d: 1 << 16, K: 32, Ls: [1, 2, 8, 32], repeats: 2 }, seeds: [1] },
    default: {
      params: { d: 1 << 21, K: 64, Ls: [1, 2, 4, 8, 16, 32, 64], repeats: 3 },
      seeds: [1],
    },
  },
  rows: ({ Ls }) => Ls.map((L) => ({ key: `L=${L}`, label: `L = ${L}` })),
  columns: [
    { key: "L", label: "L", digits: 0 },
    { key: "work", label: "Σ d_l K_l", digits: "sci" },
    { key: "full", label: "dK", digits: "sci" },
    { key: "ratio", label: "ratio", digits: 4 },
    { key: "seconds", label: "time (s)", digits: 4, better: "lower" },
  ],
  cells: ({ d, K, Ls, repeats }, seeds) =>
    Ls.flatMap((L) =>
      seeds.map((seed) => ({
        key: `proposition1/d=${d}/K=${K}/L=${L}/repeats=${repeats}/seed=${seed}`,
        row: `L=${L}`,
        seed,
        run: async (ctx) => proposition1Row(await ctx.gpu(), { d, K, L, repeats, seed }),
      }))
    ),
  verify: (table, { K, Ls }) => {
    const v = (L: number, c: string) => table.stats[`L=${L}`]?.[c]?.mean ?? NaN;
    const checks = Ls.map((L) =>
      check(
        `L = ${L}: Σ d_l K_l ${L > 1 ? "<" : "="} dK${K % L === 0 ? " and = dK/L" : ""}`,
        (L === 1 ? v(L, "work") === v(L, "full") : v(L, "work") < v(L, "full")) &&
          (K % L !== 0 || Math.abs(v(L, "ratio") - 1 / L) < 1e-12),
        `ratio ${fmt(v(L, "ratio"))}`,
      )
    );
    const last = Ls[Ls.length - 1]!;
    checks.push(timedCheck(
      `reconstruction with L = ${last} is faster than with L = 1`,
      v(last, "seconds") < v(1, "seconds"),
      `${fmt(v(last, "seconds"))} s vs ${fmt(v(1, "seconds"))} s`,
    ));
    return checks;
  },
});
