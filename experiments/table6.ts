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
    "Each figure is one round of Table 2's NI run with the clients trained one at a time, as a " +
    "client of the paper trains: elsewhere the simulator trains a round's sampled clients as " +
    "one batch of models, which is faster and holds every client's model at once. " +
    "One round reaches a run's peak (every round allocates alike and the final evaluation " +
    "follows it) up to a few bytes of scratch buffers that grow as needed.",
    "Below paper scale the models are the stand-ins of the two LLMs (experiments/_models.ts).",
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
          // One round holds a run's peak (every round allocates alike, the final evaluation
          // follows it); one client per call is what a client of the paper needs.
          const measured = { ...setting, rounds: 1 };
          return {
            key: `memory/${runKey(measured)}/clients-per-call=1/seed=${seed}`,
            row: method,
            seed,
            run: async (context: Parameters<typeof runFederated>[0]) => ({
              [model]: (await runFederated(context, measured, { clientBatch: 1 })).peakBytes / 1e6,
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
