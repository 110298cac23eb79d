/**
 * The contract between the federation simulator (src/fl/simulator.ts) and
 * the algorithms (src/fl/algorithms/*.ts, one file each), in the spirit of
 * fedjax: the simulator owns the round, an algorithm supplies only what
 * differs (DESIGN.md §5–6, paper.md §1.2, §6, §7).
 *
 * One round, as the simulator runs it:
 *
 * 1. sample the clients and their aggregation weights w_i;
 * 2. **client work** ({@linkcode FederatedAlgorithm.train}): hand the
 *    algorithm one or several sampled clients at once; each turns (global
 *    model, its data, its random streams) into an upload message, or into
 *    nothing when its update is not finite (it is then dropped and counted);
 * 3. **aggregation** ({@linkcode FederatedAlgorithm.aggregator}): every
 *    kept upload is added with its raw weight w_i as it arrives; `finish`
 *    gets W = Σ_kept w_i, so the aggregate uses the renormalised weights
 *    w_i / W, and returns what the server broadcasts;
 * 4. **apply** ({@linkcode FederatedAlgorithm.apply}): the broadcast onto the
 *    global model;
 * 5. the ledger gets each upload's and the broadcast's size
 *    ({@linkcode FederatedAlgorithm.uploadSize},
 *    {@linkcode FederatedAlgorithm.broadcastSize}) for every sampled client.
 *
 * Only the sampled clients are materialised; the working model's trainable
 * vector holds the global parameters between rounds.
 *
 * @module
 */

import type { GpuVector } from "../gpu/vector.ts";
import type { TrainMode } from "../model/peft/adapter.ts";
import type { Sequence, Transformer } from "../model/transformer.ts";
import type { RandomStream } from "../random/stream.ts";
import type { AlgorithmProperties } from "./algorithms/properties.ts";

/** One client's local data, already tokenised (batch size 1: one sequence each). */
export interface ClientData {
  /** Client index 0 … N − 1. */
  readonly id: number;
  /** Its training sequences (none for a client whose data stays on its own machine). */
  readonly sequences: readonly Sequence[];
  /**
   * How many sequences it holds, when `sequences` is not here (a remote
   * client of a federation, src/federation/server.ts): its aggregation
   * weight's n_i. Default `sequences.length`.
   */
  readonly samples?: number;
  /** What the client holds, for reports (task name, category, language…). */
  readonly label?: string;
}

/** The phases the paper's cost tables time separately (paper.md §3, Appx. C.2). */
export type Phase = "local" | "aggregate";

/** Named random streams of one run (`fl/run/<name>`): state drawn once, e.g. a seed pool. */
export interface RunStreams {
  /** The stream `name` of this run, independent of the round. */
  stream(name: string): RandomStream;
}

/** What every hook of a round knows. */
export interface RoundInfo {
  /** Round number, 1-based. */
  readonly round: number;
  /** Total rounds of the run (for learning-rate annealing). */
  readonly rounds: number;
  /**
   * The stream `fl/round=<round>/<name>` of this run: per-client draws name
   * the client, e.g. `client=3/order` (every algorithm documents its names).
   */
  stream(name: string): RandomStream;
}

/** The client phase: some of the round's sampled clients, trained from the global model. */
export interface ClientWork extends RoundInfo {
  /** The working model: its trainable vector is the clients' scratch during this phase. */
  readonly model: Transformer;
  /** The global trainable vector of this round (read only: every client starts from it). */
  readonly global: GpuVector;
  /** The clients to train, in sampling order (one or several). */
  readonly clients: readonly ClientData[];
}

/** What one client's work yields. */
export interface ClientOutcome<Upload> {
  /** The upload message, or null when the client's update is not finite (dropped). */
  readonly upload: Upload | null;
  /** Mean local training loss (NaN when not finite). */
  readonly loss: number;
  /** ‖Δ‖ of its update where known (NaN or ∞ when not finite): names a divergence's culprit. */
  readonly updateNorm?: number;
  /** Per-client numbers for the round's record, averaged over the kept clients. */
  readonly extra?: Readonly<Record<string, number>>;
}

/** The server's aggregation of one round. */
export interface Aggregation<Upload, Broadcast> {
  /** Adds a kept client's upload with its raw aggregation weight w_i. */
  add(upload: Upload, weight: number): Promise<void>;
  /**
   * What the server broadcasts, given W = Σ w_i over the uploads added.
   * Called only when at least one upload was added (W > 0); a round whose
   * clients were all dropped leaves the global model as it was.
   */
  finish(weightTotal: number): Promise<Broadcast>;
}

/** The size of one message, in the ledger's terms (src/fl/ledger.ts). */
export interface MessageSize {
  /** Parameters, coordinates or other scalars carried. */
  readonly scalars: number;
  /** Random seeds carried. */
  readonly seeds: number;
  /** Bytes as this implementation encodes it (default 4 per scalar, 8 per seed). */
  readonly bytes?: number;
}

/** A federated learning algorithm: only what differs between algorithms. */
export interface FederatedAlgorithm<Upload = unknown, Broadcast = unknown> {
  /** Display name, e.g. `Ferret (ours)`. */
  readonly name: string;
  /** A stable id for cache keys and manifests, e.g. `ferret-paper`. */
  readonly id: string;
  /** Which parameters train and travel. */
  readonly trains: TrainMode;
  /** The options it runs with (recorded in manifests). */
  readonly options: Readonly<Record<string, unknown>>;
  /** Its declared complexity and properties (Table 1), where the paper lists it. */
  readonly properties?: AlgorithmProperties;
  /** Sets up server state once, with the model at its initial parameters. */
  setup(model: Transformer, run: RunStreams): Promise<void>;
  /** Client work: one outcome per client of `work.clients`, in order. */
  train(work: ClientWork): Promise<ClientOutcome<Upload>[]>;
  /** Starts the server's aggregation of a round. */
  aggregator(round: RoundInfo): Aggregation<Upload, Broadcast>;
  /**
   * Applies the broadcast to `global` (which holds the round's global
   * model) and returns server-side numbers for the round's record.
   */
  apply(
    broadcast: Broadcast,
    global: GpuVector,
    round: RoundInfo,
  ): Promise<Readonly<Record<string, number>>>;
  /** The size of an upload. */
  uploadSize(upload: Upload): MessageSize;
  /** The size of the broadcast each sampled client receives. */
  broadcastSize(broadcast: Broadcast): MessageSize;
  /** Server state to checkpoint after a round (besides the model's parameters). */
  saveState?(): Promise<Uint8Array>;
  /** Restores what {@linkcode FederatedAlgorithm.saveState} returned (after setup). */
  loadState?(state: Uint8Array): Promise<void>;
  /** Frees GPU buffers. */
  destroy?(): void;
}
