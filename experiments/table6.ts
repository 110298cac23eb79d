/**
 * Table 6: peak GPU memory of FedAvg, FedKSeed and Ferret on NI
 * (paper.md §3 Table 6), from the engine's accounting of the storage buffers
 * each run allocates (model, gradients, optimiser and algorithm state,
 * activations, KV cache).
 *
 * @module
 */

import { defineTable, type Scale } from "../src/experiment/define.ts";
import { type FederatedSetting, runFederated, runKey } from "./_federated.ts";
import { MODEL_LABELS, type PaperModel } from "./_models.ts";
import { federatedScales, federatedSetting, type Method, METHOD_LABELS } from "./_settings.ts";

const METHODS: readonly Method[] = ["fedavg", "fedkseed", "ferret"];
const MODELS: readonly PaperModel[] = ["datajuicer-1.3b", "open_llama_3b"];

interface Params {
  readonly settings: Readonly<Record<string, FederatedSetting>>;
}

const params = (scale: Scale): Params => ({
  settings: Object.fromEntries(
    METHODS.flatMap((m) =>
      MODELS.map((model) => [`${m}|${model}`, federatedSetting(scale, "ni-like", model, m)])
    ),
  ),
});

/** Table 6 of the paper. */
export const table6 = defineTable<Params>({
  id: "table6",
  title: "Table 6",
  caption: "Peak GPU memory footprint of different methods.",
  source: "paper.md §3 Table 6",
  statement: "Peak bytes of GPU storage a run allocates (MB), mean over seeds; the paper's in GB.",
  notes: [
    "Ours is the engine's own accounting of its storage buffers (Gpu.peakBytes), measured from " +
    "before the model is created; the paper's is the device's peak (fp16 weights, PyTorch allocator).",
    "Below paper scale the models are the stand-ins of the two LLMs (experiments/_models.ts) and the runs are Table 2's NI runs.",
    "FedKSeed needs no gradient buffers (two forward passes per step), which is why it needs less memory.",
  ],
  scales: federatedScales(params),
  requires: { paper: ["data", "models"] },
  rowHeader: "Method",
  rows: () => METHODS.map((m) => ({ key: m, label: METHOD_LABELS[m] })),
  columns: MODELS.map((m) => ({
    key: m,
    label: MODEL_LABELS[m],
    digits: 2,
    better: "lower" as const,
  })),
  paper: {
    fedavg: { "datajuicer-1.3b": "9.9 GB", "open_llama_3b": "19.1 GB" },
    fedkseed: { "datajuicer-1.3b": "3.5 GB", "open_llama_3b": "7.8 GB" },
    ferret: { "datajuicer-1.3b": "9.9 GB", "open_llama_3b": "19.1 GB" },
  },
  cells: ({ settings }, seeds) =>
    METHODS.flatMap((method) =>
      MODELS.flatMap((model) =>
        seeds.map((seed) => {
          const setting = settings[`${method}|${model}`]!;
          return {
            key: `memory/${runKey(setting)}/seed=${seed}`,
            row: method,
            seed,
            run: async (context: Parameters<typeof runFederated>[0]) => ({
              [model]: (await runFederated(context, setting)).peakBytes / 1e6,
            }),
          };
        })
      )
    ),
  verify: (table) => {
    const m = (row: Method, col: PaperModel) => table.stats[row]?.[col]?.mean ?? NaN;
    return MODELS.flatMap((model) => [
      {
        claim: `${MODEL_LABELS[model]}: FedKSeed needs less memory than FedAvg`,
        holds: m("fedkseed", model) < m("fedavg", model),
        detail: `${m("fedkseed", model).toFixed(2)} MB vs ${m("fedavg", model).toFixed(2)} MB`,
      },
      {
        claim: `${MODEL_LABELS[model]}: Ferret's memory ≈ FedAvg's (within 25%)`,
        holds: Math.abs(m("ferret", model) / m("fedavg", model) - 1) <= 0.25,
        detail: `${m("ferret", model).toFixed(2)} MB vs ${m("fedavg", model).toFixed(2)} MB`,
      },
    ]);
  },
});
