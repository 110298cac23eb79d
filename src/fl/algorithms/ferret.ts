/**
 * Ferret (Shu et al., ICML 2025; paper.md §1, §7): first-order local
 * updates, then shared randomness — each client projects its update onto
 * random bases block by block and sends only the coordinates; everyone
 * rebuilds the update from (seeds, coordinates).
 *
 * Two implementations, chosen by `mode` and recorded in `options.mode`
 * (DESIGN.md §5):
 * - `paper` (src/fl/algorithms/ferret_paper.ts): Eqs. 2, 6–8, a fresh seed
 *   per client per round, Σ_l K_l = K by an allocation rule, optional exact
 *   least squares (Eq. 5), optional global learning rate;
 * - `official` (src/fl/algorithms/ferret_official.ts): the released code —
 *   d_l/K_l scaling, K_l = max(⌊‖Δ_l‖/max‖Δ‖·K⌋, 2), one shared seed pool,
 *   per-seed per-block clipping, annealed server learning rate, seed-pool
 *   momentum, equal client weights.
 *
 * @module
 */

import {
  type FerretOfficial,
  ferretOfficial,
  type FerretOfficialOptions,
} from "./ferret_official.ts";
import { type FerretPaper, ferretPaper, type FerretPaperOptions } from "./ferret_paper.ts";

/** Options of {@linkcode ferret}: a mode and that mode's options. */
export type FerretOptions =
  | ({ readonly mode?: "paper" } & FerretPaperOptions)
  | ({ readonly mode: "official" } & FerretOfficialOptions);

/**
 * Ferret in paper (default) or official mode.
 *
 * @example
 * ```ts
 * import { ferret } from "./ferret.ts";
 * const algorithm = ferret({
 *   K: 200, globalLr: 10, mode: "official",
 *   local: { steps: 10, nAccum: 4, optimizer: { kind: "sgd", lr: 1e-4 } },
 * });
 * console.log(algorithm.id); // ferret-official
 * ```
 */
export function ferret(options: FerretOptions): FerretPaper | FerretOfficial {
  const mode = options.mode ?? "paper";
  if (mode !== "paper" && mode !== "official") {
    throw new TypeError(`Cannot run Ferret in mode "${mode}": expected paper or official`);
  }
  return options.mode === "official" ? ferretOfficial(options) : ferretPaper(options);
}
