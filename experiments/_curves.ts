/**
 * What the convergence figures share (paper.md §4 Figs. 2, 3, 4, 5 and 9):
 * one cell per federated run and seed that keeps the run's eval-loss curve,
 * its final Rouge-L and its per-round costs; the panels those figures draw;
 * and the points made from the cells (means over seeds, std when several).
 *
 * The cells only read the run through {@linkcode runFederated}, so a figure
 * whose setting equals a table's (Fig. 2 and Table 2, say) reuses that run's
 * artifact instead of training again.
 *
 * @module
 */

import {
  type Cell,
  type CellOutcome,
  type Check,
  defineFigure,
  type FigureSpec,
  type Panel,
  type Point,
  type Scale,
  type Stat,
} from "../src/experiment/define.ts";
import { meanStd } from "../src/experiment/stats.ts";
import type { AlgorithmConfig } from "../src/fl/algorithm_config.ts";
import { type FederatedSetting, runFederated, runKey } from "./_federated.ts";
import { MODEL_LABELS, type PaperModel, standIn } from "./_models.ts";
import { federatedScales } from "./_settings.ts";

/** Ferret's algorithm spec. */
export type FerretSpec = Extract<AlgorithmConfig, { readonly kind: "ferret" }>;

/** One curve of a figure: its legend label and the run behind it. */
export interface CurveRun {
  /** Legend entry (the cells' row). */
  readonly label: string;
  /** The federated run. */
  readonly setting: FederatedSetting;
}

/** Cache key of a run's curve cell (shared by every figure that draws that run). */
export function curveKey(setting: FederatedSetting, seed: number): string {
  return `curve/${runKey(setting)}/seed=${seed}`;
}

function mean(values: readonly number[]): number {
  return values.length === 0 ? NaN : values.reduce((a, b) => a + b, 0) / values.length;
}

/**
 * The cell of one run and seed: the eval-loss curve (index 0 before round 1),
 * the final Rouge-L (%), the mean seconds of global aggregation per round,
 * the mean seconds of local updates per client and round, and how many
 * clients trained as one batch of models (mean over rounds).
 */
export function curveCell(setting: FederatedSetting, series: string, seed: number): Cell {
  return {
    key: curveKey(setting, seed),
    row: series,
    seed,
    run: async (context) => {
      const summary = await runFederated(context, setting);
      return {
        evalLoss: summary.evalLoss,
        rougeL: summary.rougeL,
        aggregateSeconds: mean(summary.aggregateSeconds),
        localSeconds: mean(summary.localSeconds) / Math.max(1, summary.clientsPerRound),
        clientsPerBatch: summary.clientsPerBatch,
      };
    },
  };
}

/** The cells of `runs` for every seed. */
export function curveCells(runs: readonly CurveRun[], seeds: readonly number[]): Cell[] {
  return runs.flatMap((run) => seeds.map((seed) => curveCell(run.setting, run.label, seed)));
}

/** The outcomes of the curve cells of `settings` (to split a figure's outcomes by panel). */
export function outcomesOf(
  outcomes: readonly CellOutcome[],
  settings: readonly FederatedSetting[],
): CellOutcome[] {
  const prefixes = settings.map((s) => `curve/${runKey(s)}/seed=`);
  return outcomes.filter((o) => prefixes.some((p) => o.key.startsWith(p)));
}

function point(
  panel: string,
  series: string,
  x: number | string,
  ys: readonly number[],
  seeds: readonly number[],
): Point {
  const { mean, std } = meanStd(ys, seeds);
  const perSeed = { values: ys, seeds };
  return ys.length > 1
    ? { panel, series, x, y: mean, std, ...perSeed }
    : { panel, series, x, y: mean, ...perSeed };
}

/**
 * Mean eval loss per round (x = 0…R, 0 = before round 1) of each series in
 * `seriesOrder`, over the seeds of that series' outcomes.
 */
