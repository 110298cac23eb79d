/**
 * What Ferret's two implementations share (paper.md §1, §7):
 *
 * - the options common to both modes;
 * - the blocks: `groupTensors` over the trainable tensors (default the
 *   code's grouping, L = 194 for DataJuicer-1.3B's shapes; paper.md §7
 *   item 3), a block spanning its tensors' slots in the flat vector,
 *   alignment gaps included (they stay zero in every update, so they
 *   change nothing but d_l by at most 63 elements per tensor);
 * - who rebuilds the global model: by default the server rebuilds it once
 *   and the clients copy it (the code's way, paper.md §7 item 10); with
 *   `rebuild: "client"` the clients keep their own copy, rebuild it from
 *   the downloaded seeds and coordinates (Algorithm 1 lines 3–6), train
 *   from it, and the run checks every round that it agrees with the
 *   server's model to `rebuildTolerance` (relative).
 *
 * @module
 */

import type { GpuVector } from "../../gpu/vector.ts";
import type { TrainMode } from "../../model/peft/adapter.ts";
import type { Transformer } from "../../model/transformer.ts";
import { type Block, type GroupingRule, groupTensors } from "../../projection/blocks.ts";
import type { Distribution } from "../../random/basis.ts";
import { axpy } from "../../gpu/axpy.ts";
import type { LocalTrainingOptions } from "../local.ts";
import type {
  Aggregation,
  ClientOutcome,
  ClientWork,
  FederatedAlgorithm,
  MessageSize,
  RoundInfo,
  RunStreams,
} from "../types.ts";
import { type ClientUpdate, ClientUpdates } from "./client_update.ts";
import { decodeState, encodeState } from "./_state.ts";
import { type AlgorithmProperties, FERRET } from "./properties.ts";
import { BlockNorms, totalNorm } from "../../gpu/segment_norms.ts";

/** Options of both Ferret implementations. */
export interface FerretCommonOptions {
  /** Local training (the paper: T = 10 steps of n_accum = 4, SGD, lr 1e-4). */
  readonly local: LocalTrainingOptions;
  /** Paper: Σ_l K_l. Official: the pool size, also the most bases per block (`--K`). */
  readonly K: number;
  /** Global learning rate η_g (the official code's server learning rate slr_max). Default 1. */
  readonly globalLr?: number;
  /** Tensor grouping into blocks (default `official`). */
  readonly grouping?: GroupingRule;
  /**
   * Target multiplier of the `official` grouping (default 0.9, the code's):
   * larger values merge more tensors, giving fewer blocks L (Fig. 5 varies L
   * this way; paper.md §4 Fig. 5).
   */
  readonly groupMultiplier?: number;
  /** Basis distribution (default `truncnormal`, the paper's). */
  readonly distribution?: Distribution;
  /** What trains and travels (default `full`). */
  readonly trains?: TrainMode;
  /** Who rebuilds the global model (default `server`). */
  readonly rebuild?: "server" | "client";
  /** Largest relative difference between the clients' and the server's model (default 1e-5). */
  readonly rebuildTolerance?: number;
}

/** The common options with their defaults. */
export type FerretCommonSettings = Required<Omit<FerretCommonOptions, "groupMultiplier">> & {
  readonly groupMultiplier: number;
};

/** Resolves and checks the common options (`what` names the mode in errors). */
export function commonSettings(options: FerretCommonOptions, what: string): FerretCommonSettings {
  const globalLr = options.globalLr ?? 1;
  if (!(globalLr > 0) || !Number.isFinite(globalLr)) {
    throw new RangeError(`Cannot run ${what} with global learning rate ${globalLr}`);
  }
  const rebuild = options.rebuild ?? "server";
  if (rebuild !== "server" && rebuild !== "client") {
    throw new TypeError(`Cannot run ${what} with rebuild "${rebuild}": expected server or client`);
  }
  return {
    local: options.local,
    K: options.K,
    globalLr,
    grouping: options.grouping ?? "official",
    groupMultiplier: options.groupMultiplier ?? 0.9,
    distribution: options.distribution ?? "truncnormal",
    trains: options.trains ?? "full",
    rebuild,
    rebuildTolerance: options.rebuildTolerance ?? 1e-5,
  };
}

