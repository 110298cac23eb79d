/**
 * Table 7: the prompt template for Natural Instructions (paper.md §3 Table 7).
 *
 * @module
 */

import { templateTable } from "./_templates.ts";

const PRINTED =
  "Below is an instruction that describes a task, paired with an input that provides " +
  "further context. Write a response that appropriately completes the request.\n\n" +
  "### Instruction: { }  ### Input: { }  ### Response:";

/** Table 7 of the paper. */
export const table7 = templateTable({
  id: "table7",
  title: "Table 7",
  caption: "Prompt template for Natural Instructions.",
  source: "paper.md §3 Table 7, §7 item 11",
  notes: ["The official NI loader uses the same template (paper.md §7 item 11)."],
  rows: [{
    key: "ni",
    label: "Natural Instructions",
    template: "ni",
    variant: "withInput",
    paper: PRINTED,
  }],
});
