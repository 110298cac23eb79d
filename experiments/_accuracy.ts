/**
 * The paper's Rouge-L tables (2, 3 and 9) share one shape: algorithms as
 * rows, (dataset, model) pairs as columns under dataset groups, one
 * federated run per cell and seed, mean ± sample std of the final Rouge-L;
 * the claims decided by paired 95% intervals over seeds.
 *
 * @module
 */

import type { SuiteName } from "../src/data/suites/builtin.ts";
import {
  type Check,
  defineTable,
  type PaperValue,
  type Scale,
  type Stat,
  type TableData,
  type TableSpec,
} from "../src/experiment/define.ts";
import { type Hypothesis, pairedCheck } from "../src/experiment/stats.ts";
import {
  DATASET_LABELS,
  evaluateBase,
  type FederatedSetting,
  runFederated,
  runKey,
} from "./_federated.ts";
import { MODEL_LABELS, type PaperModel, standIn } from "./_models.ts";
import {
  columnSeeds,
  FEDERATED_SEEDS,
  federatedScales,
  federatedSetting,
  type Method,
  METHOD_GROUPS,
  METHOD_LABELS,
} from "./_settings.ts";

/** One column: a dataset and a model. */
export interface AccuracyColumn {
  readonly dataset: SuiteName;
  readonly model: PaperModel;
  /**
   * Seeds every row of this column runs at default scale, where the scale's
   * five are too few for its claims' intervals to reach their precision: the
   * five, then the next integers ({@linkcode columnSeeds}). The table's notes
   * say how the number was chosen.
   */
  readonly defaultSeeds?: number;
}

/** Column key of a (dataset, model) pair, e.g. `ni-like:open_llama_3b`. */
export function columnKey(column: AccuracyColumn): string {
  return `${column.dataset}:${column.model}`;
}

/** What an accuracy table declares. */
export interface AccuracySpec {
  readonly id: string;
  readonly title: string;
  readonly caption: string;
  readonly source: string;
  readonly methods: readonly Method[];
  readonly columns: readonly AccuracyColumn[];
  /** Printed mean ± std by method, in column order. */
  readonly paper: Readonly<Partial<Record<Method, readonly (readonly [number, number])[]>>>;
  readonly notes: readonly string[];
}

/** Parameters of an accuracy table: the run behind every (method, column). */
export interface AccuracyParams {
  /** `method|column key` → setting. */
  readonly settings: Readonly<Record<string, FederatedSetting>>;
  /** Column key → seeds it runs at least (columns with more than the scale's seeds only). */
  readonly seedsPerColumn: Readonly<Record<string, number>>;
}

function params(spec: AccuracySpec, scale: Scale): AccuracyParams {
  const seedsPerColumn: Record<string, number> = {};
  for (const column of spec.columns) {
    if (scale === "default" && column.defaultSeeds) {
      seedsPerColumn[columnKey(column)] = column.defaultSeeds;
    }
  }
  const settings: Record<string, FederatedSetting> = {};
  for (const method of spec.methods) {
    for (const column of spec.columns) {
      settings[`${method}|${columnKey(column)}`] = federatedSetting(
        scale,
        column.dataset,
        column.model,
        method,
      );
    }
  }
  return { settings, seedsPerColumn };
}

/** Column key of a (dataset, model) pair's eval loss, e.g. `ni-like:open_llama_3b/loss`. */
export function lossKey(column: AccuracyColumn): string {
  return `${columnKey(column)}/loss`;
}

/**
 * Column key of a (dataset, model) pair's exact match of final answers, e.g.
 * `gsm8k-like:llama-2-7b/exact` (GSM8K-like columns only).
 */
export function exactKey(column: AccuracyColumn): string {
  return `${columnKey(column)}/exact`;
}

/** Whether a column's references end in a `#### <number>` final answer, so exact match is scored. */
function scoresExactMatch(column: AccuracyColumn): boolean {
  return column.dataset === "gsm8k-like";
}

/** A run's or the base model's values under a column's keys. */
function columnValues(
  column: AccuracyColumn,
  result: { rougeL: number; evalLoss: number; exactMatch: number | null },
): Record<string, number> {
  return {
    [columnKey(column)]: result.rougeL,
    [lossKey(column)]: result.evalLoss,
    ...(scoresExactMatch(column) ? { [exactKey(column)]: result.exactMatch ?? NaN } : {}),
  };
}

/** The row before round 1. */
const BASE = "base";

/**
 * The cell of one (setting, seed): its final Rouge-L, response-token eval
 * loss and (GSM8K-like) exact match under the column's keys.
 */
