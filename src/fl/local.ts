/**
 * First-order local training, shared by every first-order algorithm
 * (FedAvg, the PEFT baselines, Ferret): paper.md §1.2 Step 2 (Eq. 3), §5.1,
 * §7 item 9.
 *
 * A client takes T local steps from the current global model. Each step
 * accumulates the gradient of the mean loss over n_accum sequences of batch
 * size 1 (the official `--local_step 40 --n_accum 4`: the loss is divided
 * by n_accum and the optimiser steps every n_accum batches, so T = 10 steps
 * of 4 sequences), then takes one SGD step (momentum 0, as the official
 * code hard-codes) or one Adam step (Fig. 9; FedIT). The optimiser state is
 * fresh for every client and round, as a client builds its optimiser anew.
 *
 * The data order is a pure function of the stream handed in (the simulator
 * names it per round and client): successive shuffles of the client's
 * sequences, concatenated until T·n_accum are drawn (an epoch boundary
 * reshuffles, as a re-created data loader does).
 *
 * Steps read nothing back: each leaves its per-sequence losses in the
 * model's loss slots on the GPU, and they come back in one readback per
 * client (per `lossSlots / n_accum` steps when a client takes more).
 *
 * @module
 */

import type { ModelBatch } from "../model/model_batch.ts";
import type { Sequence, Transformer } from "../model/transformer.ts";
import { type AdamOptions, type AdamState, adamStep, createAdamState } from "../optim/adam.ts";
import { sgdStep } from "../optim/sgd.ts";
import type { RandomStream } from "../random/stream.ts";
import type { GpuVector } from "../gpu/vector.ts";

/** The local optimiser: SGD without momentum (the paper's) or Adam(W). */
export type LocalOptimizer =
  | { readonly kind: "sgd"; readonly lr: number; readonly weightDecay?: number }
  | ({ readonly kind: "adam" } & Readonly<AdamOptions>);

/** Options of {@linkcode LocalTrainer}. */
export interface LocalTrainingOptions {
  /**
   * Local steps T, or `epoch`: ⌈n / n_accum⌉ steps, one pass over the
   * client's n sequences (the first-order baselines' "one local epoch").
   */
  readonly steps: number | "epoch";
  /** Sequences per step, gradients accumulated (default 1; the paper's Ferret: 4). */
  readonly nAccum?: number;
  /** The optimiser. */
  readonly optimizer: LocalOptimizer;
  /**
   * Whether a step's sequences share passes, as many per pass as the model's
   * `maxTokens` allows (default true; the same gradient, fewer dispatches:
   * src/model/pack.ts). False: one pass per sequence.
   */
  readonly pack?: boolean;
}

/** What a client's local training returns. */
export interface LocalResult {
  /** Mean loss of each step taken (before its update). */
  readonly losses: readonly number[];
  /** Mean of `losses` (NaN when a step's loss was not finite). */
  readonly meanLoss: number;
  /** False when a loss was not finite; `losses` end at that step. */
  readonly finite: boolean;
}

/**
 * The order of a client's sequences for `steps` steps of `nAccum` each:
 * concatenated shuffles of 0 … n − 1 drawn from `stream`.
 *
 * @example
 * ```ts
 * import { localOrder } from "./local.ts";
 * import { RandomStream } from "../random/stream.ts";
 * const steps = localOrder(3, 2, 2, new RandomStream(1, "order"));
 * console.log(steps.length, steps.flat().length); // 2 4 (every index once, then a new shuffle)
 * ```
 */
export function localOrder(
  n: number,
  steps: number,
  nAccum: number,
  stream: RandomStream,
): number[][] {
  if (!Number.isInteger(n) || n < 1) {
    throw new RangeError(`Cannot train on ${n} sequences: a client needs at least one`);
  }
  if (!Number.isInteger(steps) || steps < 0 || !Number.isInteger(nAccum) || nAccum < 1) {
    throw new RangeError(`Cannot take ${steps} local steps of ${nAccum} sequences`);
  }
  const indices = Array.from({ length: n }, (_, i) => i);
  const order: number[] = [];
  while (order.length < steps * nAccum) order.push(...stream.shuffle(indices));
  return Array.from({ length: steps }, (_, s) => order.slice(s * nAccum, (s + 1) * nAccum));
}

