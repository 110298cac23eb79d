/**
 * The data every experiment below paper scale shares: one fixed data seed,
 * and the NI-like tasks that seed holds out, which the stand-ins'
 * pre-training corpus and tokenizer must never see (held-out tasks are the
 * paper's "unseen tasks", paper.md §5.1).
 *
 * @module
 */

import { builtinSuite } from "../src/data/suites/builtin.ts";
import type { SuiteScale } from "../src/data/suites/sizes.ts";

/**
 * The seed of every dataset's generation, split and sampling: fixed, so the
 * seeds of a table vary the training only (sampling of clients, data order,
 * the algorithms' randomness) and compare methods on the same data and the
 * same held-out examples (DESIGN.md §7).
 *
 * @example
 * ```ts
 * import { DATA_SEED } from "./_data.ts";
 * console.log(DATA_SEED); // 0
 * ```
 */
export const DATA_SEED = 0;

/**
 * The NI-like test tasks of the data seed at `scale`: left out of the
 * pre-training corpus and the tokenizer's texts.
 *
 * @example
 * ```ts
 * import { heldOutTasks } from "./_data.ts";
 * console.log(heldOutTasks("smoke").size); // 3
 * ```
 */
export function heldOutTasks(scale: SuiteScale): ReadonlySet<string> {
  return new Set(builtinSuite("ni-like", scale, DATA_SEED).test.map((e) => e.label));
}
