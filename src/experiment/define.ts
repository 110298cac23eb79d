/**
 * Declarations of tables and figures (DESIGN.md §7).
 *
 * An experiment is a declaration: its id, caption, layout (rows and columns
 * with column groups, or figure panels), the paper's printed values, scale
 * presets, and a function that turns a preset into **cells**. A cell is one
 * unit of cached work for one row and seed; its `key` names everything its
 * result depends on, so an interrupted run resumes where it stopped and
 * experiments that need the same run share it.
 *
 * @module
 */

import type { CheckpointStore } from "../fl/run_checkpoint.ts";
import type { Gpu } from "../gpu/gpu.ts";

/** How large a run is: seconds for CI, minutes on a CPU, or the paper's real setting. */
export type Scale = "smoke" | "default" | "paper";

/**
 * Every scale, smallest first.
 *
 * @example
 * ```ts
 * import { SCALES } from "./define.ts";
 * console.log(SCALES); // ["smoke", "default", "paper"]
 * ```
 */
export const SCALES: readonly Scale[] = ["smoke", "default", "paper"];

/** A table column: one metric, possibly under a column group. */
export interface Column {
  /** Key of the value in each cell result. */
  readonly key: string;
  /** Header text. */
  readonly label: string;
  /** Column group, e.g. `Natural Instructions` (rendered above the label). */
  readonly group?: string;
  /** Digits after the decimal point; `"sci"` for scientific notation with 2 digits. */
  readonly digits: number | "sci";
  /** Which direction is better: marks best (bold) and second best (underlined). */
  readonly better?: "higher" | "lower";
  /**
   * For categorical columns: the value is an index into these labels (the
   * CSV keeps the number, the Markdown shows the label).
   */
  readonly labels?: readonly string[];
}

/** A table row. */
export interface Row {
  /** Key the cells refer to. */
  readonly key: string;
  /** Row label, e.g. an algorithm's name. */
  readonly label: string;
  /** Printed row group (the paper separates PEFT and full-parameter methods). */
  readonly group?: string;
}

/** A value a cell returns for one column or series. */
export type CellValue = number | readonly number[];

/** What one cell run returns: values by column key (tables) or by name (figures). */
export type CellResult = Readonly<Record<string, CellValue>>;

/** Progress a cell reports while it runs (shown on the live progress line). */
export interface Progress {
  /** Current round (federated runs). */
  round?: number;
  /** Total rounds. */
  rounds?: number;
  /** Latest loss. */
  loss?: number;
  /** Fraction of the cell done, 0–1, where rounds do not apply. */
  fraction?: number;
}

/** Folders of real data and checkpoints, for the `paper` scale. */
export interface Resources {
  /** Where the datasets are (Natural Instructions, Dolly-15K, CodeAlpaca, GSM8K). */
  readonly dataDir?: string;
  /** Where the model checkpoints are (one HF directory per model). */
  readonly modelDir?: string;
  /** Where the committed pre-trained stand-ins are (this repository's `stand-ins/`). */
  readonly standInDir?: string;
}

/** What an experiment needs at a scale beyond the toolkit itself. */
export type Requirement = "data" | "models";

/** How a cell asks for an artifact (see {@linkcode CellContext.artifact}). */
export interface ArtifactOptions {
  /** Made afresh once per experiment under `--force` (results, not inputs). */
  readonly refresh?: boolean;
  /** One unit of a sharded reproduction's work: made only by the shard that owns its name. */
  readonly shardable?: boolean;
  /** Stand-in bytes while a shardable artifact of another shard is missing. */
  readonly placeholder?: () => Uint8Array;
  /** What a planner may know about the work (e.g. a federated run's setting), as plain data. */
  readonly plan?: unknown;
  /**
   * Its bytes hold wall-clock seconds: one made beside other jobs
   * (`RunOptions.jobs`) is made again when a `timed` experiment asks for it.
   */
  readonly timed?: boolean;
}

