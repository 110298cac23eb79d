/**
 * Tables 7 and 8 print the prompt templates; these tables are rendered from
 * the templates the data pipeline actually uses (src/data/templates.ts), so
 * a change there shows up here and in the check against the printed text.
 *
 * @module
 */

import { defineTable, type TableSpec } from "../src/experiment/define.ts";
import { type TemplateId, TEMPLATES } from "../src/data/templates.ts";

/** A template variant as the paper prints templates: one line after the preamble, fields as `{ }`. */
export function printed(template: TemplateId, variant: "withInput" | "withoutInput"): string {
  const text = TEMPLATES[template][variant] ?? TEMPLATES[template].withInput;
  const [preamble, ...rest] = text.split("\n\n");
  const body = rest.join("  ").replace(/\n/g, " ").replace(/\{(instruction|input)\}/g, "{ }");
  return `${preamble}\n\n${body}`;
}

/** One row: a label and the template variant it shows. */
export interface TemplateRow {
  readonly key: string;
  readonly label: string;
  readonly template: TemplateId;
  readonly variant: "withInput" | "withoutInput";
  /** The paper's printed text, where it prints this variant. */
  readonly paper?: string;
}

/**
 * Declares a template table: one categorical column showing each row's text.
 *
 * @example
 * ```ts
 * import { templateTable } from "./_templates.ts";
 * const t = templateTable({ id: "t", title: "T", caption: "c", source: "s", notes: [],
 *   rows: [{ key: "ni", label: "NI", template: "ni", variant: "withInput" }] });
 * console.log(t.columns[0]!.labels!.length); // 1
 * ```
 */
export function templateTable(spec: {
  id: string;
  title: string;
  caption: string;
  source: string;
  notes: readonly string[];
  rows: readonly TemplateRow[];
}): TableSpec<Record<string, never>> {
  const texts = spec.rows.map((r) => printed(r.template, r.variant));
  const cellText = (text: string) => text.replace(/\n/g, "<br>");
  return defineTable<Record<string, never>>({
    id: spec.id,
    title: spec.title,
    caption: spec.caption,
    source: spec.source,
    notes: [
      ...spec.notes,
      "Rendered from src/data/templates.ts, the templates the data pipeline uses; " +
      "the column's value is the row's index into the rendered texts.",
    ],
    scales: Object.fromEntries(
      (["smoke", "default", "paper"] as const).map((s) => [s, { params: {}, seeds: [0] }]),
    ),
    rows: () => spec.rows.map((r) => ({ key: r.key, label: r.label })),
    columns: [{ key: "text", label: "Template", digits: 0, labels: texts.map(cellText) }],
    paper: Object.fromEntries(
      spec.rows.filter((r) => r.paper).map((r) => [r.key, { text: cellText(r.paper!) }]),
    ),
    cells: (_params, seeds) =>
      spec.rows.flatMap((r, i) =>
        seeds.map((seed) => ({
          key: `${spec.id}/${r.key}/${texts[i]}`,
          row: r.key,
          seed,
          run: () => Promise.resolve({ text: i }),
        }))
      ),
    verify: () =>
      spec.rows.filter((r) => r.paper).map((r) => {
        const ours = texts[spec.rows.indexOf(r)]!;
        return {
          claim: `${r.label}: the template in use prints as the paper's`,
          holds: ours === r.paper,
          detail: ours === r.paper ? "identical" : `ours: ${JSON.stringify(ours)}`,
        };
      }),
  });
}