/** The settings as recorded in manifests (the default group multiplier left out). */
export function recordedSettings(
  mode: "paper" | "official",
  settings: FerretCommonSettings,
  specific: Readonly<Record<string, unknown>>,
): Record<string, unknown> {
  const { groupMultiplier, rebuildTolerance: _, ...rest } = settings;
  return {
    mode,
    ...rest,
    ...(groupMultiplier === 0.9 ? {} : { groupMultiplier }),
    ...specific,
  };
}

/** Blocks of the trainable tensors, as segments of the flat vector (gaps included). */
export function trainableBlocks(
  model: Transformer,
  grouping: GroupingRule,
  multiplier: number,
): Block[] {
  const tensors = model.trainable.params.layout.tensors;
  const groups = groupTensors(
    tensors.map((t) => ({ name: t.name, size: t.numel })),
    grouping,
    multiplier,
  );
  const byName = new Map(tensors.map((t) => [t.name, t]));
  return groups.map((g) => {
    const first = byName.get(g.tensors[0]!)!;
    const last = byName.get(g.tensors[g.tensors.length - 1]!)!;
    return {
      start: first.offset,
      length: last.offset + last.numel - first.offset,
      tensors: g.tensors,
    };
  });
}

/**
 * The clients' own copy of the global model under `rebuild: "client"`:
 * they apply every broadcast to it, and the run checks it against the
 * server's model.
 *
 * @example
 * ```ts
 * import { ClientRebuild } from "./ferret_shared.ts";
 * import { Gpu } from "../../gpu/gpu.ts";
 * import { PRESETS } from "../../model/presets.ts";
 * import { Transformer } from "../../model/transformer.ts";
 * const gpu = await Gpu.create();
 * const model = await Transformer.create(gpu, PRESETS.ci, { maxTokens: 8 });
 * const copy = new ClientRebuild(model, 1e-5);
 * const nothing = () => Promise.resolve();
 * console.log(await copy.rebuild(nothing, model.params.vector, 1)); // 0
 * copy.destroy();
 * gpu.destroy();
 * ```
 */
export class ClientRebuild {
  /** The clients' copy of the global trainable vector. */
  readonly model: GpuVector;
  readonly #tolerance: number;
  readonly #norms: BlockNorms;
  readonly #scratch: GpuVector;

