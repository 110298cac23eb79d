/**
 * FedZO (Fang et al., IEEE TSP 2022) as Ferret and FedKSeed run it as a
 * baseline (paper.md §6, §1.4; communication as in §3 Tables 4, 5, 10).
 *
 * Each local iteration estimates the gradient by finite differences
 * averaged over b₁ samples and b₂ random directions, then takes one SGD
 * step; after its local iterations a client sends its whole model (d
 * parameters) and the server averages the models (weighted by the
 * round's client weights). Ferret and FedKSeed use b₁ = 200, b₂ = 1, read
 * as "200 local update steps and 1 perturbation for each local update
 * step" with batch size 1: here `steps` = 200, `samples` (b₁ per
 * iteration) = 1, `directions` (b₂) = 1.
 *
 * Choices where FedZO's own text could not be read (paper.md §6 gives only
 * the general FD form (1/Q)Σ_q [f(x + λu_q) − f(x)]/λ · u_q):
 *
 * - **Directions** u ~ N(0, I_d), the same Gaussian directions as FedKSeed
 *   (whose authors ran the FedZO baseline), generated from a fresh 64-bit
 *   seed per direction drawn from the stream `client=<id>/directions`.
 *   E[uuᵀ] = I, so the estimator needs no d-scaling — the same expectation
 *   as the unit-sphere directions scaled by d that sphere-based FD
 *   estimators use.
 * - **Two-point forward difference** (`difference: "forward"`, default), the
 *   form above: g_j = [f(x + λu_j) − f(x)]/λ with the base value f(x)
 *   shared by the b₂ directions, b₂ + 1 forward passes per sample. A
 *   one-point estimator (a single evaluation) is not offered: its variance
 *   is far larger and nothing indicates the baseline used it. `central`
 *   gives the symmetric form [f(x + λu) − f(x − λu)]/(2λ) (2b₂ passes).
 *   λ = ε = 5·10⁻⁴, FedKSeed's perturbation.
 * - The step is w ← w − (η/b₂) Σ_j g_j·u_j with g_j the mean over the b₁
 *   samples; η = 3·10⁻⁷, the local learning rate the paper states for
 *   CodeAlpaca/GSM8K (a small model needs a larger η).
 *
 * Everything is recorded on the GPU without a readback per step
 * (src/fl/algorithms/_zo_step.ts); the server's averaging is done as
 * w ← w_r − Σ_i p_i (w_r − w_i) with p_i the weights renormalised over the
 * clients whose update is finite: FedAvg's server with η_g = 1
 * (src/fl/algorithms/model_average.ts).
 *
 * @module
 */

import type { TrainMode } from "../../model/peft/adapter.ts";
import type { Transformer } from "../../model/transformer.ts";
import { axpy } from "../../gpu/axpy.ts";
import type { ClientOutcome, ClientWork } from "../types.ts";
import { UpdateSlots } from "./client_update.ts";
import { ModelAverage, ModelAveraging, type ModelUpdate } from "./model_average.ts";
import { type AlgorithmProperties, FEDZO } from "./properties.ts";
import {
  dataOrder,
  type FiniteDifference,
  validateZoOptions,
  ZoClients,
  type ZoStepOptions,
} from "./_zo_step.ts";

export type { FiniteDifference } from "./_zo_step.ts";

/** Options of {@linkcode fedZo}. */
export interface FedZoOptions {
  /** Local learning rate η (default 3·10⁻⁷, paper.md §6). */
  readonly lr?: number;
  /** Perturbation λ = ε (default 5·10⁻⁴). */
  readonly eps?: number;
  /** Local iterations per client and round (default 200). */
  readonly steps?: number;
  /** b₁: sequences per iteration (default 1). */
  readonly samples?: number;
  /** b₂: directions per iteration (default 1). */
  readonly directions?: number;
  /** `forward` (default, FedZO's FD form) or `central`. */
  readonly difference?: FiniteDifference;
  /** Weight decay wd on all tensors but the norms (default 0). */
  readonly weightDecay?: number;
  /** Skip a direction whose |g| exceeds this (default 0: never). */
  readonly gradClip?: number;
}

/** Resolved options of a {@linkcode FedZo} run. */
export type FedZoSettings = {
  /** Local learning rate η. */
  readonly lr: number;
  /** Perturbation λ = ε. */
  readonly eps: number;
  /** Local iterations per client and round. */
  readonly steps: number;
  /** b₁: sequences per iteration. */
  readonly samples: number;
  /** b₂: directions per iteration. */
  readonly directions: number;
  /** Finite-difference form. */
  readonly difference: FiniteDifference;
  /** Weight decay wd. */
  readonly weightDecay: number;
  /** |g| above which a direction is skipped (0: never). */
  readonly gradClip: number;
};

/** What one client did in the last round (for checks and reports). */
export interface ZoClientRecord {
  /** Client id. */
  readonly client: number;
  /** The b₂ direction seeds of each iteration. */
  readonly seeds: readonly (readonly bigint[])[];
  /** The b₁ sequence indices of each iteration. */
  readonly order: readonly (readonly number[])[];
  /** g per (iteration, direction), 0 where skipped. */
  readonly g: Float32Array;
  /** 1 where the direction was skipped. */
  readonly skipped: Uint8Array;
  /** Whether its model was left out of the average. */
  readonly dropped: boolean;
}

