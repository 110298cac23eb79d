/**
 * The paper's cost tables (4, 5 and 10) share one shape: FedZO, FedKSeed,
 * FedAvg and Ferret on one (dataset, model); (a) seconds per round of local
 * update (one client), global aggregation and their sum; (b) parameters
 * communicated per client and round (sent + received); Ferret's speed-ups
 * in brackets, against FedKSeed for computation and FedAvg for
 * communication (paper.md §3 Tables 4, 5, 10 and "How the cost tables were
 * computed").
 *
 * The runs are the accuracy tables' runs (same settings, so they are
 * shared); the seconds are wall-clock on this engine and machine.
 *
 * @module
 */

import type { SuiteName } from "../src/data/suites/builtin.ts";
import { pairedCheck } from "../src/experiment/stats.ts";
import {
  type CellContext,
  type Check,
  type Column,
  defineTable,
  type PaperValue,
  type Scale,
  type TableSpec,
} from "../src/experiment/define.ts";
import { paperCommunication } from "../src/fl/ledger.ts";
import { parameterCount } from "../src/model/config.ts";
import { parameterLayout } from "../src/model/layout.ts";
import { PRESETS } from "../src/model/presets.ts";
import { groupTensors } from "../src/projection/blocks.ts";
import { type FederatedSetting, runFederated, runKey, type RunSummary } from "./_federated.ts";
import { MODEL_LABELS, type PaperModel, standIn } from "./_models.ts";
import { federatedScales, federatedSetting, METHOD_LABELS } from "./_settings.ts";

/** The methods of the cost tables. */
export type CostMethod = "fedzo" | "fedkseed" | "fedavg" | "ferret";
const METHODS: readonly CostMethod[] = ["fedzo", "fedkseed", "fedavg", "ferret"];

/** Blocks L of the official grouping for a model config. */
function blockCount(config: Parameters<typeof parameterLayout>[0]): number {
  const tensors = parameterLayout(config).tensors.map((t) => ({ name: t.name, size: t.numel }));
  return groupTensors(tensors, "official").length;
}

/** The per-round costs of one run. */
export function roundCosts(run: RunSummary): { local: number; aggregate: number; comm: number } {
  const mean = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  return {
    local: mean(run.localSeconds) / Math.max(1, run.clientsPerRound),
    aggregate: mean(run.aggregateSeconds),
    comm: run.perClient,
  };
}

/** What a cost table declares. */
export interface CostSpec {
  readonly id: string;
  readonly title: string;
  readonly caption: string;
  readonly source: string;
  readonly dataset: SuiteName;
  /** A model with a shape preset (open_llama_3b, llama-2-7b, llama-2-13b). */
  readonly model: PaperModel & keyof typeof PRESETS;
  readonly paper: Readonly<Partial<Record<CostMethod, Readonly<Record<string, PaperValue>>>>>;
  readonly notes: readonly string[];
}

/** Parameters of a cost table. */
export interface CostParams {
  /** The run of each method. */
  readonly settings: Readonly<Record<string, FederatedSetting>>;
  /** Parameters d of the paper's model (exact, from its shape). */
  readonly paperParameters: number;
  /** Blocks L of the paper's model under the official grouping. */
  readonly paperBlocks: number;
  /** Blocks L of the model actually run. */
  readonly blocks: number;
}

/** The parameters of a cost table at a scale. */
/**
 * The run a cost table times for `method`. At paper scale its own, by
 * Appx. C.2's protocol (paper.md §3 Table 10): batch size 1 for every
 * method, 10 local steps for FedAvg and Ferret, 200 for FedZO (b₁ = 200,
 * b₂ = 1) and FedKSeed; per-round costs need few rounds (R matters only
 * for totals, which the tables do not print), so 3, with one held-out
 * example for the loss and no generation. Below paper scale, the accuracy
 * tables' runs (already one protocol for every method).
 *
 * @example
 * ```ts
 * import { costSetting } from "./_costs.ts";
 * const s = costSetting("paper", "gsm8k-like", "llama-2-7b", "fedavg");
 * console.log(s.local, s.rounds); // { steps: 10, nAccum: 1 } 3
 * ```
 */
