/**
 * The registry of every experiment, in the order the README lists them.
 * Explicit imports (no file-system discovery) so the registry also works
 * when the toolkit is imported by URL.
 *
 * @module
 */

import type { Experiment } from "../src/experiment/define.ts";
import { figure1 } from "./figure1.ts";
import { figure2 } from "./figure2.ts";
import { figure3 } from "./figure3.ts";
import { figure4 } from "./figure4.ts";
import { figure5 } from "./figure5.ts";
import { figure9 } from "./figure9.ts";
import { figure6 } from "./figure6.ts";
import { table1 } from "./table1.ts";
import { table2 } from "./table2.ts";
import { table3 } from "./table3.ts";
import { table4 } from "./table4.ts";
import { table5 } from "./table5.ts";
import { table6 } from "./table6.ts";
import { table7 } from "./table7.ts";
import { table8 } from "./table8.ts";
import { table9 } from "./table9.ts";
import { table10 } from "./table10.ts";
import { figure7 } from "./figure7.ts";
import { figure8 } from "./figure8.ts";
import { pretrainTable } from "./pretrain.ts";
import { proposition1 } from "./proposition1.ts";
import { proposition2 } from "./proposition2.ts";
import { theorem1 } from "./theorem1.ts";
import { theorem2 } from "./theorem2.ts";
import { theorem3 } from "./theorem3.ts";
import { theorem4_gap } from "./theorem4_gap.ts";

/**
 * Every experiment: the pre-training step the federated ones build on, the
 * paper's tables, its figures, then the theory checks.
 *
 * @example
 * ```ts
 * import { EXPERIMENTS } from "./mod.ts";
 * console.log(EXPERIMENTS[0]!.id, EXPERIMENTS.some((e) => e.id === "table3")); // pretrain true
 * ```
 */
export const EXPERIMENTS: readonly Experiment[] = [
  pretrainTable,
  table1,
  table2,
  table3,
  table4,
  table5,
  table6,
  table7,
  table8,
  table9,
  table10,
  figure1,
  figure2,
  figure3,
  figure4,
  figure5,
  figure6,
  figure7,
  figure8,
  figure9,
  theorem1,
  theorem2,
  theorem3,
  theorem4_gap,
  proposition1,
  proposition2,
];

/**
 * The experiment with `id`, or undefined.
 *
 * @example
 * ```ts
 * import { findExperiment } from "./mod.ts";
 * console.log(findExperiment("table1")?.title); // "Table 1"
 * ```
 */
export function findExperiment(id: string): Experiment | undefined {
  return EXPERIMENTS.find((e) => e.id === id);
}
