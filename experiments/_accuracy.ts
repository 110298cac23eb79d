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
  type TableData,
  type TableSpec,
} from "../src/experiment/define.ts";
import { pairedCheck } from "../src/experiment/stats.ts";
import { DATASET_LABELS, type FederatedSetting, runFederated, runKey } from "./_federated.ts";
import { MODEL_LABELS, type PaperModel, standIn } from "./_models.ts";
import {
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
}

function params(spec: AccuracySpec, scale: Scale): AccuracyParams {
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
  return { settings };
}

/** The cell of one (setting, seed): its final Rouge-L under the column's key. */
export function rougeCell(setting: FederatedSetting, method: string, seed: number) {
  const column = columnKey(setting);
  return {
    key: `rouge/${runKey(setting)}/seed=${seed}`,
    row: method,
    seed,
    run: async (context: Parameters<typeof runFederated>[0]) => ({
      [column]: (await runFederated(context, setting)).rougeL,
    }),
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
 * Ferret ≈ FedAvg (the difference within ±5 Rouge-L points) and Ferret
 * above each zeroth-order method.
 */
function accuracyChecks(table: TableData, spec: AccuracySpec): Check[] {
  const checks: Check[] = [];
  const has = (m: Method) => spec.methods.includes(m);
  for (const column of spec.columns) {
    const key = columnKey(column);
    const label = `${DATASET_LABELS[column.dataset]} · ${MODEL_LABELS[column.model]}`;
    const stat = (m: Method) => table.stats[m]?.[key];
    const ferret = stat("ferret");
    if (!ferret) continue;
    const fedavg = has("fedavg") ? stat("fedavg") : undefined;
    if (fedavg) {
      checks.push(
        pairedCheck(`${label}: Ferret ≈ FedAvg (within ±5 Rouge-L points)`, ferret, fedavg, {
          hypothesis: { kind: "within", margin: 5 },
          names: ["Ferret", "FedAvg"],
          digits: 2,
        }),
      );
    }
    for (const zo of (["fedzo", "fedkseed"] as const).filter(has)) {
      const other = stat(zo);
      if (!other) continue;
      checks.push(
        pairedCheck(`${label}: Ferret above ${METHOD_LABELS[zo]}`, ferret, other, {
          hypothesis: { kind: "greater" },
          names: ["Ferret", METHOD_LABELS[zo]],
          digits: 2,
        }),
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
    statement: `Final-round Rouge-L (%) of ${spec.methods.length} algorithms on ` +
      `${[...new Set(spec.columns.map((c) => DATASET_LABELS[c.dataset]))].join(" and ")} with ` +
      `${
        [...new Set(spec.columns.map((c) => MODEL_LABELS[c.model]))].join(" and ")
      }, mean ± sample std over seeds.`,
    notes: [...spec.notes, standInNote(spec.columns)],
    scales: federatedScales((scale) => params(spec, scale)),
    requires: { paper: ["data", "models"] },
    rowHeader: "Algorithm",
    rows: () =>
      spec.methods.map((m) => ({ key: m, label: METHOD_LABELS[m], group: METHOD_GROUPS[m] })),
    columns: spec.columns.map((c) => ({
      key: columnKey(c),
      label: MODEL_LABELS[c.model],
      group: DATASET_LABELS[c.dataset],
      digits: 2,
      better: "higher" as const,
    })),
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
    cells: ({ settings }, seeds) =>
      spec.methods.flatMap((method) =>
        spec.columns.flatMap((column) =>
          seeds.map((seed) => rougeCell(settings[`${method}|${columnKey(column)}`]!, method, seed))
        )
      ),
    verify: (table) => accuracyChecks(table, spec),
  });
}
