/**
 * Figure 1: FedAvg, FedKSeed and Ferret on Natural Instructions with
 * LLaMA-3B — computational cost, communication, rounds to converge and test
 * score as four bar panels (paper.md §4 Fig. 1). Built from the runs of
 * Tables 2 and 4.
 *
 * @module
 */

import {
  type CellOutcome,
  type Check,
  defineFigure,
  type Point,
  type Scale,
} from "../src/experiment/define.ts";
import { type Hypothesis, pairedCheck } from "../src/experiment/stats.ts";
import { type CostMethod, type CostParams, paperSize, roundCosts } from "./_costs.ts";
import { barPoints, pointStat, roundsToReach } from "./_curves.ts";
import { runFederated, runKey } from "./_federated.ts";
import { federatedScales, federatedSetting } from "./_settings.ts";
import { table4 } from "./table4.ts";

const METHODS: readonly CostMethod[] = ["fedavg", "fedkseed", "ferret"];
const LABELS: Readonly<Record<string, string>> = {
  fedavg: "FedAvg",
  fedkseed: "FedKSeed",
  ferret: "Ferret (Ours)",
};
const PANELS = [
  { key: "cost", result: "overall", title: "Computational Cost", y: "Seconds" },
  { key: "comm", result: "commLog10", title: "Communication Cost", y: "#Params (log-scale)" },
  { key: "rounds", result: "rounds", title: "Convergence Rounds", y: "#Rounds" },
  { key: "score", result: "rougeL", title: "Test Score", y: "Rouge-L (%)" },
] as const;

/** Table 4's runs and sizes: Fig. 1 draws NI with LLaMA-3B from them. */
const params = (scale: Scale): CostParams => table4.scales[scale]!.params;

const paper = (values: Record<string, readonly number[]>): Point[] =>
  PANELS.flatMap((p) =>
    METHODS.map((m, i) => ({
      panel: p.key,
      series: LABELS[m]!,
      x: LABELS[m]!,
      y: values[p.key]![i]!,
    }))
  );