/** What a running cell can use. */
export interface CellContext {
  /** The scale being run. */
  readonly scale: Scale;
  /** The cell's seed. */
  readonly seed: number;
  /** The shared GPU context (created on first use). */
  gpu(): Promise<Gpu>;
  /** Reports progress for the live progress line. */
  progress(update: Progress): void;
  /** Real data and checkpoint folders given on the command line. */
  readonly resources: Resources;
  /**
   * A named artifact shared by runs (e.g. a pre-trained base checkpoint):
   * read from the artifact store, or made by `make` and stored first. With
   * `refresh`, a run under `--force` makes it afresh (once per experiment):
   * for results such as federated runs, not for inputs such as base models.
   * A `shardable` artifact (a federated run) is made by one shard of a
   * sharded reproduction only (see `RunOptions.shard`); the others get its
   * `placeholder` while it is missing, and their cell is left unfinished.
   */
  artifact(
    name: string,
    make: () => Promise<Uint8Array>,
    options?: ArtifactOptions,
  ): Promise<Uint8Array>;
  /**
   * Where long work called `name` keeps its latest checkpoint (in the
   * artifact store, under `checkpoints/`), so an interrupted cell resumes
   * mid-way; `clear` removes it once the work is stored.
   */
  checkpoint(name: string): CheckpointStore & { clear(): Promise<void> };
}

/** One unit of cached work. */
export interface Cell {
  /**
   * Cache identity: everything the result depends on (algorithm, data,
   * model, hyper-parameters, seed), as a stable string. Equal keys share
   * one cached result across experiments.
   */
  readonly key: string;
  /** The row (tables) or series (figures) the result belongs to. */
  readonly row: string;
  /** The seed the run uses. */
  readonly seed: number;
  /** Runs the cell. */
  run(context: CellContext): Promise<CellResult>;
}

/** A scale's parameters and seeds. */
export interface ScalePreset<P> {
  /** Parameters handed to `cells` (recorded in the manifest). */
  readonly params: P;
  /** Seeds to run every row with. */
  readonly seeds: readonly number[];
}

/** A number as the paper prints it: a value, or mean ± std. */
export type PaperValue = number | { readonly mean: number; readonly std?: number } | string;

/** A statement an experiment checks and whether this run supports it. */
export interface Check {
  /** The statement, e.g. "measured error within 5% of the exact law". */
  readonly claim: string;
  /** Whether it holds in this run. */
  readonly holds: boolean;
  /**
   * A claim decided by a confidence interval over seeds (src/experiment/stats.ts):
   * *holds*, *not significant* or *contradicted*. Absent: `holds` is the verdict.
   */
  readonly verdict?: "holds" | "not significant" | "contradicted";
  /**
   * A claim about measured seconds: reported like any other, but machines
   * (and their neighbours) vary, so tests never assert it.
   */
  readonly timed?: true;
  /** Numbers behind the verdict. */
  readonly detail: string;
}

/** What tables and figures declare alike. */
export interface ExperimentCommon<P> {
  /** Identifier used on the command line: `table3`, `figure6`, `theorem2`. */
  readonly id: string;
  /** Short title, e.g. "Table 3". */
  readonly title: string;
  /** The paper's caption (or, for checks the paper has no table for, what is shown). */
  readonly caption: string;
  /** Where the paper digest describes it, e.g. `paper.md §3 Table 3`. */
  readonly source: string;
  /** The statement the experiment checks, for theorem-style experiments. */
  readonly statement?: string;
  /** Presets per scale; a missing scale is refused with a clear message. */
  readonly scales: Readonly<Partial<Record<Scale, ScalePreset<P>>>>;
  /** Remarks printed with the output (the paper's inconsistencies, deviations). */
  readonly notes?: readonly string[];
  /** What each scale needs besides the toolkit (`--data-dir`, `--model-dir`). */
  readonly requires?: Readonly<Partial<Record<Scale, readonly Requirement[]>>>;
  /**
   * It reports wall-clock seconds: it runs alone (`deno task reproduce
   * --jobs` runs it before starting the jobs), and never takes a cell or a
   * timed artifact made beside other jobs from the cache.
   */
  readonly timed?: boolean;
  /** The cells to run for a preset. */
  cells(params: P, seeds: readonly number[], scale: Scale): Cell[];
}