export function curvePoints(
  outcomes: readonly CellOutcome[],
  panel: string,
  seriesOrder: readonly string[],
): Point[] {
  return seriesOrder.flatMap((series) => {
    const mine = outcomes.filter((o) => o.row === series).sort((a, b) => a.seed - b.seed);
    const curves = mine.map((o) => o.result["evalLoss"] as readonly number[]);
    if (curves.length === 0) return [];
    const rounds = Math.min(...curves.map((c) => c.length));
    const seeds = mine.map((o) => o.seed);
    return Array.from(
      { length: rounds },
      (_, r) => point(panel, series, r, curves.map((c) => c[r]!), seeds),
    );
  });
}

/** One bar per series in `seriesOrder` (x = the series label): mean of `result[key]` over seeds. */
export function barPoints(
  outcomes: readonly CellOutcome[],
  panel: string,
  key: string,
  seriesOrder: readonly string[],
): Point[] {
  return seriesOrder.flatMap((series) => {
    const mine = outcomes.filter((o) => o.row === series).sort((a, b) => a.seed - b.seed);
    const values = mine.map((o) => o.result[key] as number);
    return values.length === 0
      ? []
      : [point(panel, series, series, values, mine.map((o) => o.seed))];
  });
}

/**
 * The per-seed statistic of a series' point at `x` (default: its last point,
 * a curve's final round), for paired checks; undefined when it has none.
 */
export function pointStat(
  points: readonly Point[],
  panel: string,
  series: string,
  x?: number | string,
): Stat | undefined {
  const mine = points.filter((p) => p.panel === panel && p.series === series);
  const at = x === undefined ? lastOf(mine) : mine.find((p) => p.x === x);
  return at?.values && at.seeds ? meanStd(at.values, at.seeds) : undefined;
}

/**
 * Each seed's curve of a series (its values by round, 0 = before round 1)
 * and the seeds, from the per-seed values of the curve's points.
 */
export function seedCurves(
  points: readonly Point[],
  panel: string,
  series: string,
): { curves: number[][]; seeds: readonly number[] } | undefined {
  const curve = points.filter((p) => p.panel === panel && p.series === series && p.values)
    .sort((a, b) => (a.x as number) - (b.x as number));
  const seeds = curve[0]?.seeds;
  if (!seeds) return undefined;
  return { curves: seeds.map((_, i) => curve.map((p) => p.values![i]!)), seeds };
}

/**
 * Per seed, the mean of a series' curve over its second half of rounds
 * (rounds ⌈R/2⌉ … R), as a statistic for paired checks.
 */
export function secondHalfStat(
  points: readonly Point[],
  panel: string,
  series: string,
): Stat | undefined {
  const found = seedCurves(points, panel, series);
  if (!found) return undefined;
  const perSeed = found.curves.map((c) => mean(c.slice(Math.ceil((c.length - 1) / 2))));
  return meanStd(perSeed, found.seeds);
}

/**
 * Rounds a run needs to reach `target`: the first round r ≥ 1 whose loss
 * (`losses` by round, 0 = before round 1) is at most `target`, or R + 1 when
 * none is.
 *
 * @example
 * ```ts
 * import { roundsToReach } from "./_curves.ts";
 * console.log(roundsToReach([5, 3, 2, 1], 2.5), roundsToReach([5, 3, 2, 1], 0.5)); // 2 4
 * ```
 */
export function roundsToReach(losses: readonly number[], target: number): number {
  const r = losses.findIndex((loss, i) => i > 0 && loss <= target);
  return r < 0 ? losses.length : r;
}

function lastOf(points: readonly Point[]): Point | undefined {
  return [...points].sort((a, b) =>
    typeof a.x === "number" && typeof b.x === "number" ? a.x - b.x : 0
  ).at(-1);
}

/** A series' y values of a panel in x order (a curve, or one bar). */
export function seriesValues(points: readonly Point[], panel: string, series: string): number[] {
  return points.filter((p) => p.panel === panel && p.series === series)
    .sort((a, b) => (typeof a.x === "number" && typeof b.x === "number" ? a.x - b.x : 0))
    .map((p) => p.y);
}

