/**
 * Loss on response tokens. The training and evaluation loss covers the
 * response only: prompt positions carry the label −100 (paper.md §5.1).
 *
 * @module
 */

import { IGNORE_INDEX } from "../model/ops/cross_entropy.ts";

/**
 * Mean of per-position losses over the positions whose target is not −100
 * (NaN when there is none, as a framework's mean over no tokens is).
 *
 * @example
 * ```ts
 * import { meanResponseLoss } from "./loss.ts";
 * console.log(meanResponseLoss([9, 1, 3], new Int32Array([-100, 5, 6]))); // 2
 * ```
 */
export function meanResponseLoss(
  tokenLosses: ArrayLike<number>,
  targets: ArrayLike<number>,
): number {
  if (tokenLosses.length !== targets.length) {
    throw new TypeError(
      `Cannot average losses: ${tokenLosses.length} losses but ${targets.length} targets`,
    );
  }
  let sum = 0, count = 0;
  for (let i = 0; i < targets.length; i++) {
    if (targets[i] === IGNORE_INDEX) continue;
    sum += tokenLosses[i]!;
    count++;
  }
  return count === 0 ? NaN : sum / count;
}

/** An evaluation loss and how many examples it counts. */
export interface EvalLoss {
  /** Mean of the counted per-example losses (NaN when none is counted). */
  readonly mean: number;
  /** Examples counted. */
  readonly counted: number;
  /** Examples skipped because their loss is NaN. */
  readonly skippedNaN: number;
}

/**
 * The test loss of the official evaluation: the mean over examples of each
 * example's mean response-token loss, skipping NaN losses (an example with
 * no response token left after truncation) in both sum and count.
 *
 * @example
 * ```ts
 * import { evalLoss } from "./loss.ts";
 * console.log(evalLoss([1, NaN, 3])); // { mean: 2, counted: 2, skippedNaN: 1 }
 * ```
 */
export function evalLoss(exampleLosses: readonly number[]): EvalLoss {
  let sum = 0, counted = 0, skippedNaN = 0;
  for (const l of exampleLosses) {
    if (Number.isNaN(l)) skippedNaN++;
    else {
      sum += l;
      counted++;
    }
  }
  return { mean: counted === 0 ? NaN : sum / counted, counted, skippedNaN };
}
