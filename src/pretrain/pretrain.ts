/**
 * Pre-training of the default-scale base model, so that the federated
 * experiments fine-tune a *pre-trained* model as the paper does (paper.md
 * §5), with nothing downloaded.
 *
 * The corpus is plain text — instructions, inputs and answers of the four
 * built-in suites, training and test splits alike (every kind of text the
 * suites have, as a real model's pre-training has seen text of every kind),
 * generated from seeds of their own (so no fine-tuning or evaluation
 * example is in it) and **without** the prompt template — packed into
 * fixed-length rows for next-token prediction on every token. The base
 * model thus learns the language of the domain but not the
 * instruction-following format, which federated fine-tuning then teaches.
 * Labels can be left out (`exclude`): the NI-like tasks that fine-tuning
 * holds out, whose claim is generalisation to tasks never seen.
 *
 * @module
 */

import { builtinSuite, SUITE_NAMES } from "../data/suites/builtin.ts";
import type { SuiteScale } from "../data/suites/sizes.ts";
import { adamStep, createAdamState } from "../optim/adam.ts";
import { RandomStream } from "../random/stream.ts";
import type { Tokenizer } from "../model/tokenizer.ts";
import type { Sequence, Transformer } from "../model/transformer.ts";

/**
 * The seed of the pre-training corpus (fine-tuning suites use the run seeds 0, 1, …).
 *
 * @example
 * ```ts
 * import { PRETRAIN_CORPUS_SEED } from "./pretrain.ts";
 * console.log(PRETRAIN_CORPUS_SEED); // 1000003
 * ```
 */
export const PRETRAIN_CORPUS_SEED = 1_000_003;

/** Which texts the corpus draws: the suites at a scale, drawn `draws` times. */
export interface CorpusTextOptions {
  /** Suite sizes to draw the text from. */
  readonly scale: SuiteScale;
  /** Corpus seed of the first draw (default {@linkcode PRETRAIN_CORPUS_SEED}); draw i uses seed + i. */
  readonly seed?: number;
  /** Independent draws of every suite (default 1): how a corpus grows past one suite's size. */
  readonly draws?: number;
  /** Example labels (NI-like task names) left out: the tasks fine-tuning holds out. */
  readonly exclude?: ReadonlySet<string>;
}

/** Options of {@linkcode pretrainCorpus}. */
export interface CorpusOptions extends CorpusTextOptions {
  /** Tokens per row. */
  readonly rowTokens: number;
}

/**
 * The corpus as plain texts: every suite's examples, training and test
 * (instruction, input and answer on lines of their own, no template), from
 * `draws` independent draws, less the `exclude`d labels, shuffled by example.
 *
 * @example
 * ```ts
 * import { pretrainTexts } from "./pretrain.ts";
 * const one = pretrainTexts({ scale: "smoke" });
 * console.log(pretrainTexts({ scale: "smoke", draws: 2 }).length === 2 * one.length); // true
 * ```
 */
export function pretrainTexts(options: CorpusTextOptions): string[] {
  const seed = options.seed ?? PRETRAIN_CORPUS_SEED;
  const draws = options.draws ?? 1;
  if (!Number.isInteger(draws) || draws < 1) {
    throw new RangeError(
      `Cannot draw the pre-training corpus ${draws} times: use a whole number ≥ 1`,
    );
  }
  const texts: string[] = [];
  for (let draw = 0; draw < draws; draw++) {
    for (const name of SUITE_NAMES) {
      const suite = builtinSuite(name, options.scale, seed + draw);
      for (const example of [...suite.clients.flat(), ...suite.test]) {
        if (options.exclude?.has(example.label)) continue;
        texts.push(
          [example.instruction, example.input, example.output].filter((t) => t).join("\n"),
        );
      }
    }
  }
  return new RandomStream(seed, "pretrain/order").shuffle(texts);
}

/**
 * The pre-training rows: the corpus texts ({@linkcode pretrainTexts}) as one
 * token stream (BOS text EOS, …) cut into rows of `rowTokens`.
 *
 * @example
 * ```ts
 * import { pretrainCorpus } from "./pretrain.ts";
 * import { ByteTokenizer } from "../model/tokenizer.ts";
 * const rows = pretrainCorpus(new ByteTokenizer(), { scale: "smoke", rowTokens: 64 });
 * console.log(rows[0]!.tokens.length, rows[0]!.targets[0] === rows[0]!.tokens[1]); // 64 true
 * ```
 */
