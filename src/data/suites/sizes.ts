/**
 * How large each built-in suite is at each scale. `smoke` is tiny (CI
 * seconds); `default` is what a tiny model can learn on a 2-core
 * CPU in minutes (dozens of clients, short examples); `paper` uses the
 * paper's counts (paper.md §5.1–5.2).
 *
 * @module
 */

/** A named suite size. */
export type SuiteScale = "smoke" | "default" | "paper";

/** NI-like sizes. */
export interface NiLikeSizes {
  /** Training tasks = clients (738 in the paper). */
  readonly trainTasks: number;
  /** Fewest examples of a training task. */
  readonly minPerTask: number;
  /** Most examples of a training task. */
  readonly maxPerTask: number;
  /** Held-out test tasks (119 in the paper). */
  readonly testTasks: number;
  /** Examples per test task (the paper's rule gives ≥ 20). */
  readonly perTestTask: number;
}

/** Dolly-like sizes. */
export interface DollyLikeSizes {
  /** Examples over all 8 categories (15 011 in the real file). */
  readonly total: number;
  /** Clients (200 in the paper). */
  readonly clients: number;
  /** Dirichlet α (0.5). */
  readonly alpha: number;
  /** Minimum examples per client (10). */
  readonly minSize: number;
}

/** CodeAlpaca-like sizes. */
export interface CodeAlpacaLikeSizes {
  /** Examples in the nine client languages (~8.0k in the paper). */
  readonly total: number;
  /** x86-64 Assembly examples generated and then excluded, as the paper excludes them. */
  readonly assembly: number;
  /** Test fraction (0.1). */
  readonly testFraction: number;
}

/** GSM8K-like sizes. */
export interface Gsm8kLikeSizes {
  /** Training problems (7 473 in GSM8K). */
  readonly train: number;
  /** Test problems (1 319 in GSM8K). */
  readonly test: number;
  /** Clients (3). */
  readonly clients: number;
}

/**
 * NI-like sizes per scale.
 *
 * @example
 * ```ts
 * import { NI_LIKE_SIZES } from "./sizes.ts";
 * console.log(NI_LIKE_SIZES.paper.trainTasks); // 738
 * ```
 */
export const NI_LIKE_SIZES: Readonly<Record<SuiteScale, NiLikeSizes>> = {
  smoke: { trainTasks: 6, minPerTask: 6, maxPerTask: 10, testTasks: 3, perTestTask: 4 },
  default: { trainTasks: 48, minPerTask: 16, maxPerTask: 40, testTasks: 12, perTestTask: 8 },
  paper: { trainTasks: 738, minPerTask: 20, maxPerTask: 200, testTasks: 119, perTestTask: 20 },
};

/**
 * Dolly-like sizes per scale.
 *
 * @example
 * ```ts
 * import { DOLLY_LIKE_SIZES } from "./sizes.ts";
 * console.log(DOLLY_LIKE_SIZES.paper.clients); // 200
 * ```
 */
export const DOLLY_LIKE_SIZES: Readonly<Record<SuiteScale, DollyLikeSizes>> = {
  smoke: { total: 120, clients: 4, alpha: 0.5, minSize: 10 },
  default: { total: 720, clients: 20, alpha: 0.5, minSize: 10 },
  paper: { total: 15011, clients: 200, alpha: 0.5, minSize: 10 },
};

/**
 * CodeAlpaca-like sizes per scale.
 *
 * @example
 * ```ts
 * import { CODE_ALPACA_LIKE_SIZES } from "./sizes.ts";
 * console.log(CODE_ALPACA_LIKE_SIZES.paper.total); // 8000
 * ```
 */
export const CODE_ALPACA_LIKE_SIZES: Readonly<Record<SuiteScale, CodeAlpacaLikeSizes>> = {
  smoke: { total: 54, assembly: 2, testFraction: 0.1 },
  default: { total: 360, assembly: 8, testFraction: 0.1 },
  paper: { total: 8000, assembly: 160, testFraction: 0.1 },
};

/**
 * GSM8K-like sizes per scale.
 *
 * @example
 * ```ts
 * import { GSM8K_LIKE_SIZES } from "./sizes.ts";
 * console.log(GSM8K_LIKE_SIZES.paper.train); // 7473
 * ```
 */
export const GSM8K_LIKE_SIZES: Readonly<Record<SuiteScale, Gsm8kLikeSizes>> = {
  smoke: { train: 24, test: 6, clients: 3 },
  default: { train: 300, test: 48, clients: 3 },
  paper: { train: 7473, test: 1319, clients: 3 },
};
