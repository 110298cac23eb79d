/**
 * Table 9: Rouge-L on CodeAlpaca and GSM8K with LLaMA3-8B and Qwen2.5-7B
 * (paper.md §3 Table 9, Appx. C.3).
 *
 * @module
 */

import { accuracyTable } from "./_accuracy.ts";

/** Table 9 of the paper. */
export const table9 = accuracyTable({
  id: "table9",
  title: "Table 9",
  caption:
    "More comparison of Rouge-L (%) among various algorithms on LLaMA3-8B and Qwen2.5-7B models.",
  source: "paper.md §3 Table 9, §5.2",
  methods: ["fedzo", "fedkseed", "fedavg", "ferret"],
  columns: [
    { dataset: "code-alpaca-like", model: "llama-3-8b" },
    { dataset: "code-alpaca-like", model: "qwen2.5-7b" },
    { dataset: "gsm8k-like", model: "llama-3-8b" },
    { dataset: "gsm8k-like", model: "qwen2.5-7b" },
  ],
  paper: {
    fedzo: [[16.66, 0.50], [9.14, 0.32], [7.79, 1.36], [23.84, 1.19]],
    fedkseed: [[5.73, 1.26], [9.14, 0.32], [7.79, 1.36], [23.84, 1.19]],
    fedavg: [[19.88, 0.67], [17.47, 0.49], [45.48, 0.51], [43.86, 0.36]],
    ferret: [[19.59, 0.66], [14.64, 0.74], [45.07, 0.78], [38.28, 1.70]],
  },
  notes: [
    "[as printed] The FedZO and FedKSeed rows are identical in three of the four columns: almost certainly a copy error in the paper (paper.md §8 item 6).",
    "The paper gives no hyper-parameters or checkpoint ids for these two models and no FedIT row; at paper scale the LLaMA2-7B settings of Table 3 are used, with checkpoints in <model-dir>/Meta-Llama-3-8B and <model-dir>/Qwen2.5-7B.",
    "Qwen2.5's attention projections carry q/k/v biases; the engine models them (ModelConfig.attentionBias, read from the checkpoint's config.json model_type qwen2).",
  ],
});