/** Figure 1 of the paper. */
export const figure1 = defineFigure<CostParams>({
  id: "figure1",
  timed: true,
  title: "Figure 1",
  caption:
    "Performance comparison of various federated full-parameter tuning algorithms on Natural " +
    "Instructions dataset with LLaMA-3B. Our Ferret shows significantly improved scalability, with a " +
    "6.0× reduction in computational cost and 3.3× fewer convergence rounds than FedKSeed, alongside " +
    "a 10⁶× reduction in communication overhead than FedAvg, while achieving comparable test score.",
  source: "paper.md §4 Fig. 1, §3 Tables 2 and 4",
  statement: "Overall seconds per round, log10 parameters communicated per client and round at " +
    "LLaMA-3B's size (Table 4's last column), rounds to converge (the first round whose test loss " +
    "reaches a target shared by all methods: the highest of their mean final test losses), final " +
    "Rouge-L; mean ± sample std over seeds, claims by paired 95% intervals.",
  notes: [
    "The paper's convergence rounds (12 vs 40) are the rounds each method was run for; the text's Fig. 2 claim is 2 vs 40 (paper.md §8 item 3). Here every method runs the same rounds, and a run's count is the first round its test loss reaches the shared target (a run that never does counts as one round more than it ran).",
    "The paper's bars come from Tables 2 and 4; ours from the same runs as this toolkit's Tables 2 and 4.",
    "Communication is counted at LLaMA-3B's exact size (2d, 2K, and 2 Σ K_l with Ferret's measured mean K_l per block over LLaMA-3B's 210 blocks): on the stand-in itself d is only 4.7×10⁵, so no K could give 10⁶×.",
  ],
  scales: federatedScales(params),
  requires: { paper: ["data", "models"] },
  panels: PANELS.map((p) => ({
    key: p.key,
    title: p.title,
    mark: "bar" as const,
    x: { title: "Algorithm" },
    y: { title: p.y },
  })),
  digits: { y: 2 },
  cells: (params, seeds) =>
    METHODS.flatMap((method) =>
      seeds.map((seed) => ({
        key: `figure1/${runKey(params.settings[method])}/paper=open_llama_3b/seed=${seed}`,
        row: LABELS[method]!,
        seed,
        run: async (context) => {
          // Costs from Table 4's run; convergence and score from Table 2's (the same run below
          // paper scale; at paper scale Table 4 times Appx. C.2's protocol on runs of its own).
          const costs = roundCosts(await runFederated(context, params.settings[method]!));
          const accuracy = federatedSetting(context.scale, "ni-like", "open_llama_3b", method);
          const run = await runFederated(context, accuracy);
          return {
            overall: costs.local + costs.aggregate,
            commLog10: Math.log10(paperSize(method, costs.comm, params)),
            rougeL: run.rougeL,
            ...Object.fromEntries(run.evalLoss.map((loss, r) => [`loss${r}`, loss])),
          };
        },
      }))
    ),
  points: (outcomes) => {
    const withRounds = roundsToTarget(outcomes);
    return PANELS.flatMap((p) =>
      barPoints(withRounds, p.key, p.result, METHODS.map((m) => LABELS[m]!))
    );
  },
  paper: paper({
    cost: [2.10, 180.70, 30.30],
    comm: [9.78, 3.91, 3.89],
    rounds: [12, 40, 12],
    score: [32.11, 29.77, 30.03],
  }),
  verify: (points) => {
    const stat = (panel: string, m: CostMethod) => pointStat(points, panel, LABELS[m]!, LABELS[m]);
    const y = (panel: string, m: CostMethod) =>
      points.find((p) => p.panel === panel && p.series === LABELS[m])?.y ?? NaN;
    const checks: Check[] = [];
    const compare = (
      claim: string,
      panel: string,
      [a, b]: readonly [CostMethod, CostMethod],
      hypothesis: Hypothesis,
      digits: number,
    ) => {
      const [sa, sb] = [stat(panel, a), stat(panel, b)];
      if (sa && sb) {
        const paired = pairedCheck(claim, sa, sb, {
          hypothesis,
          names: [LABELS[a]!, LABELS[b]!],
          digits,
        });
        checks.push(panel === "cost" ? { ...paired, timed: true } : paired);
      }
    };
    compare(
      "Ferret's computational cost per round below FedKSeed's",
      "cost",
      ["ferret", "fedkseed"],
      { kind: "less" },
      2,
    );
    checks.push({
      claim: "At LLaMA-3B's size Ferret communicates ≥ 10⁴× less than FedAvg",
      holds: y("comm", "fedavg") - y("comm", "ferret") >= 4,
      detail: `10^${y("comm", "ferret").toFixed(2)} vs 10^${y("comm", "fedavg").toFixed(2)} ` +
        "(counted, the same in every seed)",
    });
    compare(
      "Ferret reaches the shared target test loss in fewer rounds than FedKSeed",
      "rounds",
      ["ferret", "fedkseed"],
      { kind: "less" },
      2,
    );
    compare(
      "Ferret's test score comparable to FedAvg's (Rouge-L within ±5 points)",
      "score",
      ["ferret", "fedavg"],
      { kind: "within", margin: 5 },
      2,
    );
    return checks;
  },
});

/**
 * Each outcome with `rounds`: the first round whose test loss reaches the
 * target shared by every method — the highest of the methods' mean final
 * test losses, a loss every method reaches on average — or R + 1 when the
 * run never does.
 */
function roundsToTarget(outcomes: readonly CellOutcome[]): CellOutcome[] {
  const curve = (o: CellOutcome) => {
    const losses: number[] = [];
    for (let r = 0; `loss${r}` in o.result; r++) losses.push(o.result[`loss${r}`] as number);
    return losses;
  };
  const finals = METHODS.map((m) => {
    const mine = outcomes.filter((o) => o.row === LABELS[m]);
    return mine.reduce((s, o) => s + curve(o).at(-1)!, 0) / mine.length;
  }).filter(Number.isFinite);
  const target = Math.max(...finals);
  return outcomes.map((o) => ({
    ...o,
    result: { ...o.result, rounds: roundsToReach(curve(o), target) },
  }));
}