function stepOptions(s: FedZoSettings): ZoStepOptions {
  return { ...s };
}

interface GpuState {
  readonly model: Transformer;
  readonly clients: ZoClients;
  readonly slots: UpdateSlots;
}

/**
 * FedZO (see the module doc). Create it with {@linkcode fedZo}.
 *
 * @example
 * ```ts
 * import { FedZo } from "./fed_zo.ts";
 * console.log(new FedZo({ samples: 4 }).options.samples); // 4
 * ```
 */
export class FedZo extends ModelAveraging {
  /** `FedZO`. */
  readonly name = "FedZO";
  /** `fedzo`. */
  readonly id = "fedzo";
  /** Full-parameter tuning. */
  readonly trains: TrainMode = "full";
  /** The resolved options. */
  readonly options: FedZoSettings;
  /** Table 1's declaration. */
  readonly properties: AlgorithmProperties = FEDZO;
  #gpu: GpuState | null = null;
  #last: ZoClientRecord[] = [];
  #lastRound = 0;

  /** Use {@linkcode fedZo}. */
  constructor(options: FedZoOptions = {}) {
    super();
    const s: FedZoSettings = {
      lr: options.lr ?? 3e-7,
      eps: options.eps ?? 5e-4,
      steps: options.steps ?? 200,
      samples: options.samples ?? 1,
      directions: options.directions ?? 1,
      difference: options.difference ?? "forward",
      weightDecay: options.weightDecay ?? 0,
      gradClip: options.gradClip ?? 0,
    };
    validateZoOptions("run FedZO", stepOptions(s));
    this.options = Object.freeze(s);
  }

  /** What each client did in the last round. */
  get lastRound(): readonly ZoClientRecord[] {
    return this.#last;
  }

  /** Allocates the stepper, the clients' updates and the server's sum. */
  setup(model: Transformer): Promise<void> {
    this.destroy();
    const params = model.trainable.params;
    this.#gpu = {
      model,
      clients: new ZoClients(model, stepOptions(this.options)),
      slots: new UpdateSlots(params.vector),
    };
    this.server = new ModelAverage(params.vector, params.layout.numParameters, 1);
    return Promise.resolve();
  }

  #state(model: Transformer): GpuState {
    const state = this.#gpu;
    if (!state) throw new TypeError("Cannot run a FedZO round before setup()");
    if (model !== state.model) {
      throw new TypeError("Cannot run a FedZO round on a model other than the one set up");
    }
    return state;
  }

  /** Local ZO iterations on every client from w; upload Δ_i = w − w_i. */
  async train(work: ClientWork): Promise<ClientOutcome<ModelUpdate>[]> {
    const { clients, slots } = this.#state(work.model);
    const { steps, samples, directions, lr } = this.options;
    if (work.round !== this.#lastRound) this.#last = [];
    this.#lastRound = work.round;
    const plans = work.clients.map((client) => {
      const seedStream = work.stream(`client=${client.id}/directions`);
      const seeds = Array.from(
        { length: steps },
        () =>
          Array.from(
            { length: directions },
            () => (BigInt(seedStream.u32()) << 32n) | BigInt(seedStream.u32()),
          ),
      );
      const flat = dataOrder(
        work.stream(`client=${client.id}/order`),
        client.sequences.length,
        steps * samples,
      );
      const order = seeds.map((_, t) => flat.slice(t * samples, (t + 1) * samples));
      return { seeds, order, sequences: order.map((o) => o.map((i) => client.sequences[i]!)) };
    });
    // Δ_i = w − w_i in slot i, from each client's trained parameters.
    const results = await clients.run(work.global, plans, async (slot, params) => {
      const delta = slots.slot(slot);
      work.global.copyTo(delta);
      await axpy(-1, params, delta);
    });
    return work.clients.map((client, slot) => {
      const { seeds, order } = plans[slot]!;
      const result = results[slot]!;
      // The update is Σ −(η/b₂)·g·u with |u| ≤ 5.8: finite g and a finite bound mean a finite model.
      let bound = 0;
      result.g.forEach((g) => (bound += Math.abs(g)));
      const dropped = !(Number.isFinite(bound) && (lr / directions) * bound * 5.8 < 1e38);
      this.#last.push({
        client: client.id,
        seeds,
        order,
        g: result.g,
        skipped: result.skipped,
        dropped,
      });
      const finite = Array.from(result.losses).filter(Number.isFinite);
      return {
        upload: dropped ? null : { delta: slots.slot(slot) },
        loss: finite.length ? finite.reduce((a, b) => a + b, 0) / finite.length : NaN,
        extra: {
          skippedDirections: result.skipped.reduce((a, b) => a + b, 0),
          batchedClients: result.batchedClients,
        },
      };
    });
  }

  /** Frees the GPU buffers. */
  override destroy(): void {
    super.destroy();
    const s = this.#gpu;
    if (!s) return;
    s.clients.destroy();
    s.slots.destroy();
    this.#gpu = null;
  }
}

/**
 * FedZO (see the module doc): paper.md §6.
 *
 * @example
 * ```ts
 * import { fedZo } from "./fed_zo.ts";
 * const algorithm = fedZo({ directions: 2 });
 * console.log(algorithm.name, algorithm.options.steps, algorithm.options.difference); // FedZO 200 forward
 * ```
 */
export function fedZo(options: FedZoOptions = {}): FedZo {
  return new FedZo(options);
}
