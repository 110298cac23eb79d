/**
 * Which clients take part in a round (paper.md §5.1–5.2, DESIGN.md §6), and
 * with what aggregation weights.
 *
 * The official code draws `int(N · fraction)` clients per round without
 * replacement (36 of 738 for NI at 5%, 10 of 200 for Dolly). With few
 * clients that rule gives none: 5% of 9 (CodeAlpaca) or 3 (GSM8K) clients
 * is `int(0.45) = 0`, a case the paper leaves undefined (paper.md §5.2,
 * §8 item 9). This toolkit's documented rule: **m = min(N, max(minimum,
 * ⌊N · fraction⌋))** with `minimum` = 1 by default, so a round always has at
 * least one client; pass `fraction: 1` for full participation.
 *
 * The draw is a pure function of (run seed, round) through the named stream
 * `fl/sample/round=<r>`, so a resumed run samples the same clients.
 *
 * @module
 */

import { RandomStream } from "../random/stream.ts";

/** How many clients take part per round. */
export interface Participation {
  /** Fraction of the N clients per round, 0 < fraction ≤ 1 (the paper: 0.05). */
  readonly fraction: number;
  /** Fewest clients per round (default 1). */
  readonly minimum?: number;
}

/**
 * Clients per round under {@linkcode Participation}: min(N, max(minimum, ⌊N·fraction⌋)).
 *
 * @example
 * ```ts
 * import { clientsPerRound } from "./sampling.ts";
 * console.log(clientsPerRound(738, { fraction: 0.05 })); // 36
 * console.log(clientsPerRound(3, { fraction: 0.05 })); // 1 (⌊0.15⌋ = 0, raised to the minimum)
 * ```
 */
export function clientsPerRound(clients: number, participation: Participation): number {
  const { fraction } = participation;
  const minimum = participation.minimum ?? 1;
  if (!Number.isInteger(clients) || clients < 1) {
    throw new RangeError(`Cannot sample from ${clients} clients: expected an integer ≥ 1`);
  }
  if (!(fraction > 0 && fraction <= 1)) {
    throw new RangeError(`Cannot sample a fraction ${fraction} of clients: expected 0 < f ≤ 1`);
  }
  if (!Number.isInteger(minimum) || minimum < 1) {
    throw new RangeError(`Cannot sample at least ${minimum} clients: expected an integer ≥ 1`);
  }
  return Math.min(clients, Math.max(minimum, Math.floor(clients * fraction)));
}

/**
 * The clients of round `round` (1-based), in sampling order: m distinct
 * indices of 0 … N − 1 drawn without replacement from the stream
 * `fl/sample/round=<round>` of `seed`.
 *
 * @example
 * ```ts
 * import { sampleClients } from "./sampling.ts";
 * const a = sampleClients(7, 3, 20, { fraction: 0.2 });
 * console.log(a.length, a.join() === sampleClients(7, 3, 20, { fraction: 0.2 }).join()); // 4 true
 * ```
 */
export function sampleClients(
  seed: number,
  round: number,
  clients: number,
  participation: Participation,
): number[] {
  if (!Number.isInteger(round) || round < 1) {
    throw new RangeError(`Cannot sample clients for round ${round}: rounds are 1-based`);
  }
  const m = clientsPerRound(clients, participation);
  return new RandomStream(seed, `fl/sample/round=${round}`).sample(clients, m);
}

/** How the server weighs the sampled clients. */
export type Weighting = "equal" | "samples";

/**
 * Aggregation weights (sum 1) of clients holding `sizes` samples: equal
 * (the official `--equal_weight`) or proportional to the sample count
 * (the official default, w_i ∝ `len(train_loader)`; paper.md §7 item 7).
 *
 * @example
 * ```ts
 * import { aggregationWeights } from "./sampling.ts";
 * console.log(aggregationWeights([1, 3], "samples")); // [0.25, 0.75]
 * ```
 */
export function aggregationWeights(sizes: readonly number[], weighting: Weighting): number[] {
  if (sizes.length === 0) throw new RangeError("Cannot weigh no clients");
  if (weighting === "equal") return sizes.map(() => 1 / sizes.length);
  if (weighting !== "samples") {
    throw new TypeError(`Cannot weigh clients by "${weighting}": expected equal or samples`);
  }
  const total = sizes.reduce((a, b) => a + b, 0);
  if (!(total > 0)) throw new RangeError(`Cannot weigh clients holding [${sizes}] samples`);
  return sizes.map((s) => s / total);
}

/**
 * The weights of the clients that were kept, renormalised to sum 1 (a
 * dropped client's share is spread over the others); all zero when every
 * client was dropped.
 *
 * @example
 * ```ts
 * import { keptWeights } from "./sampling.ts";
 * console.log(keptWeights([0.5, 0.25, 0.25], [false, true, false])); // [0.6666…, 0, 0.3333…]
 * ```
 */
export function keptWeights(weights: readonly number[], dropped: readonly boolean[]): number[] {
  const total = weights.reduce((s, w, i) => s + (dropped[i] ? 0 : w), 0);
  return weights.map((w, i) => (dropped[i] || !(total > 0) ? 0 : w / total));
}
