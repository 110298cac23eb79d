/**
 * FedAvg's server (McMahan et al. 2017; paper.md §6), shared by every
 * algorithm whose clients upload their whole update Δ_i = w − w_i on the
 * GPU (FedAvg, the PEFT baselines, FedZO):
 *
 *     w ← w − η_g Σ_i (w_i / W) Δ_i,   W = Σ_kept w_i,
 *
 * with Σ_i w_i Δ_i summed as the uploads arrive (one d-vector however many
 * clients) and the renormalisation 1/W folded into the final step.
 *
 * @module
 */

import type { GpuVector } from "../../gpu/vector.ts";
import { axpy } from "../../gpu/axpy.ts";
import type { TrainMode } from "../../model/peft/adapter.ts";
import type { Transformer } from "../../model/transformer.ts";
import type {
  Aggregation,
  ClientOutcome,
  ClientWork,
  FederatedAlgorithm,
  MessageSize,
  RunStreams,
} from "../types.ts";

/** A client's upload: its update Δ_i = w − w_i on the GPU (until the next round). */
export interface ModelUpdate {
  /** Δ_i. */
  readonly delta: GpuVector;
}

/** What the server broadcasts: the averaged update (applied as w ← w + scale·sum). */
export interface AveragedUpdate {
  /** Σ_i w_i Δ_i. */
  readonly sum: GpuVector;
  /** −η_g / W. */
  readonly scale: number;
}

/**
 * The weighted average of model updates, with a global learning rate.
 *
 * @example
 * ```ts
 * import { ModelAverage } from "./model_average.ts";
 * import { Gpu } from "../../gpu/gpu.ts";
 * import { GpuVector } from "../../gpu/vector.ts";
 * const gpu = await Gpu.create();
 * const w = GpuVector.from(gpu, new Float32Array([10, 10]));
 * const server = new ModelAverage(w, 2, 1);
 * const aggregation = server.aggregator();
 * await aggregation.add({ delta: GpuVector.from(gpu, new Float32Array([1, 0])) }, 0.25);
 * await aggregation.add({ delta: GpuVector.from(gpu, new Float32Array([0, 4])) }, 0.25);
 * await server.apply(await aggregation.finish(0.5), w); // weights renormalised to 1/2, 1/2
 * console.log(await w.read()); // Float32Array(2) [ 9.5, 8 ]
 * gpu.destroy();
 * ```
 */
export class ModelAverage {
  /** η_g. */
  readonly globalLr: number;
  /** Parameters d a message carries. */
  readonly parameters: number;
  readonly #sum: GpuVector;

  /** For updates of `parameters` values, stored shaped like `shape`. */
  constructor(shape: GpuVector, parameters: number, globalLr: number) {
    if (!Number.isFinite(globalLr) || globalLr <= 0) {
      throw new RangeError(`Cannot average updates with global learning rate ${globalLr}`);
    }
    this.globalLr = globalLr;
    this.parameters = parameters;
    this.#sum = shape.like("update sum");
  }

  /** A round's aggregation: Σ w_i Δ_i, then the scale −η_g / W. */
  aggregator(): Aggregation<ModelUpdate, AveragedUpdate> {
    const sum = this.#sum;
    sum.clear();
    return {
      add: (upload, weight) => axpy(weight, upload.delta, sum),
      finish: (weightTotal) => Promise.resolve({ sum, scale: -this.globalLr / weightTotal }),
    };
  }

  /** w ← w + scale · Σ w_i Δ_i. */
  async apply(broadcast: AveragedUpdate, global: GpuVector): Promise<Record<string, number>> {
    await axpy(broadcast.scale, broadcast.sum, global);
    return {};
  }

  /** Every message carries the whole trainable vector: d scalars. */
  size(): MessageSize {
    return { scalars: this.parameters, seeds: 0 };
  }

  /** Frees the sum. */
  destroy(): void {
    this.#sum.destroy();
  }
}

/**
 * The server side of every algorithm that averages whole updates (FedAvg,
 * the PEFT baselines, FedZO): a subclass sets `server` in its setup and
 * supplies the client work.
 *
 * @example
 * ```ts
 * import { ModelAveraging } from "./model_average.ts";
 * import { fedAvg } from "./fed_avg.ts";
 * import { fedZo } from "./fed_zo.ts";
 * const local = { steps: 1, optimizer: { kind: "sgd" as const, lr: 0.1 } };
 * console.log(fedAvg({ local }) instanceof ModelAveraging, fedZo() instanceof ModelAveraging); // true true
 * ```
 */
export abstract class ModelAveraging implements FederatedAlgorithm<ModelUpdate, AveragedUpdate> {
  /** Display name. */
  abstract readonly name: string;
  /** Stable id. */
  abstract readonly id: string;
  /** What trains and travels. */
  abstract readonly trains: TrainMode;
  /** The options it runs with. */
  abstract readonly options: Readonly<Record<string, unknown>>;
  /** The server's sum, set up by `setup`. */
  protected server: ModelAverage | null = null;

  /** Sets up the clients' work and `server`. */
  abstract setup(model: Transformer, run: RunStreams): Promise<void>;

  /** The clients' updates Δ_i = w − w_i. */
  abstract train(work: ClientWork): Promise<ClientOutcome<ModelUpdate>[]>;

  #server(): ModelAverage {
    if (!this.server) throw new TypeError(`Cannot run ${this.name} before setup`);
    return this.server;
  }

  /** Σ_i w_i Δ_i. */
  aggregator(): Aggregation<ModelUpdate, AveragedUpdate> {
    return this.#server().aggregator();
  }

  /** w ← w − η_g Σ_i (w_i / W) Δ_i. */
  apply(broadcast: AveragedUpdate, global: GpuVector): Promise<Record<string, number>> {
    return this.#server().apply(broadcast, global);
  }

  /** d scalars up. */
  uploadSize(): MessageSize {
    return this.#server().size();
  }

  /** d scalars down. */
  broadcastSize(): MessageSize {
    return this.#server().size();
  }

  /** Frees the server's sum. */
  destroy(): void {
    this.server?.destroy();
    this.server = null;
  }
}
