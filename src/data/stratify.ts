/**
 * The held-out examples an evaluation scores: a sample stratified by label
 * (task, category), so a few examples already cover every held-out task
 * instead of the first tasks of a task-ordered test set. Deterministic: the
 * same examples for every method and training seed.
 *
 * @module
 */

import type { Example } from "./example.ts";

/**
 * The first `n` examples of `examples` taken round-robin over their labels
 * (labels in order of first appearance, examples of a label in their order):
 * with L labels, each gets ⌊n/L⌋ or ⌈n/L⌉ while it has examples left.
 *
 * @example
 * ```ts
 * import { stratifiedSample } from "./stratify.ts";
 * const e = (label: string, output: string) => ({ instruction: "", input: "", output, label });
 * const test = [e("a", "a1"), e("a", "a2"), e("a", "a3"), e("b", "b1"), e("c", "c1")];
 * console.log(stratifiedSample(test, 4).map((x) => x.output)); // [ "a1", "b1", "c1", "a2" ]
 * ```
 */
export function stratifiedSample<E extends Pick<Example, "label">>(
  examples: readonly E[],
  n: number,
): E[] {
  if (!Number.isInteger(n) || n < 0) {
    throw new RangeError(`Cannot sample ${n} examples: expected an integer ≥ 0`);
  }
  const byLabel = new Map<string, E[]>();
  for (const example of examples) {
    const group = byLabel.get(example.label);
    if (group) group.push(example);
    else byLabel.set(example.label, [example]);
  }
  const groups = [...byLabel.values()];
  const out: E[] = [];
  for (let depth = 0; out.length < Math.min(n, examples.length); depth++) {
    for (const group of groups) {
      if (depth < group.length && out.length < n) out.push(group[depth]!);
    }
  }
  return out;
}
