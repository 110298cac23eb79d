/**
 * Figure 8: reconstruction accuracy of Ferret vs the zeroth-order method
 * under varying T, d and L, on F(x) = Σ sin²(x_i), with the fused GPU kernels
 * (paper.md §4 Fig. 8).
 *
 * @module
 */

import { defineFigure } from "../src/experiment/define.ts";
import { kurtosis } from "../src/random/moments.ts";
import { check, fmt, K_SIGMA, seriesPoints, timedCheck } from "../src/theory/checks.ts";
import { predictedCosine } from "../src/theory/cosine.ts";
import { figure8a, figure8b, figure8c } from "../src/theory/cosine_sweeps.ts";

interface Params {
  a: { d: number; K: number; eps: number; lr: number; Ts: readonly number[] };
  b: { ds: readonly number[]; K: number; eps: number };
  c: { d: number; K: number; Ls: readonly number[]; repeats: number };
}

/** Figure 8 of the paper. */
export const figure8 = defineFigure<Params>({
  id: "figure8",
  timed: true,
  title: "Figure 8",
  caption:
    "Reconstruction Accuracy (measured by cosine similarity between reconstruction and ground " +
    "truth) of our (8) vs. zeroth-order method under varying T, d, and L.",
  source: "paper.md §4 Fig. 8, §9",
  statement:
    "(a) Ferret's accuracy is flat in T while ZO's decays; (b) both follow the same d-rate " +
    "(1 + (d+κ−2)/K)^(−1/2); (c) block-wise accuracy is flat in L while the time drops.",
  notes: [
    "ZO in (a) takes T zeroth-order steps with the same K bases each step and the 1/K scaling of Thm 3.",
  ],
  scales: {
    smoke: {
      params: {
        a: { d: 5000, K: 50, eps: 0.1, lr: 0.1, Ts: [1, 4, 16] },
        b: { ds: [2000, 8000], K: 50, eps: 0.1 },
        c: { d: 1 << 15, K: 64, Ls: [1, 4, 16], repeats: 3 },
      },
      seeds: [1],
    },
    default: {
      params: {
        a: { d: 50000, K: 500, eps: 0.1, lr: 0.1, Ts: [1, 2, 4, 6, 8, 10, 12, 14] },
        b: { ds: [50000, 100000, 150000, 200000], K: 500, eps: 0.1 },
        c: { d: 512000, K: 512, Ls: [1, 2, 4, 8, 16, 32, 64], repeats: 3 },
      },
      seeds: [1, 2],
    },
  },
  panels: [
    {
      key: "a",
      title: "(a) varying T",
      mark: "line",
      x: { title: "T" },
      y: { title: "Cosine similarity" },
    },
    {
      key: "b",
      title: "(b) varying d",
      mark: "line",
      x: { title: "d" },
      y: { title: "Cosine similarity" },
    },
    {
      key: "c",
      title: "(c) varying L",
      mark: "line",
      x: { title: "L", scale: "log" },
      y: { title: "Cosine similarity" },
    },
    {
      key: "c_time",
      title: "(c) time cost",
      mark: "line",
      x: { title: "L", scale: "log" },
      y: { title: "Reconstruction time (s)" },
    },
  ],
  digits: { x: 0, y: 4 },
  cells: ({ a, b, c }, seeds) =>
    seeds.flatMap((seed) => [
      {
        key: `figure8/a/d=${a.d}/K=${a.K}/eps=${a.eps}/lr=${a.lr}/T=${a.Ts}/seed=${seed}`,
        row: "a",
        seed,
        run: async (ctx) => figure8a(await ctx.gpu(), { ...a, seed }),
      },
      {
        key: `figure8/b/d=${b.ds}/K=${b.K}/eps=${b.eps}/seed=${seed}`,
        row: "b",
        seed,
        run: async (ctx) => figure8b(await ctx.gpu(), { ...b, seed }),
      },
      {
        key: `figure8/c/d=${c.d}/K=${c.K}/L=${c.Ls}/repeats=${c.repeats}/seed=${seed}`,
        row: "c",
        seed,
        run: async (ctx) => figure8c(await ctx.gpu(), { ...c, seed }),
      },
    ]),
  points: (outcomes) => [
    ...seriesPoints(outcomes, "a", "T", { ferret: "Ferret", zo: "ZO" }, (o) => o.row === "a"),
    ...seriesPoints(outcomes, "b", "d", { ferret: "Ferret", zo: "ZO" }, (o) => o.row === "b"),
    ...seriesPoints(outcomes, "c", "L", { ferret: "Ferret" }, (o) => o.row === "c"),
    ...seriesPoints(outcomes, "c_time", "L", { seconds: "Ferret" }, (o) => o.row === "c"),
  ],
  verify: (points, { a, b, c }) => {
    const y = (panel: string, s: string, x: number) =>
      points.find((p) => p.panel === panel && p.series === s && p.x === x)?.y ?? NaN;
    const band = (K: number) => K_SIGMA / Math.sqrt(2 * K);
    const aPred = predictedCosine(a.d, a.K, kurtosis(a.d));
    const cPred = predictedCosine(c.d, c.K, kurtosis(c.d));
    const lastT = a.Ts[a.Ts.length - 1]!;
    const lastL = c.Ls[c.Ls.length - 1]!;
    return [
      check(
        "(a) Ferret's cosine is flat in T (within the sampling band of the predicted value)",
        a.Ts.every((T) => Math.abs(y("a", "Ferret", T) / aPred - 1) <= band(a.K)),
        a.Ts.map((T) => fmt(y("a", "Ferret", T))).join(", ") + ` vs ${fmt(aPred)}`,
      ),
      check(
        "(a) ZO's cosine decays with T",
        y("a", "ZO", lastT) < y("a", "ZO", a.Ts[0]!),
        `${fmt(y("a", "ZO", a.Ts[0]!))} → ${fmt(y("a", "ZO", lastT))}`,
      ),
      check(
        "(b) Ferret and ZO follow (1 + (d+κ−2)/K)^(−1/2) in d",
        b.ds.every((d) => {
          const p = predictedCosine(d, b.K, kurtosis(d));
          return Math.abs(y("b", "Ferret", d) / p - 1) <= band(b.K) &&
            Math.abs(y("b", "ZO", d) / p - 1) <= band(b.K);
        }),
        b.ds.map((d) => `${fmt(y("b", "Ferret", d))}/${fmt(y("b", "ZO", d))}`).join(", "),
      ),
      check(
        "(c) block-wise cosine is flat in L",
        c.Ls.every((L) =>
          Math.abs(y("c", "Ferret", L) / cPred - 1) <= band(c.K / L) / 2 + band(c.K)
        ),
        c.Ls.map((L) => fmt(y("c", "Ferret", L))).join(", ") + ` vs ${fmt(cPred)}`,
      ),
      timedCheck(
        "(c) reconstruction time drops with L",
        y("c_time", "Ferret", lastL) < y("c_time", "Ferret", c.Ls[0]!),
        `${fmt(y("c_time", "Ferret", c.Ls[0]!))} s → ${fmt(y("c_time", "Ferret", lastL))} s`,
      ),
    ];
  },
});
