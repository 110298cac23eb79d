/**
 * One entry point for the four built-in suites (DESIGN.md §6): generated
 * from a seed, nothing downloaded. At `smoke` and `default` scale they use
 * the short `compact` prompt template; at `paper` scale the template the
 * paper used for the dataset they mirror (`ni`, `dolly-code`, `alpaca`).
 *
 * @module
 */

import type { FederatedDataset } from "../example.ts";
import type { TemplateId } from "../templates.ts";
import { codeAlpacaLikeSuite } from "./code_alpaca_like.ts";
import { dollyLikeSuite } from "./dolly_like.ts";
import { gsm8kLikeSuite } from "./gsm8k_like.ts";
import { niLikeSuite } from "./ni_like.ts";
import {
  CODE_ALPACA_LIKE_SIZES,
  DOLLY_LIKE_SIZES,
  GSM8K_LIKE_SIZES,
  NI_LIKE_SIZES,
  type SuiteScale,
} from "./sizes.ts";

/** Names of the built-in suites. */
export type SuiteName = "ni-like" | "dolly-like" | "code-alpaca-like" | "gsm8k-like";

/**
 * Every built-in suite name.
 *
 * @example
 * ```ts
 * import { SUITE_NAMES } from "./builtin.ts";
 * console.log(SUITE_NAMES.length); // 4
 * ```
 */
export const SUITE_NAMES: readonly SuiteName[] = [
  "ni-like",
  "dolly-like",
  "code-alpaca-like",
  "gsm8k-like",
];

/** The template each suite uses at paper scale. */
const PAPER_TEMPLATE: Readonly<Record<SuiteName, TemplateId>> = {
  "ni-like": "ni",
  "dolly-like": "dolly-code",
  "code-alpaca-like": "alpaca",
  "gsm8k-like": "alpaca",
};

/**
 * A built-in suite at a scale; a pure function of (name, scale, seed).
 *
 * @example
 * ```ts
 * import { builtinSuite } from "./builtin.ts";
 * const a = builtinSuite("gsm8k-like", "smoke", 7);
 * const b = builtinSuite("gsm8k-like", "smoke", 7);
 * console.log(JSON.stringify(a) === JSON.stringify(b), a.template); // true "compact"
 * ```
 */
export function builtinSuite(name: SuiteName, scale: SuiteScale, seed: number): FederatedDataset {
  if (!(scale in NI_LIKE_SIZES)) {
    throw new RangeError(
      `Cannot build suite ${name} at scale "${scale}": use smoke, default or paper`,
    );
  }
  const template: TemplateId = scale === "paper" ? PAPER_TEMPLATE[name] : "compact";
  switch (name) {
    case "ni-like":
      return niLikeSuite(NI_LIKE_SIZES[scale], seed, template);
    case "dolly-like":
      return dollyLikeSuite(DOLLY_LIKE_SIZES[scale], seed, template);
    case "code-alpaca-like":
      return codeAlpacaLikeSuite(CODE_ALPACA_LIKE_SIZES[scale], seed, template);
    case "gsm8k-like":
      return gsm8kLikeSuite(GSM8K_LIKE_SIZES[scale], seed, template);
    default:
      throw new RangeError(
        `Cannot build suite "${name}": expected one of ${SUITE_NAMES.join(", ")}`,
      );
  }
}