export function costSetting(
  scale: Scale,
  dataset: SuiteName,
  model: PaperModel,
  method: CostMethod,
): FederatedSetting {
  const accuracy = federatedSetting(scale, dataset, model, method);
  if (scale !== "paper") return accuracy;
  return {
    ...accuracy,
    rounds: 3,
    local: method === "fedavg" || method === "ferret"
      ? { steps: 10, nAccum: 1 }
      : { steps: 200, nAccum: 1 },
    evaluation: { lossExamples: 1, rougeExamples: 0, maxNewTokens: 1 },
  };
}

export function costParams(spec: CostSpec, scale: Scale): CostParams {
  const settings = Object.fromEntries(
    METHODS.map((m) => [m, costSetting(scale, spec.dataset, spec.model, m)]),
  );
  const config = scale === "paper" ? PRESETS[spec.model] : standIn(spec.model, scale).config;
  return {
    settings,
    paperParameters: parameterCount(PRESETS[spec.model]),
    paperBlocks: blockCount(PRESETS[spec.model]),
    blocks: blockCount(config),
  };
}

/**
 * The per-round communication `method` would have on the paper's model:
 * 2d for FedAvg and FedZO, 2K for FedKSeed, and for Ferret 2 Σ K_l with the
 * measured mean K_l per block (`measured` = 2 Σ K_l on the model run) over
 * the paper model's L blocks.
 */
export function paperSize(method: CostMethod, measured: number, params: CostParams): number {
  const parameters = params.paperParameters;
  if (method === "fedkseed") {
    const spec = params.settings.fedkseed!.algorithm;
    return paperCommunication("fedkseed", {
      parameters,
      K: spec.kind === "fedkseed" ? spec.K : 4096,
    });
  }
  if (method === "ferret") {
    const coordinates = Math.round((measured / 2 / params.blocks) * params.paperBlocks);
    return paperCommunication("ferret", { parameters, coordinates });
  }
  return paperCommunication(method, { parameters });
}

const COLUMNS: readonly Column[] = [
  { key: "local", label: "Local Update (s)", group: "(a) Computation", digits: 2, better: "lower" },
  {
    key: "aggregate",
    label: "Global Aggr. (s)",
    group: "(a) Computation",
    digits: 2,
    better: "lower",
  },
  { key: "overall", label: "Overall (s)", group: "(a) Computation", digits: 2, better: "lower" },
  {
    key: "comm",
    label: "Communication (# params)",
    group: "(b) Communication",
    digits: "sci",
    better: "lower",
  },
  { key: "local_x", label: "Local ×", group: "Ferret's speed-up vs FedKSeed", digits: 1 },
  { key: "aggregate_x", label: "Aggr. ×", group: "Ferret's speed-up vs FedKSeed", digits: 1 },
  { key: "overall_x", label: "Overall ×", group: "Ferret's speed-up vs FedKSeed", digits: 1 },
  { key: "comm_x", label: "Comm. ÷ vs FedAvg", group: "Ferret's reduction", digits: "sci" },
  {
    key: "comm_paper",
    label: "At the paper's model size (# params)",
    group: "(b) Communication",
    digits: "sci",
  },
];

/**
 * Declares a cost table.
 *
 * @example
 * ```ts
 * import { costTable } from "./_costs.ts";
 * const t = costTable({ id: "demo", title: "Demo", caption: "c", source: "s",
 *   dataset: "gsm8k-like", model: "llama-2-7b", paper: {}, notes: [] });
 * console.log(t.scales.default!.params.paperBlocks); // 258
 * ```
 */