/** The last value of a series' curve (NaN when it has none). */
export function finalValue(points: readonly Point[], panel: string, series: string): number {
  const values = seriesValues(points, panel, series);
  return values[values.length - 1] ?? NaN;
}

/**
 * A copy of a Ferret setting with some algorithm fields replaced
 * (K, optimizer, learning rate, grouping multiplier, …).
 */
export function withAlgorithm(
  setting: FederatedSetting,
  patch: Partial<Omit<FerretSpec, "kind">>,
): FederatedSetting {
  const algorithm = setting.algorithm;
  if (algorithm.kind !== "ferret") {
    throw new TypeError(`Cannot patch a "${algorithm.kind}" setting: expected a Ferret one`);
  }
  return { ...setting, algorithm: { ...algorithm, ...patch } };
}

/** Ferret's algorithm spec of a setting (throws for another algorithm). */
export function ferretSpec(setting: FederatedSetting): FerretSpec {
  if (setting.algorithm.kind !== "ferret") {
    throw new TypeError(`Cannot read Ferret's spec of a "${setting.algorithm.kind}" setting`);
  }
  return setting.algorithm;
}

/** Panel (a) of Figs. 3, 4, 5 and 9: test loss against rounds. */
export const CONVERGENCE_PANEL: Panel = {
  key: "convergence",
  title: "(a) Convergence",
  mark: "line",
  x: { title: "Round" },
  y: { title: "Test loss" },
};

/** Panel (b) of Figs. 3, 4, 5 and 9: final Rouge-L bars, one per series. */
export function generalizationPanel(xTitle: string): Panel {
  return {
    key: "generalization",
    title: "(b) Generalization",
    mark: "bar",
    x: { title: xTitle },
    y: { title: "Rouge-L (%)" },
  };
}

/** The note on what runs below paper scale. */
export function standInNote(suite: string, ...models: readonly PaperModel[]): string {
  const named = models.map((model) => {
    const s = standIn(model, "default");
    return `${MODEL_LABELS[model]} → \`${s.name}\` (width ${s.config.hiddenSize}, ` +
      `${s.config.numLayers} layers)`;
  });
  return `Below paper scale the dataset is the built-in ${suite} suite and each model a tiny ` +
    `pre-trained stand-in (experiments/_models.ts): ${named.join("; ")}; at smoke scale every ` +
    "model is the CI preset. Absolute losses and scores are not comparable with the paper's, " +
    "trends are.";
}

/** Parameters of a figure drawn from a list of runs. */
export interface CurveParams {
  /** The runs, in legend order. */
  readonly runs: readonly CurveRun[];
}

/**
 * Declares a figure of Ferret variants (Figs. 3, 4, 9): (a) test loss per
 * round and (b) final Rouge-L bars, one series per run of `params(scale)`,
 * in the order `labels` gives.
 */
export function variantsFigure(spec: {
  readonly id: string;
  readonly title: string;
  readonly caption: string;
  readonly source: string;
  readonly statement: string;
  readonly notes: readonly string[];
  readonly labels: readonly string[];
  readonly xTitle: string;
  readonly params: (scale: Scale) => CurveParams;
  readonly verify: (points: readonly Point[]) => Check[];
}): FigureSpec<CurveParams> {
  return defineFigure<CurveParams>({
    id: spec.id,
    title: spec.title,
    caption: spec.caption,
    source: spec.source,
    statement: spec.statement,
    notes: spec.notes,
    scales: federatedScales(spec.params),
    requires: { paper: ["data", "models"] },
    panels: [CONVERGENCE_PANEL, generalizationPanel(spec.xTitle)],
    digits: { x: 0, y: 4 },
    cells: ({ runs }, seeds) => curveCells(runs, seeds),
    points: (outcomes) => [
      ...curvePoints(outcomes, "convergence", spec.labels),
      ...barPoints(outcomes, "generalization", "rougeL", spec.labels),
    ],
    verify: spec.verify,
  });
}