export function accuracyCell(setting: FederatedSetting, method: string, seed: number) {
  return {
    key: `accuracy/${runKey(setting)}/seed=${seed}`,
    row: method,
    seed,
    run: async (context: Parameters<typeof runFederated>[0]) => {
      const run = await runFederated(context, setting);
      // How many clients trained as one batch of models: for the manifest, not a table column.
      return {
        ...columnValues(setting, { ...run, evalLoss: run.evalLoss.at(-1)! }),
        [`${columnKey(setting)}/clients per batch`]: run.clientsPerBatch,
      };
    },
  };
}

/** The base model's cell of one (column, seed), evaluated on the examples `setting`'s runs use. */
function baseCell(setting: FederatedSetting, seed: number) {
  const { dataset, model, base, evaluation } = setting;
  return {
    key: `base/${runKey({ dataset, model, base, evaluation })}/seed=${seed}`,
    row: BASE,
    seed,
    run: async (context: Parameters<typeof runFederated>[0]) => {
      return columnValues(setting, await evaluateBase(context, setting));
    },
  };
}

/** Stand-in description for the notes. */
function standInNote(columns: readonly AccuracyColumn[]): string {
  const models = [...new Set(columns.map((c) => c.model))];
  const named = models.map((m) => {
    const s = standIn(m, "default");
    return `${MODEL_LABELS[m]} → \`${s.name}\` (width ${s.config.hiddenSize}, ` +
      `${s.config.numKvHeads}/${s.config.numHeads} KV/query heads, MLP ${s.config.intermediateSize})`;
  });
  return "Below paper scale the datasets are the built-in suites and each model is a tiny " +
    `LLaMA-style stand-in pre-trained by the toolkit (experiments/_models.ts): ${
      named.join("; ")
    }. ` +
    "Absolute scores are therefore not comparable with the paper's; orderings are.";
}

/**
 * Checks of the paper's accuracy claims, per column, each a paired
 * comparison over seeds with its 95% interval (src/experiment/stats.ts):
 * Ferret ≈ FedAvg (the Rouge-L difference within ±5 points, the eval-loss
 * difference within ±0.1 nats), Ferret above each zeroth-order method, and
 * FedAvg and Ferret improving on the base model in both metrics.
 */
function accuracyChecks(table: TableData, spec: AccuracySpec): Check[] {
  const checks: Check[] = [];
  const has = (m: Method) => spec.methods.includes(m);
  for (const column of spec.columns) {
    const label = `${DATASET_LABELS[column.dataset]} · ${MODEL_LABELS[column.model]}`;
    const rouge = (row: string) => table.stats[row]?.[columnKey(column)];
    const loss = (row: string) => table.stats[row]?.[lossKey(column)];
    const ferret = rouge("ferret");
    if (!ferret) continue;
    const compare = (
      claim: string,
      a: Stat | undefined,
      b: Stat | undefined,
      hypothesis: Hypothesis,
      names: readonly [string, string],
      digits: number,
    ) => {
      if (a && b) {
        checks.push(pairedCheck(`${label}: ${claim}`, a, b, { hypothesis, names, digits }));
      }
    };
    if (has("fedavg")) {
      const within = (margin: number) => ({ kind: "within", margin }) as const;
      compare("Ferret ≈ FedAvg (Rouge-L within ±5 points)", ferret, rouge("fedavg"), within(5), [
        "Ferret",
        "FedAvg",
      ], 2);
      compare(
        "Ferret ≈ FedAvg (eval loss within ±0.1 nats)",
        loss("ferret"),
        loss("fedavg"),
        within(0.1),
        ["Ferret", "FedAvg"],
        3,
      );
    }
    for (const zo of (["fedzo", "fedkseed"] as const).filter(has)) {
      compare(`Ferret above ${METHOD_LABELS[zo]}`, ferret, rouge(zo), { kind: "greater" }, [
        "Ferret",
        METHOD_LABELS[zo],
      ], 2);
    }
    for (const m of (["fedavg", "ferret"] as const).filter(has)) {
      const name = METHOD_LABELS[m];
      compare(
        `${name} lowers the eval loss below the base model`,
        loss(m),
        loss(BASE),
        {
          kind: "less",
        },
        [name, "Base"],
        3,
      );
      compare(
        `${name} raises Rouge-L above the base model`,
        rouge(m),
        rouge(BASE),
        {
          kind: "greater",
        },
        [name, "Base"],
        2,
      );
    }
  }
  return checks;
}

