/**
 * FedAvg (McMahan et al., AISTATS 2017; paper.md §6): every sampled client
 * trains locally from the global model and sends its whole trainable vector
 * (O(d) up); the server averages the updates with the round's weights and
 * sends the new model back (O(d) down):
 *
 *     w_{r+1} = w_r − η_g Σ_i p_i Δ_i,   Δ_i = w_r − w_r^(i) (after local training),
 *
 * p_i the aggregation weights renormalised over the clients whose update is
 * finite (src/fl/algorithms/model_average.ts), η_g the global learning rate (1 = plain averaging; the paper's
 * CodeAlpaca/GSM8K runs use 1.0, paper.md §5.2).
 *
 * The same aggregation on an adapter's vector gives the PEFT baselines
 * (src/fl/algorithms/peft.ts): only `trains` differs, and the ledger then
 * counts the adapter's scalars only.
 *
 * @module
 */

import type { TrainMode } from "../../model/peft/adapter.ts";
import type { Transformer } from "../../model/transformer.ts";
import type { LocalTrainingOptions } from "../local.ts";
import type { ClientOutcome, ClientWork } from "../types.ts";
import { ClientUpdates } from "./client_update.ts";
import { ModelAverage, ModelAveraging, type ModelUpdate } from "./model_average.ts";
import { type AlgorithmProperties, FEDAVG } from "./properties.ts";

/** Options of {@linkcode fedAvg}. */
export interface FedAvgOptions {
  /** Local training (the paper: one epoch of batch size 1; T = 10 steps for the cost tables). */
  readonly local: LocalTrainingOptions;
  /** Global learning rate η_g (default 1). */
  readonly globalLr?: number;
  /** What trains and travels (default `full`; an adapter kind for the PEFT baselines). */
  readonly trains?: TrainMode;
  /** Display name (default `FedAvg`). */
  readonly name?: string;
  /** Stable id (default `fedavg`, or `fedavg-<trains>`). */
  readonly id?: string;
  /** Table 1 properties (default FedAvg's for `full`, none for adapters). */
  readonly properties?: AlgorithmProperties;
}

/**
 * FedAvg (see the module doc); create it with {@linkcode fedAvg}.
 *
 * @example
 * ```ts
 * import { FedAvg } from "./fed_avg.ts";
 * const algorithm = new FedAvg({ local: { steps: 1, optimizer: { kind: "sgd", lr: 0.1 } }, trains: "lora" });
 * console.log(algorithm.id, algorithm.properties); // fedavg-lora undefined
 * ```
 */
export class FedAvg extends ModelAveraging {
  /** Display name. */
  readonly name: string;
  /** Stable id. */
  readonly id: string;
  /** What trains and travels. */
  readonly trains: TrainMode;
  /** Local training and η_g. */
  readonly options: Readonly<Record<string, unknown>>;
  /** Table 1's declaration (full-parameter FedAvg only). */
  readonly properties?: AlgorithmProperties;
  readonly #local: LocalTrainingOptions;
  readonly #globalLr: number;
  #clients: ClientUpdates | null = null;

  /** Use {@linkcode fedAvg}. */
  constructor(options: FedAvgOptions) {
    super();
    const globalLr = options.globalLr ?? 1;
    if (!Number.isFinite(globalLr) || globalLr <= 0) {
      throw new RangeError(`Cannot run FedAvg with global learning rate ${globalLr}`);
    }
    this.trains = options.trains ?? "full";
    this.name = options.name ?? "FedAvg";
    this.id = options.id ?? (this.trains === "full" ? "fedavg" : `fedavg-${this.trains}`);
    this.options = { ...options.local, globalLr, trains: this.trains };
    const properties = options.properties ?? (this.trains === "full" ? FEDAVG : undefined);
    if (properties) this.properties = properties;
    this.#local = options.local;
    this.#globalLr = globalLr;
  }

  /** Allocates the update vectors and the server's sum. */
  setup(model: Transformer): Promise<void> {
    this.destroy();
    if (model.train !== this.trains) model.train = this.trains;
    const params = model.trainable.params;
    this.#clients = new ClientUpdates(model, this.#local);
    this.server = new ModelAverage(params.vector, params.layout.numParameters, this.#globalLr);
    return Promise.resolve();
  }

  /** Step 2 on every client (together where the model allows): local training from w, upload Δ_i = w − w_i. */
  async train(work: ClientWork): Promise<ClientOutcome<ModelUpdate>[]> {
    const clients = this.#clients;
    if (!clients) throw new TypeError(`Cannot run ${this.name} before setup`);
    const updates = await clients.trainMany(work, work.clients);
    return updates.map((update) => ({
      upload: update.finite ? { delta: update.delta } : null,
      loss: update.local.meanLoss,
      updateNorm: update.norm,
      extra: { batchedClients: update.batchedClients },
    }));
  }

  /** Frees the buffers. */
  override destroy(): void {
    super.destroy();
    this.#clients?.destroy();
    this.#clients = null;
  }
}

/**
 * FedAvg over the model's trainable vector.
 *
 * @example
 * ```ts
 * import { fedAvg } from "./fed_avg.ts";
 * const algorithm = fedAvg({ local: { steps: 10, nAccum: 4, optimizer: { kind: "sgd", lr: 3e-4 } } });
 * console.log(algorithm.id, algorithm.trains); // fedavg full
 * ```
 */
export function fedAvg(options: FedAvgOptions): FedAvg {
  return new FedAvg(options);
}
