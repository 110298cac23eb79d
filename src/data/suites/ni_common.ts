/**
 * Shared pieces of the NI-like task families: the task type and helpers.
 *
 * @module
 */

import type { RandomStream } from "../../random/stream.ts";
import {
  ANIMALS,
  CITIES,
  COLORS,
  FRUITS,
  LETTERS,
  pick,
  pickDistinct,
  TOOLS,
  WORDS,
} from "./words.ts";

/**
 * One instruction task: a name, its instruction, the components it is made
 * of, and an instance generator.
 */
export interface TaskSpec {
  /** Unique task name, e.g. `caesar_3_v0`. */
  readonly name: string;
  /** The family the task belongs to. */
  readonly family: string;
  /** The instruction (NI's "Definition"). */
  readonly instruction: string;
  /**
   * What a model must have seen in training to answer: the skill with its
   * parameter (`caesar 21`, `threshold 30`, `is animal`, `list sort_up`),
   * the output words it answers with (`labels yes/no`), the separator of a
   * list (`sep comma`). The phrasing is not a component, so two phrasings of
   * one task share their components; the held-out split is built on them
   * (see ni_like.ts).
   */
  readonly skills: readonly string[];
  /** Draws one instance. */
  readonly generate: (rng: RandomStream) => { input: string; output: string };
}

export type Gen = TaskSpec["generate"];

export const shift = (w: string, k: number) =>
  [...w].map((c) => LETTERS[(LETTERS.indexOf(c) + k) % 26]).join("");
export const sentence = (rng: RandomStream, k: number) => pickDistinct(rng, WORDS, k).join(" ");
export const letterWord = (rng: RandomStream, c: string) => {
  const w = [...pick<string>(rng, WORDS)];
  w[rng.int(w.length)] = c;
  return w.join("");
};
export const CATEGORIES: Record<string, readonly string[]> = {
  animal: ANIMALS,
  fruit: FRUITS,
  color: COLORS,
  city: CITIES,
  tool: TOOLS,
};
export const LABEL_PAIRS: readonly (readonly [string, string])[] = [
  ["yes", "no"],
  ["true", "false"],
  ["1", "0"],
  ["Y", "N"],
];
export const SEPARATORS: readonly (readonly [string, string])[] = [
  [", ", "comma"],
  [" ", "space"],
  ["; ", "semicolon"],
];

/** The component "answers with the label words `yes` and `no`". */
export const labelsSkill = (yes: string, no: string) => `labels ${yes}/${no}`;

/** Two phrasings of one instruction become two tasks with the same components. */
export function variants(
  family: string,
  key: string,
  skills: readonly string[],
  phrasings: readonly string[],
  generate: Gen,
): TaskSpec[] {
  return phrasings.map((instruction, v) => ({
    name: `${family}_${key}_v${v}`,
    family,
    instruction,
    skills,
    generate,
  }));
}
