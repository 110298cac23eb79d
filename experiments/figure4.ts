/**
 * Figure 4: Ferret under three allocation schemes of the K bases over the
 * blocks — K_l ∝ L⁻¹, K_l ∝ d_l and K_l ∝ ‖Δ_l‖ (paper.md §4 Fig. 4, §2
 * Prop. 2, §8 item 1).
 *
 * A fixed total Σ_l K_l = K needs Ferret's paper mode (the official mode caps
 * K per block instead, paper.md §7 item 4).
 *
 * @module
 */

import type { Scale } from "../src/experiment/define.ts";
import type { AllocationRule } from "../src/projection/allocation.ts";
import { check, fmt } from "../src/theory/checks.ts";
import {
  type CurveParams,
  ferretSpec,
  finalValue,
  standInNote,
  variantsFigure,
} from "./_curves.ts";
import { federatedSetting } from "./_settings.ts";

/**
 * Server learning rate of the paper-mode runs (the paper reports none for
 * this figure). Paper scale: the official script's slr 10 in the paper's
 * unbiased normalisation, 10 · dρ ≈ 10/3 (paper.md §7 item 2). Below it: 0.05,
 * the largest of {0.05, 0.1, 1} that trained the tiny stand-in stably
 * (without the official mode's per-seed clipping larger steps diverge).
 */
export const FIGURE4_GLOBAL_LR: Readonly<Record<Scale, number>> = {
  smoke: 0.05,
  default: 0.05,
  paper: 10 / 3,
};

/**
 * Total Σ_l K_l per scale. Paper mode gives every block at least one basis,
 * so K ≥ L: 32 for the CI model's 18 blocks; the default setting's 200 for
 * the stand-in's 18 blocks; at paper scale 3,900, what the official
 * allocation sent on average in Table 4 (7.8×10³ = 2 Σ K_l), against L = 194.
 */
const TOTAL_K: Readonly<Record<Scale, number | null>> = { smoke: 32, default: null, paper: 3900 };

const SCHEMES: readonly (readonly [AllocationRule, string])[] = [
  ["uniform", "K_l ∝ L⁻¹"],
  ["dim", "K_l ∝ d_l"],
  ["norm", "K_l ∝ ‖Δ_l‖"],
];
const LABELS = SCHEMES.map(([, label]) => label);

function params(scale: Scale): CurveParams {
  const base = federatedSetting(scale, "dolly-like", "datajuicer-1.3b", "ferret");
  const { K, lr } = ferretSpec(base);
  return {
    runs: SCHEMES.map(([allocation, label]) => ({
      label,
      setting: {
        ...base,
        algorithm: {
          kind: "ferret",
          mode: "paper",
          K: TOTAL_K[scale] ?? K,
          lr,
          globalLr: FIGURE4_GLOBAL_LR[scale],
          allocation,
        },
      },
    })),
  };
}

/** Figure 4 of the paper. */
export const figure4 = variantsFigure({
  id: "figure4",
  title: "Figure 4",
  caption:
    "Convergence and generalization of Ferret under varying allocation scheme of K for our " +
    "block-wise reconstruction, in which K_l ∝ ‖Δ_l‖ corresponds to our results in the previous " +
    "sections.",
  source: "paper.md §4 Fig. 4, §2 Prop. 2",
  statement: "Test loss per round and final Rouge-L (%) of Ferret (paper mode, Σ_l K_l = K) " +
    "with uniform, dimension-proportional and norm-proportional allocation.",
  notes: [
    "The paper does not name the dataset; its 20-round axis and loss scale suggest Dolly-15K " +
    "(paper.md §4 Fig. 4), which we run, with DataJuicer-1.3B as in Figs. 3 and 5.",
    "Fixed total Σ_l K_l = K (Ferret's paper mode) with the default setting's local learning " +
    "rate; K = 200 at default scale, 3,900 at paper scale (the official allocation's mean total " +
    "in Table 4); server learning rate 0.05 below paper scale, 10/3 at paper scale (not " +
    "reported by the paper; experiments/figure4.ts says why).",
    standInNote("Dolly-like", "datajuicer-1.3b"),
  ],
  labels: LABELS,
  xTitle: "Allocation",
  params,
  verify: (points) => {
    const final = LABELS.map((label) => finalValue(points, "convergence", label));
    const norm = final[LABELS.indexOf("K_l ∝ ‖Δ_l‖")]!;
    return [
      check(
        "K_l ∝ ‖Δ_l‖ reaches the lowest final test loss",
        final.every((loss) => norm <= loss),
        LABELS.map((label, i) => `${label} ${fmt(final[i]!)}`).join(", "),
      ),
    ];
  },
});