/** A table declaration. */
export interface TableSpec<P = unknown> extends ExperimentCommon<P> {
  /** Discriminant. */
  readonly kind: "table";
  /** Rows, in the paper's order. */
  rows(params: P): readonly Row[];
  /** Columns, in the paper's order. */
  readonly columns: readonly Column[];
  /** Header of the row-label column, e.g. `Algorithm`. */
  readonly rowHeader?: string;
  /** The paper's printed values: row key → column key → value. */
  readonly paper?: Readonly<Record<string, Readonly<Record<string, PaperValue>>>>;
  /** Statements to check on the aggregated result. */
  verify?(table: TableData, params: P): Check[];
}

/** An axis of a figure panel. */
export interface Axis {
  /** Axis title. */
  readonly title: string;
  /** Scale type. */
  readonly scale?: "linear" | "log";
}

/** One panel of a figure. */
export interface Panel {
  /** Key the points refer to. */
  readonly key: string;
  /** Panel title, e.g. "(a) Convergence". */
  readonly title: string;
  /** Mark type. */
  readonly mark: "line" | "bar" | "point";
  /** Horizontal axis. */
  readonly x: Axis;
  /** Vertical axis. */
  readonly y: Axis;
}

/** One plotted point. */
export interface Point {
  /** Panel key. */
  readonly panel: string;
  /** Series (legend entry). */
  readonly series: string;
  /** Horizontal value (a category for bar panels). */
  readonly x: number | string;
  /** Vertical value (mean over seeds). */
  readonly y: number;
  /** Standard deviation over seeds, when there are several. */
  readonly std?: number;
  /** The per-seed values behind `y`, when it is a mean over seeds (paired checks use them). */
  readonly values?: readonly number[];
  /** The seed of each of `values`. */
  readonly seeds?: readonly number[];
}

/** A figure declaration. */
export interface FigureSpec<P = unknown> extends ExperimentCommon<P> {
  /** Discriminant. */
  readonly kind: "figure";
  /** Panels, in the paper's order. */
  readonly panels: readonly Panel[];
  /** Turns the finished cells into points (means over seeds where relevant). */
  points(outcomes: readonly CellOutcome[], params: P): Point[];
  /** The paper's values where it prints them (bar labels, etc.). */
  readonly paper?: readonly Point[];
  /** Digits for the Markdown listing of x and y values. */
  readonly digits?: { readonly x?: number | "sci"; readonly y?: number | "sci" };
  /** Which points the Markdown lists (all by default): e.g. the d values the paper prints. */
  listed?(point: Point): boolean;
  /** Statements to check on the points. */
  verify?(points: readonly Point[], params: P): Check[];
}

/** Any experiment. */
export type Experiment<P = unknown> = TableSpec<P> | FigureSpec<P>;

/** A finished cell. */
export interface CellOutcome {
  /** The cell's key. */
  readonly key: string;
  /** Its row or series. */
  readonly row: string;
  /** Its seed. */
  readonly seed: number;
  /** What it returned. */
  readonly result: CellResult;
  /** Seconds it took when it ran (0 when the result came from the cache and none was recorded). */
  readonly seconds: number;
  /** Whether the result came from the cache. */
  readonly cached: boolean;
  /** Processes that computed cells side by side when it ran (absent: 1). */
  readonly jobs?: number;
}

