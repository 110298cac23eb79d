/**
 * CSV writer: wide, numbers only, one line per row (tables) or point
 * (figures), byte-stable for the same results.
 *
 * @module
 */

import type { ExperimentRun } from "./runner.ts";

function quote(field: string): string {
  return /[",\n]/.test(field) ? `"${field.replaceAll('"', '""')}"` : field;
}

function number(value: number | undefined): string {
  if (value === undefined || Number.isNaN(value)) return "";
  // Full precision, shortest round-trip form: the CSV is data, not a display.
  return String(value);
}

/**
 * The run as CSV. Tables: `row,label,<column>,<column>_std,…`; figures:
 * `panel,series,x,y,std`.
 *
 * @example
 * ```ts
 * import { toCsv } from "./csv.ts";
 * import { runExperiment } from "./runner.ts";
 * import { table7 } from "../../experiments/table7.ts";
 * const run = await runExperiment(table7, { scale: "smoke" });
 * console.log(toCsv(run).split("\n")[0]); // row,label,text,text_std
 * ```
 */
export function toCsv(run: ExperimentRun): string {
  const lines: string[] = [];
  if (run.table) {
    const { rows, columns, stats } = run.table;
    lines.push(["row", "label", ...columns.flatMap((c) => [c.key, `${c.key}_std`])].join(","));
    for (const row of rows) {
      const cells = columns.flatMap((c) => {
        const stat = stats[row.key]?.[c.key];
        return [number(stat?.mean), number(stat?.std)];
      });
      lines.push([quote(row.key), quote(row.label), ...cells].join(","));
    }
  } else {
    lines.push("panel,series,x,y,std");
    for (const p of run.points ?? []) {
      const x = typeof p.x === "number" ? number(p.x) : quote(p.x);
      lines.push([quote(p.panel), quote(p.series), x, number(p.y), number(p.std)].join(","));
    }
  }
  return lines.join("\n") + "\n";
}
