/**
 * The pre-training step behind every federated experiment below paper
 * scale: each tiny stand-in model (experiments/_models.ts) is pre-trained
 * by the toolkit on the built-in pre-training corpus (src/pretrain/pretrain.ts:
 * the suites' texts without the prompt template, from a corpus seed of its
 * own) and cached as an artifact; the federated runs fine-tune from it.
 * `deno task reproduce pretrain` makes them all up front and reports their
 * loss curves; any experiment that needs one makes it on first use.
 *
 * @module
 */

import { defineTable, type Scale } from "../src/experiment/define.ts";
import { pretrainedStandIn, type StandIn, standIns } from "./_models.ts";

interface Params {
  readonly models: readonly StandIn[];
}

const preset = (scale: "smoke" | "default") => ({
  params: { models: standIns(scale) },
  seeds: [0],
});

/** The pre-training of the stand-in models. */
export const pretrainTable = defineTable<Params>({
  id: "pretrain",
  title: "Pre-training",
  caption: "The tiny LLaMA-style stand-ins that the federated experiments fine-tune below paper " +
    "scale, pre-trained by the toolkit (AdamW, 4 rows of 128 bytes per step, warm-up then cosine " +
    "decay from 3·10⁻³).",
  source: "DESIGN.md §1; paper.md §5 (the paper fine-tunes pre-trained LLMs)",
  statement: "Loss per byte (nats) on the pre-training corpus at the first and last read-back.",
  notes: [
    "The corpus holds the built-in suites' texts without the prompt template (src/pretrain/pretrain.ts), " +
    "so fine-tuning still has to teach the instruction format. Seconds are wall-clock on this machine.",
    "At paper scale the real checkpoints are used and nothing is pre-trained.",
  ],
  scales: { smoke: preset("smoke"), default: preset("default") },
  rowHeader: "Stand-in",
  rows: ({ models }) =>
    models.map((m) => ({
      key: m.name,
      label: `${m.name} (width ${m.config.hiddenSize}, ${m.config.numLayers} layers, ` +
        `${m.config.numHeads}/${m.config.numKvHeads} query/KV heads, MLP ${m.config.intermediateSize})`,
    })),
  columns: [
    { key: "parameters", label: "Parameters", digits: 0 },
    { key: "steps", label: "Steps", digits: 0 },
    { key: "first", label: "First loss", digits: 3 },
    { key: "last", label: "Final loss", digits: 3, better: "lower" },
    { key: "seconds", label: "Seconds", digits: 1 },
  ],
  cells: ({ models }, seeds, scale: Scale) =>
    models.flatMap((model) =>
      seeds.map((seed) => ({
        key: `pretrain/${scale}/${model.name}-${model.pretrainSteps}/${
          JSON.stringify(model.config)
        }`,
        row: model.name,
        seed,
        run: async (context) => {
          const { report } = await pretrainedStandIn(context, model, scale as "smoke" | "default");
          return {
            parameters: report.parameters,
            steps: model.pretrainSteps,
            first: report.losses[0]![1],
            last: report.losses[report.losses.length - 1]![1],
            seconds: report.seconds,
          };
        },
      }))
    ),
  verify: (table) =>
    table.rows.map((row) => {
      const first = table.stats[row.key]?.first?.mean ?? NaN;
      const last = table.stats[row.key]?.last?.mean ?? NaN;
      return {
        claim: `${row.key}: pre-training lowers the loss below ln 259 = 5.56 (a uniform guess)`,
        holds: last < first && last < Math.log(259),
        detail: `${first.toFixed(3)} → ${last.toFixed(3)}`,
      };
    }),
});