/** Mean ± std of one table cell over seeds (std is the sample standard deviation). */
export interface Stat {
  /** Mean over seeds. */
  readonly mean: number;
  /** Sample standard deviation over seeds (NaN for one seed). */
  readonly std: number;
  /** The per-seed values. */
  readonly values: readonly number[];
  /** The seed of each value (paired comparisons match them). */
  readonly seeds: readonly number[];
}

/** An aggregated table: row key → column key → statistic. */
export interface TableData {
  /** Rows, in order. */
  readonly rows: readonly Row[];
  /** Columns, in order. */
  readonly columns: readonly Column[];
  /** Statistics by row key and column key (missing where a row has no value). */
  readonly stats: Readonly<Record<string, Readonly<Record<string, Stat>>>>;
}

const ID_PATTERN = /^[a-z][a-z0-9_]*$/;

function validateCommon<P>(spec: ExperimentCommon<P>): void {
  if (!ID_PATTERN.test(spec.id)) {
    throw new TypeError(`Cannot define experiment "${spec.id}": ids are lower-case [a-z0-9_]`);
  }
  const scales = Object.keys(spec.scales);
  if (scales.length === 0) {
    throw new TypeError(`Cannot define experiment "${spec.id}": it has no scale preset`);
  }
  for (const [scale, preset] of Object.entries(spec.scales)) {
    if (!preset || preset.seeds.length === 0) {
      throw new TypeError(`Cannot define experiment "${spec.id}": scale ${scale} has no seeds`);
    }
  }
}

/**
 * Declares a table.
 *
 * @example
 * ```ts
 * import { defineTable } from "./define.ts";
 * const squares = defineTable({
 *   id: "squares",
 *   title: "Squares",
 *   caption: "n² for a few n.",
 *   source: "example",
 *   scales: { smoke: { params: { ns: [1, 2] }, seeds: [0] } },
 *   rows: ({ ns }) => ns.map((n) => ({ key: `${n}`, label: `n = ${n}` })),
 *   columns: [{ key: "square", label: "n²", digits: 0 }],
 *   cells: ({ ns }, seeds) =>
 *     ns.flatMap((n) =>
 *       seeds.map((seed) => ({
 *         key: `square/${n}`,
 *         row: `${n}`,
 *         seed,
 *         run: () => Promise.resolve({ square: n * n }),
 *       }))
 *     ),
 * });
 * console.log(squares.kind); // "table"
 * ```
 */
export function defineTable<P>(spec: Omit<TableSpec<P>, "kind">): TableSpec<P> {
  validateCommon(spec);
  const keys = new Set<string>();
  for (const column of spec.columns) {
    if (keys.has(column.key)) {
      throw new TypeError(`Cannot define table "${spec.id}": column "${column.key}" twice`);
    }
    keys.add(column.key);
  }
  return { kind: "table", ...spec };
}

/**
 * Declares a figure.
 *
 * @example
 * ```ts
 * import { defineFigure } from "./define.ts";
 * const line = defineFigure({
 *   id: "line",
 *   title: "A line",
 *   caption: "y = 2x.",
 *   source: "example",
 *   scales: { smoke: { params: {}, seeds: [0] } },
 *   panels: [{ key: "a", title: "y", mark: "line", x: { title: "x" }, y: { title: "y" } }],
 *   cells: () => [{ key: "line", row: "y", seed: 0, run: () => Promise.resolve({ y: [0, 2, 4] }) }],
 *   points: ([o]) => (o!.result.y as number[]).map((y, x) => ({ panel: "a", series: "y", x, y })),
 * });
 * console.log(line.panels.length); // 1
 * ```
 */
export function defineFigure<P>(spec: Omit<FigureSpec<P>, "kind">): FigureSpec<P> {
  validateCommon(spec);
  if (spec.panels.length === 0) {
    throw new TypeError(`Cannot define figure "${spec.id}": it has no panel`);
  }
  return { kind: "figure", ...spec };
}
