/**
 * The zeroth-order local step shared by FedKSeed and FedZO (paper.md §6),
 * recorded entirely on the GPU: a seed's direction z ~ N(0, I) is basis 0
 * of block 0 of a one-block Gaussian plan over the whole trainable vector
 * (the wire format of src/random/basis.ts: `BasisPlan.reconstruct` with
 * K_l = 1 gives the same numbers), generated in registers by the one-seed
 * replay of `kernels/zo_replay.wgsl` (whole-vec4 accesses, cheaper than the
 * general tiled reconstruction for a single basis); losses land in a GPU
 * buffer, and the finite-difference scalar g and the
 * update coefficient are computed by `kernels/zo_coefficient.wgsl`. A local
 * step therefore needs no readback; a client's scalars are read back once,
 * after its last step ({@linkcode ZoStepper.read}).
 *
 * One iteration with b₁ samples and b₂ directions z_j (seed s_j each):
 *
 * - `central` (FedKSeed): w += εz_j, evaluate; w −= 2εz_j, evaluate;
 *   g_j = [L(w + εz_j) − L(w − εz_j)]/(2ε).
 * - `forward` (the general FD form of FedZO, paper.md §6): evaluate L(w)
 *   once, then w += εz_j, evaluate; g_j = [L(w + εz_j) − L(w)]/ε.
 *
 * L is the mean over the b₁ samples of each sequence's mean response-token
 * loss. Then w ← (1 − η·wd)·w − (η/b₂) Σ_j g_j·z_j. With wd = 0 the restore
 * of the last perturbation and the update are one reconstruction (its
 * coefficient, e.g. ε − η·g, comes from the GPU), so a FedKSeed step is
 * three reconstructions and two forward passes. Weight decay skips the
 * RMSNorm weights (FedKSeed's optimiser skips biases and norms) and is
 * applied only when a direction was taken. A direction whose g is not
 * finite, or exceeds `gradClip` in magnitude when that is > 0, is skipped
 * (g := 0), as FedKSeed's optimiser drops such steps.
 *
 * The directions cover the whole trainable vector, the alignment gaps
 * between tensors included: the model never reads the gaps, so they only
 * change what the perturbation does to memory, not the loss.
 *
 * @module
 */

import * as kernels from "../../../kernels/mod.ts";
import type { GpuVector } from "../../gpu/vector.ts";
import { packUniform } from "../../gpu/uniform.ts";
import { crossEntropyMean } from "../../model/ops/cross_entropy.ts";
import { forward, lossForward } from "../../model/passes.ts";
import type { Sequence, Transformer } from "../../model/transformer.ts";
import type { Seed } from "../../random/basis.ts";
import type { RandomStream } from "../../random/stream.ts";
import { laneLayout, LANES_PER_WORKGROUP } from "../../gpu/lanes.ts";
import { replaySeeds, seedKeys } from "./_zo_replay.ts";

/** Finite-difference form: symmetric two-point (FedKSeed) or forward from L(w) (FedZO). */
export type FiniteDifference = "central" | "forward";

/** Settings of a {@linkcode ZoStepper}. */
export interface ZoStepOptions {
  /** Perturbation size ε (> 0). */
  readonly eps: number;
  /** Local learning rate η (≥ 0). */
  readonly lr: number;
  /** Weight decay wd (≥ 0), on every tensor but the RMSNorm weights. */
  readonly weightDecay: number;
  /** Skip a direction whose |g| exceeds this (≤ 0: never). */
  readonly gradClip: number;
  /** Finite-difference form. */
  readonly difference: FiniteDifference;
  /** b₁: sequences per iteration (≥ 1). */
  readonly samples: number;
  /** b₂: directions per iteration (≥ 1). */
  readonly directions: number;
  /** Most iterations recorded between two reads (sizes the GPU buffers). */
  readonly steps: number;
}

/** What {@linkcode ZoStepper.read} returns for the iterations since the last read. */
export interface ZoRecords {
  /**
   * Per iteration, the loss at w: the mean of L(w ± εz) over directions
   * and samples (`central`) or L(w) (`forward`); NaN where not finite.
   */
  readonly losses: Float64Array;
  /** g per (iteration, direction), row-major; 0 where the direction was skipped. */
  readonly g: Float32Array;
  /** 1 where the direction was skipped. */
  readonly skipped: Uint8Array;
}

/** Slots of the coefficient buffer: the constants ε, −2ε, −ε, then b₂ updates and the decay. */
const CONSTANT_SLOTS = 4;

