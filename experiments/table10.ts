/**
 * Table 10: computation and communication on LLaMA2-13B (GSM8K)
 * (paper.md §3 Table 10, Appx. C.4).
 *
 * @module
 */

import { costTable } from "./_costs.ts";

/** Table 10 of the paper. */
export const table10 = costTable({
  id: "table10",
  title: "Table 10",
  caption:
    "Comparison of computational cost and communication overhead on LLaMA2-13B, focusing on " +
    "(a) the computational costs from local updates, global aggregation, and the overall tuning " +
    "process; and (b) the per-round and overall communication costs.",
  source: "paper.md §3 Table 10",
  dataset: "gsm8k-like",
  model: "llama-2-13b",
  paper: {
    fedzo: { local: 114.1, aggregate: 25.7, overall: 139.8, comm: 2.6e10 },
    fedkseed: { local: 188.4, aggregate: 666.2, overall: 854.6, comm: 8.2e3 },
    fedavg: { local: 24.9, aggregate: 25.7, overall: 50.6, comm: 2.6e10 },
    ferret: {
      local: 19.2,
      aggregate: 169.4,
      overall: 188.6,
      comm: 7.6e3,
      local_x: 9.8,
      aggregate_x: 3.9,
      overall_x: 4.5,
      comm_x: 1e6,
    },
  },
  notes: [
    "The paper notes FedZO and FedAvg are slowed by keeping gradients on the CPU for lack of GPU memory; this engine keeps everything on the device.",
    "The text claims a 10⁷× communication reduction here; the table gives 10⁶× (paper.md §8 item 4).",
  ],
});