export function pretrainCorpus(tokenizer: Tokenizer, options: CorpusOptions): Sequence[] {
  const { rowTokens } = options;
  if (!Number.isInteger(rowTokens) || rowTokens < 2) {
    throw new RangeError(`Cannot build a corpus of ${rowTokens}-token rows`);
  }
  const stream: number[] = [];
  for (const text of pretrainTexts(options)) {
    stream.push(tokenizer.bos, ...tokenizer.encode(text), tokenizer.eos);
  }
  const rows: Sequence[] = [];
  for (let start = 0; start + rowTokens + 1 <= stream.length; start += rowTokens) {
    rows.push({
      tokens: Int32Array.from(stream.slice(start, start + rowTokens)),
      targets: Int32Array.from(stream.slice(start + 1, start + rowTokens + 1)),
    });
  }
  return rows;
}

/** Options of {@linkcode pretrain}. */
export interface PretrainOptions {
  /** Optimiser steps. */
  readonly steps: number;
  /** Rows per step (gradient accumulation). */
  readonly rowsPerStep: number;
  /** Peak learning rate of AdamW (linear warm-up over 5% of the steps, then cosine to 10%). */
  readonly lr: number;
  /** Seed of the row order. */
  readonly seed: number;
  /** Called after every step with the step's mean loss (read back every `reportEvery` steps). */
  readonly onStep?: (step: number, loss: number) => void;
  /** Steps between loss readbacks (each costs a GPU round trip). Default 10. */
  readonly reportEvery?: number;
}

/**
 * The learning rate at `step` of `steps`: linear warm-up, then cosine decay to 10%.
 *
 * @example
 * ```ts
 * import { pretrainSchedule } from "./pretrain.ts";
 * console.log(pretrainSchedule(0, 100, 1), pretrainSchedule(100, 100, 1)); // 0.2 0.1
 * ```
 */
export function pretrainSchedule(step: number, steps: number, peak: number): number {
  const warmup = Math.max(1, Math.round(0.05 * steps));
  if (step < warmup) return (peak * (step + 1)) / warmup;
  const progress = (step - warmup) / Math.max(1, steps - warmup);
  return peak * (0.1 + 0.45 * (1 + Math.cos(Math.PI * progress)));
}

/**
 * Pre-trains `model` (all parameters, AdamW) on `rows`; returns the losses
 * read back along the way as [step, loss] pairs.
 *
 * @example
 * ```ts
 * import { pretrain, pretrainCorpus } from "./pretrain.ts";
 * import { Gpu } from "../gpu/gpu.ts";
 * import { PRESETS } from "../model/presets.ts";
 * import { ByteTokenizer } from "../model/tokenizer.ts";
 * import { Transformer } from "../model/transformer.ts";
 * const gpu = await Gpu.create();
 * const rows = pretrainCorpus(new ByteTokenizer(), { scale: "smoke", rowTokens: 16 });
 * const model = await Transformer.create(gpu, PRESETS.ci, { maxTokens: 16 });
 * const losses = await pretrain(model, rows, { steps: 4, rowsPerStep: 1, lr: 1e-2, seed: 0, reportEvery: 2 });
 * console.log(losses.length); // 2
 * gpu.destroy();
 * ```
 */
export async function pretrain(
  model: Transformer,
  rows: readonly Sequence[],
  options: PretrainOptions,
): Promise<[number, number][]> {
  if (rows.length < options.rowsPerStep) {
    throw new RangeError(
      `Cannot pre-train on ${rows.length} rows with ${options.rowsPerStep} rows per step`,
    );
  }
  const order = new RandomStream(options.seed, "pretrain/rows");
  const state = createAdamState(model.params.vector);
  const reportEvery = options.reportEvery ?? 10;
  const losses: [number, number][] = [];
  let queue: number[] = [];
  for (let step = 0; step < options.steps; step++) {
    const batch: Sequence[] = [];
    while (batch.length < options.rowsPerStep) {
      if (queue.length === 0) queue = order.shuffle(rows.map((_, i) => i));
      batch.push(rows[queue.pop()!]!);
    }
    await model.recordLossAndGrad(batch);
    await adamStep(model.params.vector, model.grads.vector, state, {
      lr: pretrainSchedule(step, options.steps, options.lr),
      weightDecay: 0.01,
    });
    if ((step + 1) % reportEvery === 0 || step === options.steps - 1) {
      const values = await model.readStepLosses(batch.length);
      const loss = values.reduce((a, b) => a + b, 0) / values.length;
      losses.push([step + 1, loss]);
      options.onStep?.(step + 1, loss);
    }
  }
  state.m.destroy();
  state.v.destroy();
  return losses;
}
