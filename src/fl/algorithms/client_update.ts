/**
 * What every first-order algorithm does for one client (paper.md §1.2
 * Steps 2–3): start from the global model, train locally, and form the
 * update Δ = w − w_i (the sign of Algorithm 1 line 11: the server
 * subtracts it), with its per-block norms read back to tell a non-finite
 * update and, for Ferret, to allocate bases.
 *
 * Each client of one call of the client hook gets its own Δ vector (a
 * slot), so the server can aggregate them after the call.
 *
 * @module
 */

import type { GpuVector } from "../../gpu/vector.ts";
import { batchRefusal, ModelBatch } from "../../model/model_batch.ts";
import type { Transformer } from "../../model/transformer.ts";
import type { Segment } from "../../gpu/vector.ts";
import { axpy } from "../../gpu/axpy.ts";
import { type LocalResult, LocalTrainer, type LocalTrainingOptions } from "../local.ts";
import type { ClientData, ClientWork } from "../types.ts";
import { BlockNorms, totalNorm } from "../../gpu/segment_norms.ts";

/** One client's local result and update. */
export interface ClientUpdate {
  /** Its local training. */
  readonly local: LocalResult;
  /** Δ = w − w_i, in the client's slot (valid until the slot is reused). */
  readonly delta: GpuVector;
  /** ‖Δ_l‖ per block (NaN or ∞ when not finite). */
  readonly norms: readonly number[];
  /** ‖Δ‖. */
  readonly norm: number;
  /** Whether the update may be aggregated (finite losses and update). */
  readonly finite: boolean;
  /** Clients trained in one batch of models with this one, itself included (1: alone). */
  readonly batchedClients: number;
}

/** A client's update from its local result, its Δ and Δ's block norms. */
function clientUpdate(
  local: LocalResult,
  delta: GpuVector,
  norms: readonly number[],
  batchedClients: number,
): ClientUpdate {
  const norm = totalNorm(norms);
  return {
    local,
    delta,
    norms,
    norm,
    finite: local.finite && Number.isFinite(norm),
    batchedClients,
  };
}

/**
 * Per-client update vectors Δ (slot i for the i-th client of a call),
 * allocated on first use and kept for later rounds.
 *
 * @example
 * ```ts
 * import { UpdateSlots } from "./client_update.ts";
 * import { Gpu } from "../../gpu/gpu.ts";
 * import { GpuVector } from "../../gpu/vector.ts";
 * const gpu = await Gpu.create();
 * const slots = new UpdateSlots(GpuVector.create(gpu, 5));
 * console.log(slots.slot(1).length, slots.slot(1) === slots.slot(1)); // 5 true
 * slots.destroy();
 * gpu.destroy();
 * ```
 */
export class UpdateSlots {
  readonly #shape: GpuVector;
  readonly #slots: GpuVector[] = [];

  /** Slots shaped like `shape`. */
  constructor(shape: GpuVector) {
    this.#shape = shape;
  }

