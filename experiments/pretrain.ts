/**
 * The pre-training step behind every federated experiment below paper
 * scale: each tiny stand-in model (experiments/_models.ts) is pre-trained
 * by the toolkit on the built-in pre-training corpus (src/pretrain/pretrain.ts:
 * the suites' texts without the prompt template, from a corpus seed of its
 * own) with the suites' subword tokenizer; the federated runs fine-tune from
 * it. At default scale the stand-ins are committed (experiments/_stand_ins.ts);
 * this experiment pre-trains them afresh (cached as artifacts), reports their
 * loss, and checks that the fresh weights equal the committed ones byte for
 * byte.
 *
 * @module
 */

import { defineTable, type Scale } from "../src/experiment/define.ts";
import { parameterCount } from "../src/model/config.ts";
import { standIns } from "./_models.ts";
import {
  heldOutPretrainLoss,
  pretrainedStandIn,
  readCommittedStandIn,
  type StandIn,
  type StandInScale,
  standInStem,
} from "./_stand_ins.ts";

/** 1 when two parameter vectors are equal bit for bit, else 0. */
function sameBits(a: Float32Array, b: Float32Array): number {
  if (a.length !== b.length) return 0;
  const x = new Uint32Array(a.buffer, a.byteOffset, a.length);
  const y = new Uint32Array(b.buffer, b.byteOffset, b.length);
  return x.every((v, i) => v === y[i]) ? 1 : 0;
}

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
  timed: true,
  title: "Pre-training",
  caption: "The tiny LLaMA-style stand-ins that the federated experiments fine-tune below paper " +
    "scale, pre-trained by the toolkit (AdamW, 4 rows of 128 subword tokens per step, warm-up " +
    "then cosine decay from 3·10⁻³).",
  source: "DESIGN.md §1; paper.md §5 (the paper fine-tunes pre-trained LLMs)",
  statement: "Loss per token (nats) on the pre-training corpus at the first and last read-back, " +
    "and on 64 held-out rows of the same kind of text.",
  notes: [
    "The corpus holds the built-in suites' texts without the prompt template (src/pretrain/pretrain.ts), " +
    "so fine-tuning still has to teach the instruction format. At default scale it is 16 draws of " +
    "every suite (training and test splits, less the held-out NI-like tasks): 1.22 M tokens of " +
    "the suites' byte-level BPE tokenizer (vocabulary 1,024, " +
    "digits one by one, src/pretrain/suite_tokenizer.ts), which the toolkit trains on the same " +
    "texts and keeps as a Hugging Face tokenizer.json; 2,000 steps see 1.02 M of them. Seconds " +
    "are wall-clock on this machine.",
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
    { key: "last", label: "Final loss", digits: 3 },
    { key: "heldOut", label: "Held-out loss", digits: 3, better: "lower" },
    { key: "seconds", label: "Seconds", digits: 1 },
    { key: "committed", label: "Equals committed", digits: 0 },
  ],
  cells: ({ models }, seeds, scale: Scale) =>
    models.flatMap((model) =>
      seeds.map((seed) => ({
        key: `pretrain/${scale}/${standInStem(model, scale as StandInScale)}`,
        row: model.name,
        seed,
        run: async (context) => {
          const standInScale = scale as StandInScale;
          const fresh = await pretrainedStandIn(context, model, standInScale, { fresh: true });
          const { report } = fresh;
          const committed = await readCommittedStandIn(
            context.resources.standInDir,
            model,
            standInScale,
          );
          return {
            ...(committed ? { committed: sameBits(fresh.parameters, committed.parameters) } : {}),
            heldOut: await heldOutPretrainLoss(await context.gpu(), model, fresh, standInScale),
            parameters: report.parameters,
            steps: model.pretrainSteps,
            first: report.losses[0]![1],
            last: report.losses[report.losses.length - 1]![1],
            seconds: report.seconds,
          };
        },
      }))
    ),
  verify: (table, { models }) => {
    const vocab = models[0]!.config.vocabSize;
    const heldOut = (key: string) => table.stats[key]?.heldOut?.mean ?? NaN;
    const checks = table.rows.map((row) => {
      const first = table.stats[row.key]?.first?.mean ?? NaN;
      const last = table.stats[row.key]?.last?.mean ?? NaN;
      return {
        claim: `${row.key}: pre-training lowers the loss below ln ${vocab} = ${
          Math.log(vocab).toFixed(2)
        } (a uniform guess)`,
        holds: last < first && last < Math.log(vocab),
        detail: `${first.toFixed(3)} → ${last.toFixed(3)}`,
      };
    });
    // The paper's larger model of a pair is the better one; the stand-ins must keep that order.
    const largest = models.at(-1)!;
    for (const model of models.slice(0, -1)) {
      if (parameterCount(model.config) >= parameterCount(largest.config)) continue;
      checks.push({
        claim:
          `${largest.name} (the larger model of a pair) reaches a lower held-out loss than ${model.name}`,
        holds: heldOut(largest.name) < heldOut(model.name),
        detail: `${heldOut(largest.name).toFixed(3)} vs ${heldOut(model.name).toFixed(3)}`,
      });
    }
    for (const row of table.rows) {
      const committed = table.stats[row.key]?.committed?.mean;
      if (committed === undefined) continue;
      checks.push({
        claim: `${row.key}: pre-training afresh gives the committed weights bit for bit`,
        holds: committed === 1,
        detail: committed === 1 ? "identical" : "the weights differ (another device or driver?)",
      });
    }
    return checks;
  },
});
