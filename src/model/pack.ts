/**
 * Packing the sequences of one accumulation step into few rows, so a step
 * is one forward and backward pass per row instead of one per sequence: a
 * pass costs mostly a fixed number of dispatches, whatever its length.
 *
 * The gradient stays the step's: the mean over its n sequences of each
 * sequence's mean response-token loss. Rows with several sequences carry
 * per-token loss weights 1 / (the sequence's unmasked tokens), the backward
 * pass scales them by 1/n, and attention stays inside each sequence
 * (segments) with positions restarting at 0. A sequence that is already a
 * packed row (it has positions or segments) keeps a row to itself.
 *
 * @module
 */

import { IGNORE_INDEX } from "./ops/cross_entropy.ts";

/**
 * A training sequence, what a pass uploads (src/model/transformer.ts
 * re-exports it; declared here so the two modules form no import cycle).
 */
export interface Sequence {
  /** Token ids [T]. */
  readonly tokens: Int32Array;
  /** Target id at each position, −100 where masked [T]. */
  readonly targets: Int32Array;
  /** Position of each token inside its example [T] (default 0 … T − 1). */
  readonly positions?: Int32Array;
  /** Example number of each token [T] (default: one example). */
  readonly segments?: Int32Array;
}

/** One sequence's place in a packed row. */
export interface PackedMember {
  /** Its index in the step. */
  readonly index: number;
  /** Its first token in the row. */
  readonly first: number;
  /** Its tokens. */
  readonly length: number;
}

/** One row of a packed step. */
export interface StepRow {
  /** What the pass uploads (one sequence as given, or several concatenated). */
  readonly sequence: Sequence;
  /** The sequences in the row, in order. */
  readonly members: readonly PackedMember[];
  /** Per-token loss weights, with several members (null for one sequence as given). */
  readonly weights: Float32Array | null;
}

/**
 * Packs `sequences` in order into rows of at most `maxTokens` tokens (a
 * sequence joins the current row while it fits, else starts the next).
 *
 * @example
 * ```ts
 * import { packSequences } from "./pack.ts";
 * const s = (n: number) => ({ tokens: new Int32Array(n), targets: new Int32Array(n).fill(1) });
 * const rows = packSequences([s(3), s(4), s(6)], 8);
 * console.log(rows.map((r) => r.members.length), Array.from(rows[0]!.weights!)); // [ 2, 1 ] [ 0.3333333432674408, 0.3333333432674408, 0.3333333432674408, 0.25, 0.25, 0.25, 0.25 ]
 * ```
 */
export function packSequences(
  sequences: readonly Sequence[],
  maxTokens: number,
): StepRow[] {
  if (!Number.isInteger(maxTokens) || maxTokens < 1) {
    throw new RangeError(`Cannot pack rows of ${maxTokens} tokens`);
  }
  const groups: number[][] = [];
  let used = Infinity;
  sequences.forEach((sequence, i) => {
    const T = sequence.tokens.length;
    const alone = sequence.positions !== undefined || sequence.segments !== undefined;
    if (alone || used + T > maxTokens) {
      groups.push([i]);
      used = alone ? Infinity : T;
    } else {
      groups.at(-1)!.push(i);
      used += T;
    }
  });
  return groups.map((group) => rowOf(sequences, group));
}

function rowOf(sequences: readonly Sequence[], group: readonly number[]): StepRow {
  if (group.length === 1) {
    const index = group[0]!;
    const sequence = sequences[index]!;
    return {
      sequence,
      members: [{ index, first: 0, length: sequence.tokens.length }],
      weights: null,
    };
  }
  const T = group.reduce((n, i) => n + sequences[i]!.tokens.length, 0);
  const tokens = new Int32Array(T), targets = new Int32Array(T);
  const positions = new Int32Array(T), segments = new Int32Array(T);
  const weights = new Float32Array(T);
  const members: PackedMember[] = [];
  let at = 0;
  group.forEach((index, segment) => {
    const s = sequences[index]!;
    const length = s.tokens.length;
    const counted = s.targets.reduce((n, id) => n + (id !== IGNORE_INDEX ? 1 : 0), 0);
    tokens.set(s.tokens, at);
    targets.set(s.targets, at);
    for (let t = 0; t < length; t++) {
      positions[at + t] = t;
      segments[at + t] = segment;
      if (s.targets[t] !== IGNORE_INDEX) weights[at + t] = 1 / counted;
    }
    members.push({ index, first: at, length });
    at += length;
  });
  return { sequence: { tokens, targets, positions, segments }, members, weights };
}
