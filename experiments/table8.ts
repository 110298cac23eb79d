/**
 * Table 8: the prompt template for Dolly-15K, as printed and as the
 * official code has it (paper.md §3 Table 8, §7 item 11).
 *
 * @module
 */

import { templateTable } from "./_templates.ts";

const PRINTED =
  "Below is an instruction that describes a task, paired with an input that provides " +
  "further context. Write a response that appropriately completes the request.\n\n" +
  "### Instruction: { }  ### Input: { }  ### Response:";

/** Table 8 of the paper. */
export const table8 = templateTable({
  id: "table8",
  title: "Table 8",
  caption:
    'Prompt template for Dolly-15K. If some data instances do not have the attribute, we will discard the line "### Input: " in the template.',
  source: "paper.md §3 Table 8, §7 item 11",
  notes: [
    "The printed text is Table 7's. The official Dolly loader differs: its preamble reads 'Write a response for the task request.' and it has its own no-context preamble (paper.md §7 item 11); paper scale uses the code's variant, which is what produced the paper's numbers.",
  ],
  rows: [
    {
      key: "printed",
      label: "As printed, with context",
      template: "dolly-paper",
      variant: "withInput",
      paper: PRINTED,
    },
    {
      key: "printed-no-input",
      label: "As printed, without context",
      template: "dolly-paper",
      variant: "withoutInput",
    },
    {
      key: "code",
      label: "Official code, with context",
      template: "dolly-code",
      variant: "withInput",
    },
    {
      key: "code-no-input",
      label: "Official code, without context",
      template: "dolly-code",
      variant: "withoutInput",
    },
  ],
});
