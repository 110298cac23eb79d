/**
 * Tokenised training sequences and packed rows, ready for GPU upload
 * (paper.md §5.1: batch size 1, gradient accumulation over `n_accum`
 * samples, loss on response tokens only).
 *
 * An example becomes `BOS + prompt + response + EOS`; its `labels` follow
 * the Hugging Face convention (aligned with the tokens, −100 on BOS and the
 * prompt; the model predicts `labels[i + 1]` at position i). Sequences longer
 * than `maxLength` are cut at the end, as the official tokenisation does.
 *
 * Packing puts several examples of one accumulation step into one row with
 * no padding. Each row carries `positions` (restarting at 0 for every
 * example, for RoPE) and `segments` (example number within the row, so the
 * attention kernel can stay inside an example), next-token `targets`
 * (−100 where no loss is taken, including across example boundaries) and
 * per-position loss `weights` = 1 / (response tokens of the example ·
 * n_accum). With those weights, Σ weight·loss over a step's rows equals the
 * official objective: the sum over its n_accum examples of each example's
 * mean response loss divided by n_accum.
 *
 * @module
 */

import type { Tokenizer } from "../model/tokenizer.ts";
import type { Example } from "./example.ts";
import { renderPrompt, type TemplateId } from "./templates.ts";
import { IGNORE_INDEX } from "../model/ops/cross_entropy.ts";

/** One tokenised example. */
export interface TokenizedExample {
  /** BOS + prompt + response + EOS, cut to `maxLength`. */
  readonly tokens: Int32Array;
  /** Aligned labels: the token, or −100 on BOS and prompt positions. */
  readonly labels: Int32Array;
  /** BOS + prompt tokens kept (the masked prefix). */
  readonly promptTokens: number;
  /** Response (+ EOS) tokens kept: positions that carry a loss. */
  readonly responseTokens: number;
  /** Whether the sequence was cut. */
  readonly truncated: boolean;
}

/**
 * Tokenises one example for training.
 *
 * @example
 * ```ts
 * import { tokenizeExample } from "./batch.ts";
 * import { ByteTokenizer } from "../model/tokenizer.ts";
 * const ex = { instruction: "Echo.", input: "hi", output: "hi", label: "echo" };
 * const t = tokenizeExample(ex, new ByteTokenizer(), { template: "compact", maxLength: 64 });
 * console.log(t.promptTokens, t.responseTokens); // 39 3
 * ```
 */
export function tokenizeExample(
  example: Example,
  tokenizer: Tokenizer,
  options: { readonly template: TemplateId; readonly maxLength: number },
): TokenizedExample {
  const { maxLength } = options;
  if (!Number.isInteger(maxLength) || maxLength < 2) {
    throw new RangeError(`Cannot tokenise with maxLength ${maxLength}: expected an integer ≥ 2`);
  }
  const prompt = tokenizer.encode(renderPrompt(options.template, example));
  const response = tokenizer.encode(example.output);
  const full = 1 + prompt.length + response.length + 1;
  const length = Math.min(full, maxLength);
  const tokens = new Int32Array(length);
  const labels = new Int32Array(length).fill(IGNORE_INDEX);
  const promptEnd = Math.min(1 + prompt.length, length);
  tokens[0] = tokenizer.bos;
  for (let i = 1; i < promptEnd; i++) tokens[i] = prompt[i - 1]!;
  for (let i = promptEnd; i < length; i++) {
    const r = i - 1 - prompt.length;
    tokens[i] = r < response.length ? response[r]! : tokenizer.eos;
    labels[i] = tokens[i]!;
  }
  return {
    tokens,
    labels,
    promptTokens: promptEnd,
    responseTokens: length - promptEnd,
    truncated: full > length,
  };
}

/**
 * The prompt alone (BOS + prompt), for greedy generation at evaluation.
 *
 * @example
 * ```ts
 * import { promptTokens } from "./batch.ts";
 * import { ByteTokenizer } from "../model/tokenizer.ts";
 * const ex = { instruction: "Hi", input: "", output: "", label: "x" };
 * console.log(promptTokens(ex, new ByteTokenizer(), "compact").length); // 26
 * ```
 */
export function promptTokens(
  example: Pick<Example, "instruction" | "input">,
  tokenizer: Tokenizer,
  template: TemplateId,
): Int32Array {
  return Int32Array.from([tokenizer.bos, ...tokenizer.encode(renderPrompt(template, example))]);
}