  /** Slot `i`. */
  slot(i: number): GpuVector {
    while (this.#slots.length <= i) this.#slots.push(this.#shape.like(`update ${i}`));
    return this.#slots[i]!;
  }

  /** Frees the slots. */
  destroy(): void {
    for (const s of this.#slots) s.destroy();
    this.#slots.length = 0;
  }
}

/**
 * Local training and the update Δ with its block norms, for a model's trainable vector.
 *
 * @example
 * ```ts
 * import { ClientUpdates } from "./client_update.ts";
 * import { Gpu } from "../../gpu/gpu.ts";
 * import { PRESETS } from "../../model/presets.ts";
 * import { Transformer } from "../../model/transformer.ts";
 * const gpu = await Gpu.create();
 * const model = await Transformer.create(gpu, PRESETS.ci, { maxTokens: 8 });
 * const clients = new ClientUpdates(model, { steps: 1, optimizer: { kind: "sgd", lr: 0.1 } });
 * console.log(clients.blocks.length === model.params.layout.tensors.length); // true (one block per tensor)
 * clients.destroy();
 * gpu.destroy();
 * ```
 */
export class ClientUpdates {
  /** The blocks the norms are taken over. */
  readonly blocks: readonly Segment[];
  /** The local trainer. */
  readonly trainer: LocalTrainer;
  /** The clients' Δ vectors. */
  readonly slots: UpdateSlots;
  readonly #norms: BlockNorms;
  readonly #model: Transformer;
  #batch: ModelBatch | null = null;

  /** Plans `model.trainable` with `blocks` (default: one per tensor). */
  constructor(model: Transformer, local: LocalTrainingOptions, blocks?: readonly Segment[]) {
    const params = model.trainable.params;
    this.#model = model;
    this.slots = new UpdateSlots(params.vector);
    this.blocks = blocks ??
      params.layout.tensors.map((t) => ({ start: t.offset, length: t.numel }));
    this.#norms = new BlockNorms(model.gpu, params.vector, this.blocks);
    this.trainer = new LocalTrainer(local);
  }

  /**
   * The `slot`-th client of a call: resets the trainable vector to `from`
   * (default the round's global model), trains locally on the stream
   * `client=<id>/order`, and forms Δ = from − end in slot `slot` with its
   * norms. Leaves the trained parameters in the model.
   */
  async train(
    work: ClientWork,
    client: ClientData,
    slot: number,
    from: GpuVector = work.global,
  ): Promise<ClientUpdate> {
    const { local, delta } = await this.#trainAlone(work, client, slot, from);
    const [norms] = await this.#norms.normsOf([delta]);
    return clientUpdate(local, delta, norms!, 1);
  }

  /**
   * The clients of one call, client i in slot i, each exactly as
   * {@linkcode ClientUpdates.train} would give it, with one readback of
   * their norms: trained together as one {@linkcode ModelBatch} (one
   * dispatch per kernel for all, one readback of their losses per step
   * group) where the model allows — full training or an adapter (LoRA, soft
   * prompt, prefix), an architecture {@linkcode batchRefusal} accepts, vectors in one
   * chunk, packing on — and one after another otherwise. Leaves a trained client's parameters
   * in the model.
   */
  async trainMany(
    work: ClientWork,
    clients: readonly ClientData[],
    from: GpuVector = work.global,
  ): Promise<ClientUpdate[]> {
    const batch = clients.length > 1 ? this.#batchFor(clients.length) : null;
    if (!batch) {
      const trained = [];
      for (const [slot, client] of clients.entries()) {
        trained.push(await this.#trainAlone(work, client, slot, from));
      }
      const norms = await this.#norms.normsOf(trained.map((t) => t.delta));
      return trained.map(({ local, delta }, i) => clientUpdate(local, delta, norms[i]!, 1));
    }
    // Clients taking the same number of steps train together, at most `batch.count` at once.
    const groups = new Map<number, number[]>();
    clients.forEach((c, i) => {
      const steps = this.trainer.stepsFor(c.sequences.length);
      groups.set(steps, [...groups.get(steps) ?? [], i]);
    });
    const updates: ClientUpdate[] = new Array(clients.length);
    const params = this.#model.trainable.params.vector;
    // Adapters train over the model as it is (frozen): every model of the batch gets it.
    if (batch.adapter) batch.loadBase(this.#model.params.vector);
    for (const members of groups.values()) {
      for (let first = 0; first < members.length; first += batch.count) {
        const part = members.slice(first, first + batch.count);
        part.forEach((_, b) => batch.load(b, from));
        const locals = await this.trainer.trainBatch(
          batch,
          part.map((i) => clients[i]!.sequences),
          part.map((i) => work.stream(`client=${clients[i]!.id}/order`)),
        );
        const deltas: GpuVector[] = [];
        for (const [b, i] of part.entries()) {
          batch.store(b, params);
          deltas.push(await this.#delta(from, params, i));
        }
        const norms = await this.#norms.normsOf(deltas);
        part.forEach((i, b) => {
          updates[i] = clientUpdate(locals[b]!, deltas[b]!, norms[b]!, part.length);
        });
      }
    }
    return updates;
  }

  /** One client's local training from `from` and its Δ in slot `slot` (norms not taken). */
  async #trainAlone(
    work: ClientWork,
    client: ClientData,
    slot: number,
    from: GpuVector,
  ): Promise<{ local: LocalResult; delta: GpuVector }> {
    const params = this.#model.trainable.params.vector;
    from.copyTo(params);
    const local = await this.trainer.train(
      this.#model,
      client.sequences,
      work.stream(`client=${client.id}/order`),
    );
    return { local, delta: await this.#delta(from, params, slot) };
  }

  /** Δ = from − trained in slot `slot`. */
  async #delta(from: GpuVector, trained: GpuVector, slot: number): Promise<GpuVector> {
    const delta = this.slots.slot(slot);
    from.copyTo(delta);
    await axpy(-1, trained, delta);
    return delta;
  }

  /**
   * The batch for calls of `clients` clients, or null where the model cannot
   * batch: full training, or an adapter over the frozen model, with its
   * vectors in one chunk each.
   */
  #batchFor(clients: number): ModelBatch | null {
    const model = this.#model;
    const adapter = model.adapter?.kind === model.train ? model.adapter : null;
    const lora = adapter?.kind === "lora" ? adapter : null;
    const prompt = adapter?.kind === "prompt" ? adapter : null;
    const prefix = adapter?.kind === "prefix" ? adapter : null;
    const full = model.train === "full" && !model.adapter;
    if (
      (!full && !adapter) || this.trainer.options.pack === false ||
      batchRefusal(model.config, lora?.settings) ||
      model.trainable.params.vector.chunks.length !== 1 || model.params.vector.chunks.length !== 1
    ) {
      return null;
    }
    const lead = (prompt ?? prefix)?.length ?? 0;
    const capacity = ModelBatch.capacity(model.gpu, model.config, lead + model.maxTokens);
    const count = Math.min(clients, capacity);
    if (count < 2) return null;
    if (this.#batch && this.#batch.count >= count) return this.#batch;
    this.#batch?.destroy();
    this.#batch = ModelBatch.create(model.gpu, model.config, {
      count,
      maxTokens: model.maxTokens,
      ...(lora ? { lora: lora.settings } : {}),
      ...(prompt ? { prompt: { tokens: prompt.length } } : {}),
      ...(prefix ? { prefix: { tokens: prefix.length } } : {}),
    });
    return this.#batch;
  }

  /** Frees the vectors. */
  destroy(): void {
    this.slots.destroy();
    this.#norms.destroy();
    this.trainer.destroy();
    this.#batch?.destroy();
    this.#batch = null;
  }
}
