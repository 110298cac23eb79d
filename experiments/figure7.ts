/**
 * Figure 7: reconstruction accuracy of Ferret's (7) vs the zeroth-order
 * method under varying K and ε, on the fused GPU kernels (paper.md §4 Fig. 7).
 *
 * @module
 */

import { defineFigure } from "../src/experiment/define.ts";
import { kurtosis } from "../src/random/moments.ts";
import { check, fmt, K_SIGMA, seriesPoints } from "../src/theory/checks.ts";
import { predictedCosine } from "../src/theory/cosine.ts";
import { figure7Cosines } from "../src/theory/cosine_vs_bases.ts";

interface Params {
  d: number;
  Ks: readonly number[];
  epsilons: readonly number[];
}

const series = (epsilons: readonly number[]) => ({
  ferret: "Ferret",
  ...Object.fromEntries(epsilons.map((e) => [`zo_${e}`, `ZO (ε = ${e})`])),
});

/** Figure 7 of the paper. */
export const figure7 = defineFigure<Params>({
  id: "figure7",
  title: "Figure 7",
  caption: "Reconstruction accuracy of our (8) vs. zeroth-order method under varying K and ϵ.",
  source: "paper.md §4 Fig. 7, §9",
  statement:
    "Cosine between ∇F (F = Σx², one random x) and its reconstruction: Ferret ≈ (1 + (d+κ−2)/K)^(−1/2), " +
    "at least as good as ZO at every ε, ZO → Ferret as ε → 0.",
  notes: [
    "The caption says (8); the text says (7) — with L = 1 they coincide (paper.md §8 item 8).",
  ],
  scales: {
    smoke: { params: { d: 10000, Ks: [50, 100, 200], epsilons: [1, 0.1, 0.001] }, seeds: [1] },
    default: {
      params: {
        d: 100000,
        Ks: [100, 200, 300, 400, 500],
        epsilons: [1, 0.3, 0.1, 0.03, 0.01, 0.001],
      },
      seeds: [1, 2, 3],
    },
  },
  panels: [{
    key: "cosine",
    title: "Reconstruction accuracy",
    mark: "line",
    x: { title: "K" },
    y: { title: "Cosine similarity" },
  }],
  digits: { x: 0, y: 4 },
  cells: ({ d, Ks, epsilons }, seeds) =>
    seeds.map((seed) => ({
      key: `figure7/d=${d}/K=${Ks}/eps=${epsilons}/seed=${seed}`,
      row: "cosines",
      seed,
      run: async (ctx) => figure7Cosines(await ctx.gpu(), { d, Ks, epsilons, seed }),
    })),
  points: (outcomes, { epsilons }) => seriesPoints(outcomes, "cosine", "K", series(epsilons)),
  paper: [{ panel: "cosine", series: "Ferret", x: 500, y: 0.07 }],
  verify: (points, { d, Ks, epsilons }) => {
    const y = (s: string, K: number) => points.find((p) => p.series === s && p.x === K)?.y ?? NaN;
    const checks = Ks.map((K) => {
      const predicted = predictedCosine(d, K, kurtosis(d));
      const tolerance = K_SIGMA / Math.sqrt(2 * K);
      return check(
        `K = ${K}: Ferret's cosine matches (1 + (d+κ−2)/K)^(−1/2)`,
        Math.abs(y("Ferret", K) / predicted - 1) <= tolerance,
        `${fmt(y("Ferret", K))} vs ${fmt(predicted)} (±${(tolerance * 100).toFixed(0)}%)`,
      );
    });
    const smallest = Math.min(...epsilons);
    checks.push(
      check(
        "Ferret ≥ ZO at the largest ε for every K",
        Ks.every((K) => y("Ferret", K) >= y(`ZO (ε = ${Math.max(...epsilons)})`, K)),
        Ks.map((K) => `${fmt(y("Ferret", K))}/${fmt(y(`ZO (ε = ${Math.max(...epsilons)})`, K))}`)
          .join(", "),
      ),
      check(
        `ZO at ε = ${smallest} is within 1% of Ferret (Thm 3: ZO → projection as ε → 0)`,
        Ks.every((K) => Math.abs(y(`ZO (ε = ${smallest})`, K) / y("Ferret", K) - 1) < 0.01),
        Ks.map((K) => fmt(y(`ZO (ε = ${smallest})`, K))).join(", "),
      ),
    );
    return checks;
  },
});