/**
 * Declares an accuracy table.
 *
 * @example
 * ```ts
 * import { accuracyTable } from "./_accuracy.ts";
 * const t = accuracyTable({
 *   id: "demo", title: "Demo", caption: "c", source: "s", methods: ["fedavg", "ferret"],
 *   columns: [{ dataset: "gsm8k-like", model: "llama-2-7b" }], paper: {}, notes: [],
 * });
 * console.log(t.columns[0]!.label); // "LLaMA2-7B"
 * ```
 */
export function accuracyTable(spec: AccuracySpec): TableSpec<AccuracyParams> {
  return defineTable<AccuracyParams>({
    id: spec.id,
    title: spec.title,
    caption: spec.caption,
    source: spec.source,
    statement:
      `Final-round Rouge-L (%), response-token eval loss (nats)${
        spec.columns.some(scoresExactMatch) ? " and exact match of final answers (%)" : ""
      } of ` +
      `${spec.methods.length} algorithms and the base model on ` +
      `${[...new Set(spec.columns.map((c) => DATASET_LABELS[c.dataset]))].join(" and ")} with ` +
      `${
        [...new Set(spec.columns.map((c) => MODEL_LABELS[c.model]))].join(" and ")
      }, mean ± sample std over seeds.`,
    notes: [
      ...spec.notes,
      `The eval-loss columns${
        spec.columns.some(scoresExactMatch)
          ? ", the exact-match columns (% of final `#### <number>` answers equal to the reference's)"
          : ""
      } and the base-model row (the pre-trained model before round 1, scored on the same ` +
      "held-out examples) are not in the paper; the paper's Rouge-L columns keep its layout.",
      standInNote(spec.columns),
      ...spec.columns.filter((c) => c.defaultSeeds).map((c) => {
        const own = FEDERATED_SEEDS.default;
        const seeds = columnSeeds(own, "default", c.defaultSeeds);
        return `At default scale every row of ${DATASET_LABELS[c.dataset]} · ${
          MODEL_LABELS[c.model]
        } runs seeds ${seeds[0]}–${seeds.at(-1)}: the scale's ${own.length} and ${
          seeds.length - own.length
        } more, so its checks are over ${seeds.length} seeds.`;
      }),
    ],
    scales: federatedScales((scale) => params(spec, scale)),
    requires: { paper: ["data", "models"] },
    rowHeader: "Algorithm",
    rows: () => [
      { key: BASE, label: "Base model (before round 1)", group: "Before fine-tuning" },
      ...spec.methods.map((m) => ({ key: m, label: METHOD_LABELS[m], group: METHOD_GROUPS[m] })),
    ],
    columns: [
      ...spec.columns.map((c) => ({
        key: columnKey(c),
        label: MODEL_LABELS[c.model],
        group: DATASET_LABELS[c.dataset],
        digits: 2,
        better: "higher" as const,
      })),
      ...spec.columns.map((c) => ({
        key: lossKey(c),
        label: MODEL_LABELS[c.model],
        group: `${DATASET_LABELS[c.dataset]} · eval loss`,
        digits: 3,
        better: "lower" as const,
      })),
      ...spec.columns.filter(scoresExactMatch).map((c) => ({
        key: exactKey(c),
        label: MODEL_LABELS[c.model],
        group: `${DATASET_LABELS[c.dataset]} · exact match`,
        digits: 2,
        better: "higher" as const,
      })),
    ],
    paper: Object.fromEntries(
      Object.entries(spec.paper).map(([method, values]) => [
        method,
        Object.fromEntries(
          spec.columns.map((column, i) => [
            columnKey(column),
            { mean: values[i]![0], std: values[i]![1] } satisfies PaperValue,
          ]),
        ),
      ]),
    ),
    cells: ({ settings, seedsPerColumn }, seeds, scale) => {
      const seedsOf = (column: AccuracyColumn) =>
        columnSeeds(seeds, scale, seedsPerColumn[columnKey(column)]);
      return [
        ...spec.columns.flatMap((column) =>
          seedsOf(column).map((seed) =>
            baseCell(settings[`${spec.methods[0]}|${columnKey(column)}`]!, seed)
          )
        ),
        ...spec.methods.flatMap((method) =>
          spec.columns.flatMap((column) =>
            seedsOf(column).map((seed) =>
              accuracyCell(settings[`${method}|${columnKey(column)}`]!, method, seed)
            )
          )
        ),
      ];
    },
    verify: (table) => accuracyChecks(table, spec),
  });
}