/**
 * Appends to `losses` the mean of each of `steps` steps' `nAccum` sequence
 * losses in `values`, stopping after the first that is not finite; returns
 * whether every one was.
 */
function addStepMeans(
  losses: number[],
  values: readonly number[],
  steps: number,
  nAccum: number,
): boolean {
  for (let step = 0; step < steps; step++) {
    const mine = values.slice(step * nAccum, (step + 1) * nAccum);
    const mean = mine.reduce((a, b) => a + b, 0) / mine.length;
    losses.push(mean);
    if (!Number.isFinite(mean)) return false;
  }
  return true;
}

/** A client's local result from its step losses (NaN mean when one was not finite). */
function localResult(losses: number[], finite: boolean): LocalResult {
  const meanLoss = finite ? losses.reduce((a, b) => a + b, 0) / Math.max(1, losses.length) : NaN;
  return { losses, meanLoss, finite };
}

/**
 * Runs clients' local training on `model.trainable` (the full model or an
 * adapter). Holds the Adam moments, reused (and reset) across clients.
 *
 * @example
 * ```ts
 * import { LocalTrainer } from "./local.ts";
 * import { Gpu } from "../gpu/gpu.ts";
 * import { PRESETS } from "../model/presets.ts";
 * import { Transformer } from "../model/transformer.ts";
 * import { RandomStream } from "../random/stream.ts";
 * const gpu = await Gpu.create();
 * const model = await Transformer.create(gpu, PRESETS.ci, { maxTokens: 8 });
 * const sequence = { tokens: new Int32Array([256, 72, 105]), targets: new Int32Array([72, 105, 257]) };
 * const trainer = new LocalTrainer({ steps: 3, optimizer: { kind: "sgd", lr: 0.1 } });
 * const result = await trainer.train(model, [sequence], new RandomStream(0, "order"));
 * console.log(result.losses.length, result.losses[2]! < result.losses[0]!); // 3 true
 * trainer.destroy();
 * gpu.destroy();
 * ```
 */
export class LocalTrainer {
  /** The options. */
  readonly options: LocalTrainingOptions;
  #adam: AdamState | null = null;

  /** Validates the options. */
  constructor(options: LocalTrainingOptions) {
    const { steps, optimizer } = options;
    const nAccum = options.nAccum ?? 1;
    if (steps !== "epoch" && (!Number.isInteger(steps) || steps < 1)) {
      throw new RangeError(`Cannot train locally for ${steps} steps: expected an integer ≥ 1`);
    }
    if (!Number.isInteger(nAccum) || nAccum < 1) {
      throw new RangeError(`Cannot accumulate over ${nAccum} sequences: expected an integer ≥ 1`);
    }
    if (optimizer.kind !== "sgd" && optimizer.kind !== "adam") {
      throw new TypeError(
        `Cannot train with optimiser "${
          (optimizer as { kind: string }).kind
        }": expected sgd or adam`,
      );
    }
    if (!(optimizer.lr > 0) || !Number.isFinite(optimizer.lr)) {
      throw new RangeError(`Cannot train with learning rate ${optimizer.lr}`);
    }
    this.options = options;
  }

  /** Steps a client with `n` sequences takes. */
  stepsFor(n: number): number {
    const nAccum = this.options.nAccum ?? 1;
    return this.options.steps === "epoch" ? Math.ceil(n / nAccum) : this.options.steps;
  }

