/**
 * The communication ledger: every transfer of a run, per round, client and
 * direction, counted two ways (paper.md §3 Appx. C.2, DESIGN.md §5):
 *
 * - **as the paper counts**: parameters exchanged between one client and
 *   the server per round, sent plus received, each a 16-bit value (seeds
 *   are not counted: with a shared seed pool the server can sum coordinates
 *   per seed, paper.md §1.2);
 * - **as this implementation transfers**: the scalars, seeds and bytes the
 *   simulated messages actually carry (f32 scalars, 64-bit seeds).
 *
 * {@linkcode paperCommunication} gives the per-round figures of Tables 4, 5
 * and 10 from the algorithms' message sizes.
 *
 * @module
 */

/** Who sends: the client (`up`) or the server (`down`). */
export type Direction = "up" | "down";

/** One message. */
export interface Transfer {
  /** Round, 1-based. */
  readonly round: number;
  /** Client id. */
  readonly client: number;
  /** Direction. */
  readonly direction: Direction;
  /** Parameters, coordinates or other scalars carried. */
  readonly scalars: number;
  /** Random seeds carried. */
  readonly seeds: number;
  /** Bytes as this implementation encodes the message (defaults to 4 per scalar, 8 per seed). */
  readonly bytes?: number;
}

/** Totals over a set of transfers. */
export interface Totals {
  /** Scalars up plus down (the paper's count). */
  readonly scalars: number;
  /** Seeds up plus down. */
  readonly seeds: number;
  /** The paper's bytes: 2 per scalar (16-bit values). */
  readonly paperBytes: number;
  /** The bytes this implementation moves. */
  readonly bytes: number;
  /** Scalars sent by clients. */
  readonly up: number;
  /** Scalars received by clients. */
  readonly down: number;
}

const ZERO: Totals = { scalars: 0, seeds: 0, paperBytes: 0, bytes: 0, up: 0, down: 0 };

function add(t: Totals, transfer: Transfer): Totals {
  const bytes = transfer.bytes ?? 4 * transfer.scalars + 8 * transfer.seeds;
  return {
    scalars: t.scalars + transfer.scalars,
    seeds: t.seeds + transfer.seeds,
    paperBytes: t.paperBytes + 2 * transfer.scalars,
    bytes: t.bytes + bytes,
    up: t.up + (transfer.direction === "up" ? transfer.scalars : 0),
    down: t.down + (transfer.direction === "down" ? transfer.scalars : 0),
  };
}

/**
 * Records transfers and totals them per round, per client and per run.
 *
 * @example
 * ```ts
 * import { CommunicationLedger } from "./ledger.ts";
 * const ledger = new CommunicationLedger();
 * ledger.record({ round: 1, client: 0, direction: "up", scalars: 3900, seeds: 1 });
 * ledger.record({ round: 1, client: 0, direction: "down", scalars: 3900, seeds: 0 });
 * console.log(ledger.perClientRound(1)); // 7800 (the paper's count for one client and round)
 * ```
 */
export class CommunicationLedger {
  readonly #transfers: Transfer[] = [];

  /** Adds one message. */
  record(transfer: Transfer): void {
    for (const key of ["round", "client", "scalars", "seeds"] as const) {
      const value = transfer[key];
      if (!Number.isSafeInteger(value) || value < 0) {
        throw new RangeError(`Cannot record a transfer with ${key} = ${value}`);
      }
    }
    if (transfer.direction !== "up" && transfer.direction !== "down") {
      throw new TypeError(`Cannot record a transfer in direction "${transfer.direction}"`);
    }
    this.#transfers.push(transfer);
  }

  /** Every recorded message, in order. */
  get transfers(): readonly Transfer[] {
    return this.#transfers;
  }

  /** Totals of the transfers that `filter` keeps (all by default). */
  totals(filter: (t: Transfer) => boolean = () => true): Totals {
    return this.#transfers.filter(filter).reduce(add, ZERO);
  }

  /** Totals of one round. */
  round(round: number): Totals {
    return this.totals((t) => t.round === round);
  }

  /**
   * The paper's per-round figure: scalars exchanged (sent + received) per
   * participating client in `round`, averaged over the clients.
   */
  perClientRound(round: number): number {
    const mine = this.#transfers.filter((t) => t.round === round);
    const clients = new Set(mine.map((t) => t.client)).size;
    return clients === 0 ? 0 : mine.reduce((s, t) => s + t.scalars, 0) / clients;
  }
}

/** What the per-round communication of an algorithm depends on. */
export interface CommunicationSize {
  /** Parameters d of the model. */
  readonly parameters: number;
  /** FedKSeed's candidate seeds K. */
  readonly K?: number;
  /** Ferret's coordinates per client and round, Σ_l K_l. */
  readonly coordinates?: number;
}

/**
 * Parameters exchanged per client and round as the paper counts them
 * (sent + received): FedAvg and FedZO move the model both ways (2d),
 * FedKSeed its K scalar accumulators (2K), Ferret its Σ_l K_l coordinates
 * and their aggregate (2 Σ_l K_l).
 *
 * @example
 * ```ts
 * import { paperCommunication } from "./ledger.ts";
 * console.log(paperCommunication("fedkseed", { parameters: 3e9, K: 4096 })); // 8192
 * ```
 */
export function paperCommunication(
  algorithm: "fedavg" | "fedzo" | "fedkseed" | "ferret",
  size: CommunicationSize,
): number {
  switch (algorithm) {
    case "fedavg":
    case "fedzo":
      return 2 * size.parameters;
    case "fedkseed":
      if (size.K === undefined) throw new TypeError("Cannot count FedKSeed without its K seeds");
      return 2 * size.K;
    case "ferret":
      if (size.coordinates === undefined) {
        throw new TypeError("Cannot count Ferret without its Σ K_l coordinates");
      }
      return 2 * size.coordinates;
  }
}
