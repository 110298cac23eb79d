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
import type { Aggregation, MessageSize } from "../types.ts";

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

/** The weighted average of model updates, with a global learning rate. */
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