  #adamFor(params: GpuVector): AdamState {
    const current = this.#adam;
    if (
      current && current.m.length === params.length &&
      current.m.chunkElements === params.chunkElements
    ) {
      current.m.clear();
      current.v.clear();
      current.step = 0;
      return current;
    }
    this.destroy();
    this.#adam = createAdamState(params);
    return this.#adam;
  }

  /**
   * Trains `model.trainable` in place on `sequences` for T steps, drawing
   * the order from `stream`. A non-finite loss marks the result `finite:
   * false`, its losses ending at that step; the steps after it (recorded
   * before the one readback saw it) only carry the non-finite values on.
   */
  async train(
    model: Transformer,
    sequences: readonly Sequence[],
    stream: RandomStream,
  ): Promise<LocalResult> {
    const nAccum = this.options.nAccum ?? 1;
    const steps = localOrder(sequences.length, this.stepsFor(sequences.length), nAccum, stream);
    const { params, grads } = model.trainable;
    const optimizer = this.options.optimizer;
    const adam = optimizer.kind === "adam" ? this.#adamFor(params.vector) : null;
    // Steps whose losses wait in the model's loss slots for one readback.
    const perRead = Math.max(1, Math.floor(model.lossSlots / nAccum));
    const losses: number[] = [];
    for (let first = 0; first < steps.length; first += perRead) {
      const group = steps.slice(first, first + perRead);
      let slot = 0;
      for (const step of group) {
        await model.recordLossAndGrad(step.map((i) => sequences[i]!), slot, {
          pack: this.options.pack ?? true,
        });
        slot += step.length;
        await this.#step(params.vector, grads.vector, adam);
      }
      const values = await model.readStepLosses(slot);
      if (!addStepMeans(losses, values, group.length, nAccum)) return localResult(losses, false);
    }
    return localResult(losses, true);
  }

  /**
   * Trains models 0 … n − 1 of `batch` in place (n = `clients.length`),
   * model b on `clients[b]` with its order drawn from `streams[b]`: the
   * results of n calls of {@linkcode LocalTrainer.train} on n models, bit
   * for bit, from one dispatch per kernel for all of them. Every client
   * takes the same number of steps (group clients by
   * {@linkcode LocalTrainer.stepsFor}); a client whose loss turns non-finite
   * is reported as `train` reports it while the others train on.
   */
  async trainBatch(
    batch: ModelBatch,
    clients: readonly (readonly Sequence[])[],
    streams: readonly RandomStream[],
  ): Promise<LocalResult[]> {
    const n = clients.length;
    if (streams.length !== n) {
      throw new TypeError(`Cannot train ${n} clients with ${streams.length} order streams`);
    }
    if (this.options.pack === false) {
      throw new TypeError("Cannot train a batch of models without packing");
    }
    const nAccum = this.options.nAccum ?? 1;
    const orders = clients.map((sequences, b) =>
      localOrder(sequences.length, this.stepsFor(sequences.length), nAccum, streams[b]!)
    );
    const steps = orders[0]?.length ?? 0;
    if (orders.some((o) => o.length !== steps)) {
      throw new RangeError(
        `Cannot train clients taking ${orders.map((o) => o.length).join(", ")} steps in one ` +
          "batch: every client takes the same number",
      );
    }
    const optimizer = this.options.optimizer;
    const { params, grads } = batch.trainable;
    const adam = optimizer.kind === "adam" ? this.#adamFor(params) : null;
    const perRead = Math.max(1, Math.floor(batch.lossSlots / nAccum));
    const losses: number[][] = clients.map(() => []);
    const finite = clients.map(() => true);
    for (let first = 0; first < steps; first += perRead) {
      const group = orders.map((o) => o.slice(first, first + perRead));
      let slot = 0;
      for (let step = 0; step < group[0]!.length; step++) {
        const perModel = group.map((g, b) => g[step]!.map((i) => clients[b]![i]!));
        await batch.recordLossAndGrad(perModel, slot);
        slot += nAccum;
        await this.#step(params, grads, adam);
      }
      const values = await batch.readStepLosses(n, slot);
      for (let b = 0; b < n; b++) {
        if (finite[b]) finite[b] = addStepMeans(losses[b]!, values[b]!, group[b]!.length, nAccum);
      }
    }
    return losses.map((l, b) => localResult(l, finite[b]!));
  }

  /** One optimiser step of `params` along `grads` (Adam with its moments `adam`). */
  async #step(params: GpuVector, grads: GpuVector, adam: AdamState | null): Promise<void> {
    const optimizer = this.options.optimizer;
    if (optimizer.kind === "sgd") {
      await sgdStep(params, grads, { lr: optimizer.lr, weightDecay: optimizer.weightDecay ?? 0 });
    } else {
      await adamStep(params, grads, adam!, optimizer);
    }
  }

  /** Frees the Adam moments. */
  destroy(): void {
    this.#adam?.m.destroy();
    this.#adam?.v.destroy();
    this.#adam = null;
  }
}