/** Throws a RangeError unless `options` are usable. */
export function validateZoOptions(action: string, options: ZoStepOptions): void {
  const { eps, lr, weightDecay, gradClip, samples, directions, steps } = options;
  if (!(eps > 0 && Number.isFinite(eps))) {
    throw new RangeError(`Cannot ${action}: ε must be positive and finite, got ${eps}`);
  }
  for (const [name, value] of [["lr", lr], ["weightDecay", weightDecay]] as const) {
    if (!(value >= 0 && Number.isFinite(value))) {
      throw new RangeError(`Cannot ${action}: ${name} must be finite and ≥ 0, got ${value}`);
    }
  }
  if (!Number.isFinite(gradClip)) {
    throw new RangeError(`Cannot ${action}: gradClip must be finite, got ${gradClip}`);
  }
  for (const [name, value] of [["samples", samples], ["directions", directions]] as const) {
    if (!Number.isInteger(value) || value < 1 || value > 64) {
      throw new RangeError(`Cannot ${action}: ${name} must be an integer 1 … 64, got ${value}`);
    }
  }
  if (!Number.isInteger(steps) || steps < 1 || steps > 1e6) {
    throw new RangeError(`Cannot ${action}: steps must be an integer 1 … 10⁶, got ${steps}`);
  }
  if (options.difference !== "central" && options.difference !== "forward") {
    throw new TypeError(
      `Cannot ${action}: difference must be "central" or "forward", got "${options.difference}"`,
    );
  }
}

/** Evaluations per iteration: 2·b₂·b₁ (`central`) or (b₂ + 1)·b₁ (`forward`). */
export function evaluationsPerStep(options: ZoStepOptions): number {
  const { samples, directions } = options;
  return options.difference === "central" ? 2 * directions * samples : (directions + 1) * samples;
}

/**
 * Records zeroth-order iterations on a model's trainable vector without
 * reading anything back (see the module doc).
 */
export class ZoStepper {
  /** The model whose trainable vector is stepped. */
  readonly model: Transformer;
  /** The settings. */
  readonly options: ZoStepOptions;
  readonly #vector: GpuVector;
  readonly #keys: GPUBuffer;
  readonly #coef: GPUBuffer;
  readonly #losses: GPUBuffer;
  readonly #records: GPUBuffer;
  readonly #evals: number;
  #recorded = 0;

  private constructor(model: Transformer, options: ZoStepOptions) {
    this.model = model;
    this.options = options;
    const gpu = model.gpu;
    this.#vector = model.trainable.params.vector;
    this.#keys = gpu.buffer(8 * options.steps * options.directions, "zo seed keys");
    const eps = Math.fround(options.eps);
    const slots = CONSTANT_SLOTS + options.directions + 1;
    const constants = new Float32Array(slots);
    constants.set([eps, -2 * eps, -eps, 0]);
    constants[slots - 1] = 1;
    this.#coef = gpu.upload(constants, "zo coefficients");
    this.#evals = evaluationsPerStep(options);
    this.#losses = gpu.buffer(8 * options.steps * this.#evals, "zo losses");
    this.#records = gpu.buffer(8 * options.steps * options.directions, "zo records");
  }

  /** Checks `options` and allocates the buffers for `model`'s trainable vector. */
  static create(model: Transformer, options: ZoStepOptions): ZoStepper {
    validateZoOptions("create a zeroth-order stepper", options);
    if (model.train !== "full") {
      throw new TypeError(
        `Cannot run zeroth-order steps on "${model.train}": the baselines tune the full model`,
      );
    }
    return new ZoStepper(model, options);
  }

  /** Evaluation `e` of the current iteration on sample `i` (already uploaded, T rows). */
  async #evaluate(slot: number, rows: number): Promise<void> {
    const model = this.model;
    const gpu = model.gpu;
    const a = model.activations;
    await forward(model.context, model.params.views, rows);
    await lossForward(model.context, rows);
    // activations.delta is free outside the backward pass (Transformer uses it the same way).
    await crossEntropyMean(gpu, { result: a.delta, losses: a.losses, labels: a.labels }, {
      T: rows,
    });
    gpu.copy(a.delta, 0, this.#losses, 8 * slot, 8);
  }

  /** w += coef[slot]·z_j, z_j the direction of this iteration's seed j. */
  async #perturb(j: number, slot: number): Promise<void> {
    const seedBase = this.#recorded * this.options.directions + j;
    await replaySeeds(this.#vector, this.#keys, this.#coef, 1, { seedBase, coefBase: slot });
  }

