/**
 * Markdown writer: the paper's layout with this run's numbers beside the
 * paper's, mean ± std, best bold and second best underlined, then the
 * checked statements and the notes (the paper's own inconsistencies).
 *
 * Nothing time-dependent goes into the Markdown, so re-running with the same
 * cells gives the same bytes.
 *
 * @module
 */

import type { Check, Column, Point, TableData, TableSpec } from "./define.ts";
import { formatNumber, formatPaper, formatStat, seedsText } from "./format.ts";
import type { ExperimentRun } from "./runner.ts";
import { ranking } from "./stats.ts";

function escape(text: string): string {
  return text.replaceAll("|", "\\|");
}

function header(run: ExperimentRun): string[] {
  const e = run.experiment;
  const lines = [`# ${e.title} — ${e.caption}`, ""];
  if (e.statement) lines.push(`**Measured:** ${e.statement}`, "");
  const seeds = seedsText(run.seeds, run.outcomes.map((o) => o.seed));
  lines.push(
    `Scale \`${run.scale}\`, seeds ${seeds}. Reproduce with ` +
      `\`deno task reproduce ${e.id} --scale ${run.scale}\`. Source: ${e.source}.`,
    "",
  );
  return lines;
}

function columnTitle(column: Column): string {
  return column.group ? `${column.group} · ${column.label}` : column.label;
}

function tableBody(spec: TableSpec, table: TableData): string[] {
  const hasPaper = spec.paper !== undefined;
  const marks = new Map(table.columns.map((c) => [c.key, ranking(table, c)]));
  const lines = [
    `| ${escape(spec.rowHeader ?? "Row")} | ${
      table.columns.map((c) => escape(columnTitle(c))).join(" | ")
    } |`,
    `|:--|${table.columns.map(() => "--:").join("|")}|`,
  ];
  let group: string | undefined;
  for (const row of table.rows) {
    if (row.group && row.group !== group) {
      lines.push(`| *${escape(row.group)}* |${table.columns.map(() => " ").join("|")}|`);
    }
    group = row.group;
    const cells = table.columns.map((column) => {
      const stat = table.stats[row.key]?.[column.key];
      let text = stat ? formatStat(stat, column) : "—";
      const mark = marks.get(column.key);
      if (stat && mark?.best === row.key) text = `**${text}**`;
      else if (stat && mark?.second === row.key) text = `<u>${text}</u>`;
      const paper = spec.paper?.[row.key]?.[column.key];
      if (hasPaper) text += ` (paper ${paper === undefined ? "—" : formatPaper(paper, column)})`;
      return escape(text);
    });
    lines.push(`| ${escape(row.label)} | ${cells.join(" | ")} |`);
  }
  lines.push("");
  if (hasPaper) {
    lines.push(
      "Each cell: this run (mean ± sample std over seeds; **bold** best, <u>underlined</u> second " +
        "best of this run) and, in brackets, the paper's printed value.",
      "",
    );
  }
  return lines;
}

function samePoint(a: Point, b: Point): boolean {
  return a.panel === b.panel && a.series === b.series && a.x === b.x;
}

function figureBody(run: ExperimentRun): string[] {
  const spec = run.experiment;
  if (spec.kind !== "figure") return [];
  const xDigits = spec.digits?.x ?? 4;
  const yDigits = spec.digits?.y ?? 4;
  const fmt = (v: number | string, d: number | "sci") =>
    typeof v === "string" ? v : formatNumber(v, d);
  const listed = (run.points ?? []).filter((p) => spec.listed?.(p) ?? true);
  const hasPaper = (spec.paper ?? []).length > 0;
  const panelTitle = new Map(spec.panels.map((p) => [p.key, p.title]));
  const lines = [`![${spec.title}](${spec.id}.svg)`, ""];
  lines.push(
    `| Panel | Series | x | y |${hasPaper ? " Paper |" : ""}`,
    `|:--|:--|--:|--:|${hasPaper ? "--:|" : ""}`,
  );
  for (const p of listed) {
    const y = p.std !== undefined && p.std > 0
      ? `${fmt(p.y, yDigits)} ± ${fmt(p.std, yDigits)}`
      : fmt(p.y, yDigits);
    const paper = spec.paper?.find((q) => samePoint(p, q));
    const paperCell = hasPaper ? ` ${paper ? fmt(paper.y, yDigits) : "—"} |` : "";
    lines.push(
      `| ${escape(panelTitle.get(p.panel) ?? p.panel)} | ${escape(p.series)} | ` +
        `${fmt(p.x, xDigits)} | ${y} |${paperCell}`,
    );
  }
  lines.push("");
  return lines;
}

/**
 * The run as Markdown in the paper's layout.
 *
 * @example
 * ```ts
 * import { toMarkdown } from "./markdown.ts";
 * import { runExperiment } from "./runner.ts";
 * import { table7 } from "../../experiments/table7.ts";
 * const run = await runExperiment(table7, { scale: "smoke" });
 * console.log(toMarkdown(run).split("\n")[0]); // # Table 7 — Prompt template for Natural Instructions.
 * ```
 */
export function toMarkdown(run: ExperimentRun): string {
  const spec = run.experiment;
  const lines = header(run);
  if (spec.kind === "table" && run.table) lines.push(...tableBody(spec, run.table));
  else lines.push(...figureBody(run));
  if (run.checks.length > 0) {
    lines.push("## Checks", "");
    for (const check of run.checks) {
      lines.push(
        `- ${verdictLabel(check)}: ${check.claim} — ${check.detail}`,
      );
    }
    lines.push("");
  }
  if (spec.notes && spec.notes.length > 0) {
    lines.push("## Notes", "");
    for (const note of spec.notes) lines.push(`- ${note}`);
    lines.push("");
  }
  return lines.join("\n");
}

/** How a check's verdict is printed. */
function verdictLabel(check: Check): string {
  switch (check.verdict) {
    case "holds":
      return "✅ holds";
    case "not significant":
      return "➖ not significant";
    case "contradicted":
      return "❌ contradicted";
    default:
      return check.holds ? "✅ holds" : "❌ does not hold";
  }
}