export function costTable(spec: CostSpec): TableSpec<CostParams> {
  const cells = (params: CostParams, seeds: readonly number[]) =>
    METHODS.flatMap((method) =>
      seeds.map((seed) => ({
        key: `cost/${runKey(params.settings[method])}/paper=${spec.model}/seed=${seed}`,
        row: method,
        seed,
        run: async (context: CellContext) => {
          const run = (m: CostMethod) => runFederated(context, params.settings[m]!);
          const summary = await run(method);
          const mine = roundCosts(summary);
          const result: Record<string, number> = {
            local: mine.local,
            aggregate: mine.aggregate,
            overall: mine.local + mine.aggregate,
            comm: mine.comm,
            comm_paper: paperSize(method, mine.comm, params),
            // How many clients trained as one batch of models: for the manifest, not a column.
            clients_per_batch: summary.clientsPerBatch,
          };
          if (method === "ferret") {
            const kseed = roundCosts(await run("fedkseed"));
            const avg = roundCosts(await run("fedavg"));
            result.local_x = kseed.local / mine.local;
            result.aggregate_x = kseed.aggregate / mine.aggregate;
            result.overall_x = (kseed.local + kseed.aggregate) / (mine.local + mine.aggregate);
            result.comm_x = avg.comm / mine.comm;
          }
          return result;
        },
      }))
    );
  const params = (scale: Scale) => costParams(spec, scale);
  return defineTable<CostParams>({
    id: spec.id,
    timed: true,
    title: spec.title,
    caption: spec.caption,
    source: spec.source,
    statement:
      "Seconds per round (local update of one client, global aggregation, their sum) and " +
      "parameters sent + received per client and round; mean ± sample std over seeds.",
    notes: [
      ...spec.notes,
      "Local Update is one client's local training, projection included; Global Aggr. is the " +
      "server's averaging, reconstruction and model update (Appx. C.2). Seconds are wall-clock on " +
      "this engine and machine (see the manifest's adapter); the paper's hardware is not stated, " +
      "so only the ratios compare.",
      "'At the paper's model size': 2d with d the exact parameter count of the paper's model, 2K for " +
      "FedKSeed, and for Ferret 2 Σ K_l with the measured mean K_l per block over the paper " +
      "model's L blocks of the official grouping.",
      "At paper scale each method runs its own 3 rounds by Appx. C.2's protocol: batch size 1, " +
      "10 local steps for FedAvg and Ferret, 200 for FedZO and FedKSeed (experiments/_costs.ts).",
      `Below paper scale these are the runs of the accuracy tables on the stand-in of ${
        MODEL_LABELS[spec.model]
      } (experiments/_models.ts).`,
    ],
    scales: federatedScales(params),
    requires: { paper: ["data", "models"] },
    rowHeader: "Algorithm",
    rows: () => METHODS.map((m) => ({ key: m, label: METHOD_LABELS[m] })),
    columns: COLUMNS,
    paper: spec.paper,
    cells,
    verify: (table): Check[] => {
      const m = (row: CostMethod, col: string) => table.stats[row]?.[col]?.mean ?? NaN;
      const [ferret, fedkseed] = [table.stats["ferret"]?.overall, table.stats["fedkseed"]?.overall];
      return [
        ...(ferret && fedkseed
          ? [
            {
              ...pairedCheck(
                "Ferret's overall cost per round below FedKSeed's (seconds)",
                ferret,
                fedkseed,
                {
                  hypothesis: { kind: "less" },
                  names: ["Ferret", "FedKSeed"],
                  digits: 3,
                },
              ),
              timed: true,
            } satisfies Check,
          ]
          : []),
        {
          // The ratio is 2d / 2ΣK_l and grows with d: the claim is about the paper's model.
          claim: "At the paper's model size Ferret communicates ≥ 10⁴× fewer parameters per " +
            "round than FedAvg",
          holds: m("fedavg", "comm_paper") / m("ferret", "comm_paper") >= 1e4,
          detail: `×${(m("fedavg", "comm_paper") / m("ferret", "comm_paper")).toExponential(2)} ` +
            `at the paper's size; ×${m("ferret", "comm_x").toExponential(2)} on the model run`,
        },
      ];
    },
  });
}