  /**
   * Records iteration number {@linkcode ZoStepper.recorded} (0-based since
   * the last read): one direction per seed in `seeds` (b₂ of them), on the
   * b₁ `sequences`.
   */
  async record(seeds: readonly Seed[], sequences: readonly Sequence[]): Promise<void> {
    const { samples: b1, directions: b2, difference, weightDecay } = this.options;
    if (seeds.length !== b2 || sequences.length !== b1) {
      throw new TypeError(
        `Cannot record a zeroth-order step with ${seeds.length} seeds and ${sequences.length} ` +
          `sequences: expected ${b2} and ${b1}`,
      );
    }
    const t = this.#recorded;
    if (t >= this.options.steps) {
      throw new RangeError(
        `Cannot record step ${t + 1}: the stepper holds ${this.options.steps} steps between reads`,
      );
    }
    const base = t * this.#evals;
    this.model.gpu.write(this.#keys, seedKeys(seeds).subarray(0, 2 * b2), 8 * t * b2);
    // One sample: upload once per iteration; several: before each evaluation.
    const rows = sequences.map(() => 0);
    if (b1 === 1) rows[0] = this.model.upload(sequences[0]!);
    const evaluateAll = async (first: number) => {
      for (let i = 0; i < b1; i++) {
        if (b1 > 1) rows[i] = this.model.upload(sequences[i]!);
        await this.#evaluate(base + first + i, rows[i]!);
      }
    };
    if (difference === "central") {
      for (let j = 0; j < b2; j++) {
        await this.#perturb(j, 0); // w + εz
        await evaluateAll(2 * j * b1);
        await this.#perturb(j, 1); // w − εz
        await evaluateAll((2 * j + 1) * b1);
        if (j < b2 - 1) await this.#perturb(j, 0); // back to w
      }
    } else {
      await evaluateAll(0);
      for (let j = 0; j < b2; j++) {
        await this.#perturb(j, 0); // w + εz
        await evaluateAll((1 + j) * b1);
        if (j < b2 - 1) await this.#perturb(j, 2); // back to w
      }
    }
    const combine = weightDecay === 0;
    await this.model.gpu.dispatch({
      kernel: kernels.zoCoefficient,
      storage: [this.#coef, this.#records, this.#losses],
      uniform: packUniform([
        ["u", t],
        ["u", this.#evals],
        ["u", b1],
        ["u", b2],
        ["u", difference === "forward" ? 1 : 0],
        ["u", combine ? 1 : 0],
        ["u", 0],
        ["u", 0],
        ["f", this.options.eps],
        ["f", this.options.lr],
        ["f", this.options.gradClip],
        ["f", this.options.lr * weightDecay],
      ]),
      workgroups: 1,
    });
    if (!combine) {
      await this.#perturb(b2 - 1, difference === "central" ? 0 : 2);
      await this.#decay();
    }
    for (let j = 0; j < b2; j++) await this.#perturb(j, CONSTANT_SLOTS + j);
    this.#recorded++;
  }

  /** w ← f·w on every tensor but the norms, f = 1 − η·wd from the coefficient buffer. */
  async #decay(): Promise<void> {
    const slot = CONSTANT_SLOTS + this.options.directions;
    for (const view of this.model.params.views.values()) {
      if (view.kind === "norm" || view.kind === "bias") continue;
      const n4 = Math.ceil(view.numel / 4);
      const { perLane, workgroups } = laneLayout(n4);
      await this.model.gpu.dispatch({
        kernel: kernels.zoScale,
        constants: { WG: LANES_PER_WORKGROUP },
        storage: [
          { buffer: view.binding.buffer, offset: view.binding.offset, size: n4 * 16 },
          this.#coef,
        ],
        uniform: new Uint32Array([n4, perLane, slot, 0]),
        workgroups,
      });
    }
  }

  /** Iterations recorded since the last read. */
  get recorded(): number {
    return this.#recorded;
  }

  /** Reads the scalars of the iterations since the last read (one readback) and starts over. */
  async read(): Promise<ZoRecords> {
    const count = this.#recorded;
    this.#recorded = 0;
    const { directions: b2, samples: b1, difference } = this.options;
    if (count === 0) {
      return { losses: new Float64Array(0), g: new Float32Array(0), skipped: new Uint8Array(0) };
    }
    const [lossBytes, recordBytes] = await this.model.gpu.readMany([
      { buffer: this.#losses, size: 8 * count * this.#evals },
      { buffer: this.#records, size: 8 * count * b2 },
    ]);
    const pairs = new Float32Array(lossBytes!);
    const records = new Float32Array(recordBytes!);
    const losses = new Float64Array(count);
    const used = difference === "central" ? this.#evals : b1;
    for (let t = 0; t < count; t++) {
      let sum = 0;
      for (let e = 0; e < used; e++) sum += pairs[2 * (t * this.#evals + e)]!;
      losses[t] = Number.isFinite(sum) ? sum / used : NaN;
    }
    const g = new Float32Array(count * b2);
    const skipped = new Uint8Array(count * b2);
    for (let r = 0; r < count * b2; r++) {
      g[r] = records[2 * r]!;
      skipped[r] = records[2 * r + 1]! === 0 ? 0 : 1;
    }
    return { losses, g, skipped };
  }

  /** Frees the GPU buffers (not the model). */
  destroy(): void {
    for (const b of [this.#coef, this.#losses, this.#records, this.#keys]) b.destroy();
  }
}

/** Inputs of {@linkcode zoCoefficientReference}: one iteration's evaluation means. */
export interface ZoCoefficientInput {
  /** The M per-sample mean losses of the iteration, in the kernel's slot order. */
  readonly losses: ArrayLike<number>;
  /** The settings (ε, η, wd, clip, difference, b₁, b₂). */
  readonly options: ZoStepOptions;
}

/**
 * Plain TypeScript reference of `kernels/zo_coefficient.wgsl` (f32
 * rounding): per direction g_j and whether it was skipped, the update
 * coefficients (with the last perturbation's restore folded in when
 * wd = 0) and the decay factor.
 *
 * @example
 * ```ts
 * import { zoCoefficientReference } from "./_zo_step.ts";
 * const options = {
 *   eps: 0.5, lr: 0.1, weightDecay: 0, gradClip: 0, difference: "central" as const,
 *   samples: 1, directions: 1, steps: 1,
 * };
 * const r = zoCoefficientReference({ losses: [3, 1], options });
 * console.log(r.g, r.coefficients); // [2] [0.3] (−0.1·2 + 0.5)
 * ```
 */
export function zoCoefficientReference(input: ZoCoefficientInput): {
  g: number[];
  skipped: boolean[];
  coefficients: number[];
  decay: number;
} {
  const f = Math.fround;
  const { eps, lr, gradClip, samples: b1, directions: b2, difference } = input.options;
  const L = input.losses;
  const mean = (first: number) => {
    let s = 0;
    for (let i = 0; i < b1; i++) s = f(s + L[first + i]!);
    return f(s / b1);
  };
  const g: number[] = [];
  const skipped: boolean[] = [];
  const coefficients: number[] = [];
  for (let j = 0; j < b2; j++) {
    const raw = difference === "forward"
      ? f(f(mean((1 + j) * b1) - mean(0)) / f(eps))
      : f(f(mean(2 * j * b1) - mean((2 * j + 1) * b1)) / f(2 * f(eps)));
    const ok = Number.isFinite(raw) && (gradClip <= 0 || Math.abs(raw) <= f(gradClip));
    g.push(ok ? raw : 0);
    skipped.push(!ok);
    coefficients.push(f(f(-f(lr) * (ok ? raw : 0)) / b2));
  }
  if (input.options.weightDecay === 0) {
    coefficients[b2 - 1] = f(coefficients[b2 - 1]! + (difference === "forward" ? -f(eps) : f(eps)));
  }
  const decay = skipped.every((s) => s) ? 1 : f(1 - f(lr * input.options.weightDecay));
  return { g, skipped, coefficients, decay };
}

/** Plain TypeScript reference of `kernels/zo_scale.wgsl`: `x ← f·x` in f32. */
export function zoScaleReference(x: Float32Array, factor: number): Float32Array {
  return x.map((v) => Math.fround(v * Math.fround(factor)));
}

/**
 * A client's data order for `count` draws: passes over its `n` sequences,
 * each in a fresh random order from `stream` (a shuffled data loader that
 * restarts when it runs out, as FedKSeed's clients iterate their loader).
 *
 * @example
 * ```ts
 * import { RandomStream } from "../../random/stream.ts";
 * import { dataOrder } from "./_zo_step.ts";
 * console.log(dataOrder(new RandomStream(1, "order"), 3, 7).length); // 7
 * ```
 */
export function dataOrder(stream: RandomStream, n: number, count: number): number[] {
  if (!Number.isInteger(n) || n < 1) {
    throw new RangeError(`Cannot order the data of a client with ${n} sequences`);
  }
  const order: number[] = [];
  const all = Array.from({ length: n }, (_, i) => i);
  while (order.length < count) order.push(...stream.shuffle(all));
  return order.slice(0, count);
}