  /** A copy of `model`'s trainable vector, checked to `tolerance`. */
  constructor(model: Transformer, tolerance: number) {
    const params = model.trainable.params;
    this.model = params.vector.like("client model");
    params.vector.copyTo(this.model);
    this.#scratch = params.vector.like("client rebuild check");
    this.#tolerance = tolerance;
    this.#norms = new BlockNorms(
      model.gpu,
      params.vector,
      params.layout.tensors.map((t) => ({ start: t.offset, length: t.numel })),
    );
  }

  /**
   * Rebuilds the clients' copy with `apply` and returns its relative
   * difference ‖copy − server‖ / ‖server‖; throws past the tolerance.
   */
  async rebuild(
    apply: (target: GpuVector) => Promise<void>,
    server: GpuVector,
    round: number,
  ): Promise<number> {
    await apply(this.model);
    this.model.copyTo(this.#scratch);
    await axpy(-1, server, this.#scratch);
    const diff = totalNorm(await this.#norms.norms(this.#scratch));
    const base = totalNorm(await this.#norms.norms(server));
    const error = diff / Math.max(base, Number.MIN_VALUE);
    if (!(error <= this.#tolerance)) {
      throw new RangeError(
        `Cannot verify the clients' rebuilt model in round ${round}: it differs from ` +
          `the server's by a relative ${error} (tolerance ${this.#tolerance})`,
      );
    }
    return error;
  }

  /** Frees the copy. */
  destroy(): void {
    this.model.destroy();
    this.#scratch.destroy();
    this.#norms.destroy();
  }
}

/** Server state of either mode: the official pool (empty in paper mode) and the clients' copy. */
export async function saveFerretState(
  pool: Float32Array,
  rebuild: ClientRebuild | null,
): Promise<Uint8Array> {
  const clientModel = rebuild ? await rebuild.model.read() : new Float32Array(0);
  return encodeState({ pool, clientModel });
}

/** Restores the clients' copy from {@linkcode saveFerretState}'s bytes and returns the pool. */
export function loadFerretState(
  state: Uint8Array,
  rebuild: ClientRebuild | null,
): Float32Array | undefined {
  const sections = decodeState(state);
  const saved = sections.get("clientModel");
  if (rebuild && saved && saved.length === rebuild.model.length) rebuild.model.write(saved);
  return sections.get("pool");
}

/** What both implementations hold after setup. */
export interface FerretPrepared {
  /** The working model. */
  readonly model: Transformer;
  /** The blocks. */
  readonly blocks: readonly Block[];
  /** Local training and each client's update Δ with its block norms. */
  readonly clients: ClientUpdates;
  /** The clients' own copy under `rebuild: "client"`. */
  readonly rebuild: ClientRebuild | null;
}

/**
 * The round both implementations share (paper.md §1.2 Steps 2–4): each
 * client trains from the global model (or from its own copy) and encodes
 * its update; the server combines the kept messages with their
 * renormalised weights; everyone reconstructs. A mode supplies the
 * encoding, the combination, the reconstruction and the message sizes.
 *
 * @example
 * ```ts
 * import { FerretBase } from "./ferret_shared.ts";
 * import { ferret } from "./ferret.ts";
 * const local = { steps: 1, optimizer: { kind: "sgd" as const, lr: 0.1 } };
 * const official = ferret({ mode: "official", K: 8, local });
 * console.log(official instanceof FerretBase, ferret({ K: 64, local }) instanceof FerretBase); // true true
 * ```
 */
export abstract class FerretBase<Message extends { readonly coordinates: Float32Array }, Download>
  implements FederatedAlgorithm<Message, Download> {
  /** `Ferret (ours)`. */
  readonly name = "Ferret (ours)";
  /** `ferret-paper` or `ferret-official`. */
  abstract readonly id: string;
  /** What trains and travels. */
  readonly trains: TrainMode;
  /** The resolved options. */
  readonly options: Readonly<Record<string, unknown>>;
  /** Table 1's declaration. */
  readonly properties: AlgorithmProperties = FERRET;
  /** The common settings. */
  protected readonly settings: FerretCommonSettings;
  #prepared: FerretPrepared | null = null;
  #lastMessages: Message[] = [];

  /** Resolves the common options of `mode` and records them beside its own. */
  constructor(
    mode: "paper" | "official",
    options: FerretCommonOptions,
    specific: Readonly<Record<string, unknown>>,
  ) {
    this.settings = commonSettings(options, `Ferret (${mode} mode)`);
    this.trains = this.settings.trains;
    this.options = recordedSettings(mode, this.settings, specific);
  }

  /** K: Σ_l K_l in paper mode, the pool's size (and most bases per block) in official mode. */
  get K(): number {
    return this.settings.K;
  }

  /** The blocks (after setup). */
  get blocks(): readonly Block[] {
    return this.#prepared?.blocks ?? [];
  }

  /** The messages the server aggregated in the last round. */
  get lastMessages(): readonly Message[] {
    return this.#lastMessages;
  }

  /** Sets up the mode's server state with the model at its initial parameters. */
  abstract setup(model: Transformer, run: RunStreams): Promise<void>;

  /** The blocks, the clients' update vectors and the clients' copy (for `setup`). */
  protected prepare(model: Transformer): FerretPrepared {
    this.destroy();
    const s = this.settings;
    if (model.train !== s.trains) model.train = s.trains;
    const blocks = trainableBlocks(model, s.grouping, s.groupMultiplier);
    this.#prepared = {
      model,
      blocks,
      clients: new ClientUpdates(model, s.local, blocks),
      rebuild: s.rebuild === "client" ? new ClientRebuild(model, s.rebuildTolerance) : null,
    };
    return this.#prepared;
  }

  /** What setup prepared. */
  protected ready(): FerretPrepared {
    if (!this.#prepared) throw new TypeError("Cannot run a Ferret round before setup");
    return this.#prepared;
  }

  /** Steps 2–3 on every client: local training, then the mode's encoding. */
  async train(work: ClientWork): Promise<ClientOutcome<Message>[]> {
    const { clients, rebuild } = this.ready();
    const outcomes: ClientOutcome<Message>[] = [];
    const updates = await clients.trainMany(work, work.clients, rebuild?.model ?? work.global);
    const messages = await this.encodeAll(work, work.clients.map((c) => c.id), updates);
    for (const [slot, update] of updates.entries()) {
      const message = messages[slot]!;
      outcomes.push({
        upload: message,
        loss: update.local.meanLoss,
        updateNorm: update.norm,
        extra: {
          batchedClients: update.batchedClients,
          ...(message ? { coordinates: message.coordinates.length } : {}),
        },
      });
    }
    return outcomes;
  }

  /**
   * Every client's message, in order: null where its update is not finite
   * (the trained ones only are encoded). By default one client after
   * another; a mode may encode them together.
   */
  protected async encodeAll(
    work: RoundInfo,
    ids: readonly number[],
    updates: readonly ClientUpdate[],
  ): Promise<(Message | null)[]> {
    const messages: (Message | null)[] = [];
    for (const [slot, update] of updates.entries()) {
      messages.push(update.finite ? await this.encode(work, ids[slot]!, update) : null);
    }
    return messages;
  }

  /** A client's message for its update, or null when it is not finite. */
  protected abstract encode(
    work: RoundInfo,
    client: number,
    update: ClientUpdate,
  ): Promise<Message | null>;

  /** The server keeps the messages and combines them with p_i = w_i / W. */
  aggregator(round: RoundInfo): Aggregation<Message, Download> {
    const messages: Message[] = [];
    const weights: number[] = [];
    return {
      add: (message, weight) => {
        messages.push(message);
        weights.push(weight);
        return Promise.resolve();
      },
      finish: (weightTotal) => {
        this.#lastMessages = messages;
        return Promise.resolve(
          this.combine(messages, weights.map((w) => w / weightTotal), round),
        );
      },
    };
  }

  /** The broadcast from the kept messages and their renormalised weights. */
  protected abstract combine(
    messages: readonly Message[],
    weights: readonly number[],
    round: RoundInfo,
  ): Download;

  /** The reconstruction on the global model, and on the clients' copy under `rebuild: "client"`. */
  async apply(
    download: Download,
    global: GpuVector,
    round: RoundInfo,
  ): Promise<Record<string, number>> {
    const { rebuild } = this.ready();
    const apply = (target: GpuVector) => this.reconstruct(target, download);
    await apply(global);
    const extra = this.serverNumbers(download);
    if (rebuild) extra.rebuildError = await rebuild.rebuild(apply, global, round.round);
    return extra;
  }

  /** Applies the broadcast onto `target`. */
  protected abstract reconstruct(target: GpuVector, download: Download): Promise<void>;

  /** Numbers of the broadcast for the round's record. */
  protected serverNumbers(_download: Download): Record<string, number> {
    return {};
  }

  /** The size of a client's message. */
  abstract uploadSize(message: Message): MessageSize;

  /** The size of the broadcast. */
  abstract broadcastSize(download: Download): MessageSize;

  /** Server state: the mode's pool (none in paper mode) and the clients' copy. */
  saveState(): Promise<Uint8Array> {
    return saveFerretState(this.statePool(), this.#prepared?.rebuild ?? null);
  }

  /** Restores {@linkcode FerretBase.saveState}'s output. */
  loadState(state: Uint8Array): Promise<void> {
    const pool = loadFerretState(state, this.#prepared?.rebuild ?? null);
    if (pool) this.restorePool(pool);
    return Promise.resolve();
  }

  /** The pool to checkpoint (empty by default). */
  protected statePool(): Float32Array {
    return new Float32Array(0);
  }

  /** Restores a checkpointed pool (nothing by default). */
  protected restorePool(_pool: Float32Array): void {}

  /** Frees the buffers. */
  destroy(): void {
    const p = this.#prepared;
    if (!p) return;
    p.clients.destroy();
    p.rebuild?.destroy();
    this.#prepared = null;
  }
}
