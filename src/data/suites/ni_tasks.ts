/**
 * The task pool of the NI-like suite: parameterised instruction families
 * (letter games, arithmetic, list operations, classification, extraction,
 * string building). Each (family, parameters, phrasing) is a distinct task
 * with its own instruction text, the components it is made of (skill and
 * parameter, label words, list separator; the held-out split is built on
 * them) and an instance generator, so the pool holds well over the 857 tasks
 * the paper's split needs (paper.md §5.1).
 *
 * @module
 */

import { extractionTasks, letterTasks } from "./ni_tasks_text.ts";
import { listTasks, numberTasks } from "./ni_tasks_numbers.ts";
import type { TaskSpec } from "./ni_common.ts";

export type { TaskSpec } from "./ni_common.ts";

/**
 * Every task of the NI-like pool, in a fixed order (names are unique).
 *
 * @example
 * ```ts
 * import { niLikeTaskPool } from "./ni_tasks.ts";
 * console.log(niLikeTaskPool().length > 857); // true
 * ```
 */
export function niLikeTaskPool(): TaskSpec[] {
  return [...letterTasks(), ...numberTasks(), ...listTasks(), ...extractionTasks()];
}