/** One packed row of a step. */
export interface PackedRow {
  /** Token ids. */
  readonly tokens: Int32Array;
  /** Next-token target at each position, −100 where no loss is taken. */
  readonly targets: Int32Array;
  /** Loss weight at each position (0 where the target is −100). */
  readonly weights: Float32Array;
  /** Position inside its example (restarts at 0). */
  readonly positions: Int32Array;
  /** Example number within the row (0, 1, …): attention stays within a segment. */
  readonly segments: Int32Array;
  /** Indices (into the step's input) of the examples in this row, in order. */
  readonly examples: readonly number[];
}

/**
 * Packs the examples of one accumulation step into rows of at most
 * `maxRowTokens` tokens (first-fit in the given order; an example is never
 * split). Examples with no response token left are skipped (their loss
 * would be NaN) and reported.
 *
 * @param nAccum the divisor of each example's loss (the official code
 *   divides by `n_accum`; pass `examples.length` for a full step)
 *
 * @example
 * ```ts
 * import { packStep, tokenizeExample } from "./batch.ts";
 * import { ByteTokenizer } from "../model/tokenizer.ts";
 * const tok = new ByteTokenizer();
 * const ex = { instruction: "Echo.", input: "a", output: "a", label: "echo" };
 * const t = tokenizeExample(ex, tok, { template: "compact", maxLength: 64 });
 * const { rows } = packStep([t, t, t, t], { maxRowTokens: 128, nAccum: 4 });
 * console.log(rows.length, rows[0]!.segments.at(-1), rows[0]!.weights.reduce((a, b) => a + b)); // 2 2 0.75
 * ```
 */
export function packStep(
  examples: readonly TokenizedExample[],
  options: { readonly maxRowTokens: number; readonly nAccum: number },
): { rows: PackedRow[]; skipped: number[] } {
  const { maxRowTokens, nAccum } = options;
  if (!Number.isInteger(maxRowTokens) || maxRowTokens < 2) {
    throw new RangeError(`Cannot pack rows of ${maxRowTokens} tokens: expected an integer ≥ 2`);
  }
  if (!(nAccum > 0)) throw new RangeError(`Cannot pack with n_accum = ${nAccum}`);
  const skipped: number[] = [];
  const bins: { used: number; members: number[] }[] = [];
  examples.forEach((ex, i) => {
    if (ex.responseTokens === 0 || ex.tokens.length < 2) {
      skipped.push(i);
      return;
    }
    if (ex.tokens.length > maxRowTokens) {
      throw new RangeError(
        `Cannot pack example ${i} of ${ex.tokens.length} tokens into rows of ${maxRowTokens}`,
      );
    }
    const bin = bins.find((b) => b.used + ex.tokens.length <= maxRowTokens);
    if (bin) {
      bin.used += ex.tokens.length;
      bin.members.push(i);
    } else bins.push({ used: ex.tokens.length, members: [i] });
  });
  const rows = bins.map(({ used, members }) => {
    const tokens = new Int32Array(used);
    const targets = new Int32Array(used).fill(IGNORE_INDEX);
    const weights = new Float32Array(used);
    const positions = new Int32Array(used);
    const segments = new Int32Array(used);
    let at = 0;
    members.forEach((m, s) => {
      const ex = examples[m]!;
      const len = ex.tokens.length;
      const w = 1 / (ex.responseTokens * nAccum);
      tokens.set(ex.tokens, at);
      for (let i = 0; i < len; i++) {
        positions[at + i] = i;
        segments[at + i] = s;
        // The last position of an example predicts nothing: its successor is
        // another example's BOS.
        if (i + 1 < len && ex.labels[i + 1] !== IGNORE_INDEX) {
          targets[at + i] = ex.labels[i + 1]!;
          weights[at + i] = w;
        }
      }
      at += len;
    });
    return { tokens, targets, weights, positions, segments, examples: members };
  });
  return { rows, skipped };
}

/**
 * Groups a client's local iterations into accumulation steps: `steps × nAccum`
 * example indices drawn from `order`, cycling through it (the official
 * client loops over its shuffled loader until `local_step` batches ran).
 *
 * @example
 * ```ts
 * import { accumulationSteps } from "./batch.ts";
 * console.log(accumulationSteps([4, 2, 7], 2, 2)); // [[4, 2], [7, 4]]
 * ```
 */
export function accumulationSteps(
  order: readonly number[],
  nAccum: number,
  steps: number,
): number[][] {
  if (order.length === 0) throw new RangeError("Cannot group steps over no examples");
  if (!Number.isInteger(nAccum) || nAccum < 1 || !Number.isInteger(steps) || steps < 0) {
    throw new RangeError(`Cannot group ${steps} steps of ${nAccum} examples`);
  }
  const out: number[][] = [];
  let k = 0;
  for (let s = 0; s < steps; s++) {
    const step: number[] = [];
    for (let a = 0; a < nAccum; a++) step.push(order[k++ % order.length]!);
    out.push(step);
  }
  return out;
}
