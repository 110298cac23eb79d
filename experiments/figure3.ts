/**
 * Figure 3: Ferret's convergence and generalization under varying K on
 * Natural Instructions with DataJuicer-1.3B (paper.md §4 Fig. 3).
 *
 * K₀ is never defined in the paper; following the code's `--K 200` we take
 * 2K₀ = 200 at paper scale, so K ∈ {100, 200, 400, 800} (paper.md §4
 * Fig. 3, our inference). At default scale K₀ = 2: what K changes is the
 * reconstruction noise of a block, which grows as d_l/K_l (Prop. 2), and
 * the stand-in's blocks are ~500× smaller than DataJuicer-1.3B's, so only
 * the smallest K come near the paper's noise regime (see the notes).
 *
 * @module
 */

import type { Scale } from "../src/experiment/define.ts";
import { pairedCheck } from "../src/experiment/stats.ts";
import {
  type CurveParams,
  type CurveRun,
  pointStat,
  standInNote,
  variantsFigure,
  withAlgorithm,
} from "./_curves.ts";
import { federatedSetting } from "./_settings.ts";

interface Params {
  /** K₀, 2K₀, 4K₀, 8K₀, in order. */
  readonly runs: readonly CurveRun[];
}

const LABELS = ["K₀", "2K₀", "4K₀", "8K₀"] as const;

/** K₀ per scale: 100 as inferred for the paper; 2 at default scale (the noise regime); 4 for CI. */
const K0: Readonly<Record<Scale, number>> = { smoke: 4, default: 2, paper: 100 };

function params(scale: Scale): CurveParams {
  const base = federatedSetting(scale, "ni-like", "datajuicer-1.3b", "ferret");
  return {
    runs: LABELS.map((label, i) => ({
      label,
      setting: withAlgorithm(base, { K: K0[scale] * 2 ** i }),
    })),
  };
}

/** Figure 3 of the paper. */
export const figure3 = variantsFigure({
  id: "figure3",
  title: "Figure 3",
  caption: "Convergence and generalization of our Ferret under varying K on Natural Instructions " +
    "with DataJuicer-1.3B where 2K₀ corresponds to the communication cost of 7.8×10³ per round " +
    "in Tab. 4.",
  source: "paper.md §4 Fig. 3",
  statement: "Test loss per round and final Rouge-L (%) of Ferret with K = K₀, 2K₀, 4K₀, 8K₀.",
  notes: [
    "K₀ is not defined in the paper; with the code's --K 200 as 2K₀ we run K ∈ {100, 200, 400, " +
    "800} at paper scale. The caption's 7.8×10³ is Table 4's LLaMA-3B figure, not " +
    "DataJuicer-1.3B's (paper.md §4 Fig. 3).",
    "The noise regime sets K at default scale: a block's reconstruction error grows as d_l/K_l " +
    "(Prop. 2). DataJuicer-1.3B has d ≈ 1.3×10⁹ in ~219 blocks (d_l ≈ 5.9×10⁶ on average) and " +
    "Σ K_l ≈ 3.9×10³ (Table 4), so d_l/K_l ≈ 3×10⁵. The `tiny` stand-in has d = 231,744 in 21 " +
    "blocks (d_l ≈ 1.1×10⁴) and K_l ≥ 2, so its d_l/K_l is at most ≈ 5.5×10³ on average " +
    "(3.3×10⁴ for an embedding matrix): no K reaches the paper's regime, and at the code's K = 200 " +
    "(d_l/K_l of order 10²) K barely matters. We therefore run K ∈ {2, 4, 8, 16}, from that " +
    "ceiling down by 8× (4, 8, 16, 32 at smoke scale).",
    "K is Ferret's `--K` in the official mode: the largest number of bases per block.",
    standInNote("NI-like", "datajuicer-1.3b"),
  ],
  labels: LABELS,
  xTitle: "K",
  params,
  verify: (points) => {
    const final = LABELS.map((label) => pointStat(points, "convergence", label));
    const checks = LABELS.slice(1).flatMap((label, i) => {
      const [smaller, larger] = [final[i], final[i + 1]];
      return smaller && larger
        ? [
          pairedCheck(
            `Larger K converges faster: ${label} ends below ${LABELS[i]}`,
            larger,
            smaller,
            {
              hypothesis: { kind: "less" },
              names: [label, LABELS[i]!],
              digits: 4,
            },
          ),
        ]
        : [];
    });
    const [, twice, , eight] = final;
    if (twice && eight) {
      checks.push(
        pairedCheck("2K₀ is already close: its final test loss within ±5% of 8K₀'s", twice, eight, {
          hypothesis: { kind: "within", margin: 0.05 * eight.mean },
          names: ["2K₀", "8K₀"],
          digits: 4,
        }),
      );
    }
    return checks;
  },
});
