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
 * {@linkcode ZoClients} steps a round's clients together where the model
 * allows: a batch of models (src/model/model_batch.ts) whose every kernel —
 * the forward passes, the seeded perturbations, the coefficients — runs
 * once for all clients, each with its own seeds, data and scalars, and
 * each with the numbers it gets alone.
 *
 * @module
 */

import * as kernels from "../../../kernels/mod.ts";
import type { GpuVector } from "../../gpu/vector.ts";
import { packUniform } from "../../gpu/uniform.ts";
import { crossEntropyMean } from "../../model/ops/cross_entropy.ts";
import { forward, lossForward } from "../../model/passes.ts";
import type { Gpu } from "../../gpu/gpu.ts";
import { batchRefusal, ModelBatch } from "../../model/model_batch.ts";
import type { Tensors } from "../../model/passes.ts";
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
 * What zeroth-order steps run on: one model, or a batch of models stepped
 * together (src/model/model_batch.ts), each with its own seeds and data.
 */
interface ZoModels {
  readonly gpu: Gpu;
  /** Models stepped together. */
  readonly count: number;
  /** Their trainable vector. */
  readonly vector: GpuVector;
  /** Elements of one model, and from one model's to the next's (0 with one model). */
  readonly length: number;
  readonly stride: number;
  /** Tensor views of model 0 (weight decay scales each model's tensors). */
  readonly views: Tensors;
  /** Writes one sequence per model. */
  upload(sequences: readonly Sequence[]): void;
  /** Model m's mean loss on its uploaded sequence into (mean, count) pair `slot + m·slotStride` of `into`. */
  evaluate(into: GPUBuffer, slot: number, slotStride: number): Promise<void>;
}

/** One model's trainable vector and passes. */
function singleModel(model: Transformer): ZoModels {
  const vector = model.trainable.params.vector;
  let rows = 0;
  return {
    gpu: model.gpu,
    count: 1,
    vector,
    length: vector.length,
    stride: 0,
    views: model.params.views,
    upload: (sequences) => {
      rows = model.upload(sequences[0]!);
    },
    evaluate: async (into, slot) => {
      const a = model.activations;
      await forward(model.context, model.params.views, rows);
      await lossForward(model.context, rows);
      await crossEntropyMean(
        model.gpu,
        { result: into, losses: a.losses, labels: a.labels },
        { T: rows },
        { resultFirst: 2 * slot },
      );
    },
  };
}

/** Models 0 … count − 1 of a batch. */
function batchModels(batch: ModelBatch, count: number): ZoModels {
  return {
    gpu: batch.gpu,
    count,
    vector: batch.params,
    length: batch.layout.length,
    stride: batch.stride,
    views: batch.parameterViews(),
    upload: (sequences) => {
      batch.uploadEach(sequences);
    },
    evaluate: (into, slot, slotStride) => batch.recordLosses(into, slot, slotStride),
  };
}

/**
 * Records zeroth-order iterations on a model's trainable vector — or on
 * several models of a batch at once, each with its own seeds and data and
 * the numbers it would get alone — without reading anything back (see the
 * module doc).
 */
export class ZoStepper {
  /** The settings. */
  readonly options: ZoStepOptions;
  readonly #models: ZoModels;
  readonly #keys: GPUBuffer;
  readonly #coef: GPUBuffer;
  readonly #losses: GPUBuffer;
  readonly #records: GPUBuffer;
  readonly #evals: number;
  /** Per model: seeds, coefficient slots, evaluation pairs and records. */
  readonly #strides: { keys: number; coef: number; losses: number; records: number };
  #recorded = 0;

  private constructor(models: ZoModels, options: ZoStepOptions) {
    this.options = options;
    this.#models = models;
    const { gpu, count } = models;
    const slots = CONSTANT_SLOTS + options.directions + 1;
    this.#evals = evaluationsPerStep(options);
    this.#strides = {
      keys: options.steps * options.directions,
      coef: slots,
      losses: options.steps * this.#evals,
      records: options.steps * options.directions,
    };
    this.#keys = gpu.buffer(8 * count * this.#strides.keys, "zo seed keys");
    const eps = Math.fround(options.eps);
    const constants = new Float32Array(count * slots);
    for (let m = 0; m < count; m++) {
      constants.set([eps, -2 * eps, -eps, 0], m * slots);
      constants[m * slots + slots - 1] = 1;
    }
    this.#coef = gpu.upload(constants, "zo coefficients");
    this.#losses = gpu.buffer(8 * count * this.#strides.losses, "zo losses");
    this.#records = gpu.buffer(8 * count * this.#strides.records, "zo records");
  }

  /** Checks `options` and allocates the buffers for `model`'s trainable vector. */
  static create(model: Transformer, options: ZoStepOptions): ZoStepper {
    validateZoOptions("create a zeroth-order stepper", options);
    if (model.train !== "full") {
      throw new TypeError(
        `Cannot run zeroth-order steps on "${model.train}": the baselines tune the full model`,
      );
    }
    return new ZoStepper(singleModel(model), options);
  }

  /** Checks `options` and allocates the buffers for models 0 … count − 1 of `batch`. */
  static forBatch(batch: ModelBatch, count: number, options: ZoStepOptions): ZoStepper {
    validateZoOptions("create a zeroth-order stepper", options);
    if (!Number.isInteger(count) || count < 1 || count > batch.count) {
      throw new RangeError(`Cannot step ${count} models of a batch of ${batch.count}`);
    }
    return new ZoStepper(batchModels(batch, count), options);
  }

  /** Models stepped together. */
  get count(): number {
    return this.#models.count;
  }

  /** w += coef[slot]·z_j for every model, z_j the direction of its seed j of this iteration. */
  async #perturb(j: number, slot: number): Promise<void> {
    const { vector, count, length, stride } = this.#models;
    const seedBase = this.#recorded * this.options.directions + j;
    const s = this.#strides;
    await replaySeeds(vector, this.#keys, this.#coef, 1, {
      seedBase,
      coefBase: slot,
      ...(stride > 0
        ? { models: { count, length, stride, keyStride: s.keys, coefStride: s.coef } }
        : {}),
    });
  }

  /**
   * Records iteration number {@linkcode ZoStepper.recorded} (0-based since
   * the last read) of one model: one direction per seed in `seeds` (b₂ of
   * them), on the b₁ `sequences`.
   */
  record(seeds: readonly Seed[], sequences: readonly Sequence[]): Promise<void> {
    return this.recordEach([seeds], [sequences]);
  }

  /**
   * Records iteration number {@linkcode ZoStepper.recorded} of every model:
   * model m's b₂ directions from `seeds[m]`, on its b₁ `sequences[m]`.
   */
  async recordEach(
    seeds: readonly (readonly Seed[])[],
    sequences: readonly (readonly Sequence[])[],
  ): Promise<void> {
    const { samples: b1, directions: b2, difference, weightDecay } = this.options;
    const models = this.#models;
    const n = models.count;
    if (seeds.length !== n || sequences.length !== n) {
      throw new TypeError(
        `Cannot record a zeroth-order step of ${n} models with ${seeds.length} seed lists and ` +
          `${sequences.length} sequence lists`,
      );
    }
    for (let m = 0; m < n; m++) {
      if (seeds[m]!.length !== b2 || sequences[m]!.length !== b1) {
        throw new TypeError(
          `Cannot record a zeroth-order step with ${seeds[m]!.length} seeds and ` +
            `${sequences[m]!.length} sequences: expected ${b2} and ${b1}`,
        );
      }
    }
    const t = this.#recorded;
    if (t >= this.options.steps) {
      throw new RangeError(
        `Cannot record step ${t + 1}: the stepper holds ${this.options.steps} steps between reads`,
      );
    }
    const base = t * this.#evals;
    const s = this.#strides;
    for (let m = 0; m < n; m++) {
      models.gpu.write(
        this.#keys,
        seedKeys(seeds[m]!).subarray(0, 2 * b2),
        8 * (m * s.keys + t * b2),
      );
    }
    const sample = (i: number) => sequences.map((mine) => mine[i]!);
    // One sample: upload once per iteration; several: before each evaluation.
    if (b1 === 1) models.upload(sample(0));
    const evaluateAll = async (first: number) => {
      for (let i = 0; i < b1; i++) {
        if (b1 > 1) models.upload(sample(i));
        await models.evaluate(this.#losses, base + first + i, s.losses);
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
    await models.gpu.dispatch({
      kernel: kernels.zoCoefficient,
      storage: [this.#coef, this.#records, this.#losses],
      uniform: packUniform([
        ["u", t],
        ["u", this.#evals],
        ["u", b1],
        ["u", b2],
        ["u", difference === "forward" ? 1 : 0],
        ["u", combine ? 1 : 0],
        ["u", s.coef],
        ["u", 2 * s.records],
        ["f", this.options.eps],
        ["f", this.options.lr],
        ["f", this.options.gradClip],
        ["f", this.options.lr * weightDecay],
        ["u", 2 * s.losses],
      ]),
      workgroups: n,
    });
    if (!combine) {
      await this.#perturb(b2 - 1, difference === "central" ? 0 : 2);
      await this.#decay();
    }
    for (let j = 0; j < b2; j++) await this.#perturb(j, CONSTANT_SLOTS + j);
    this.#recorded++;
  }

  /** w ← f·w on every tensor but the norms of every model, f = 1 − η·wd from its coefficients. */
  async #decay(): Promise<void> {
    const { gpu, views, count, stride } = this.#models;
    for (let m = 0; m < count; m++) {
      const slot = m * this.#strides.coef + CONSTANT_SLOTS + this.options.directions;
      for (const view of views.values()) {
        if (view.kind === "norm" || view.kind === "bias") continue;
        const n4 = Math.ceil(view.numel / 4);
        const { perLane, workgroups } = laneLayout(n4);
        await gpu.dispatch({
          kernel: kernels.zoScale,
          constants: { WG: LANES_PER_WORKGROUP },
          storage: [
            {
              buffer: view.binding.buffer,
              offset: view.binding.offset + 4 * m * stride,
              size: n4 * 16,
            },
            this.#coef,
          ],
          uniform: new Uint32Array([n4, perLane, slot, 0]),
          workgroups,
        });
      }
    }
  }

  /** Iterations recorded since the last read. */
  get recorded(): number {
    return this.#recorded;
  }

  /** Reads the scalars of the iterations since the last read (one readback) and starts over. */
  async read(): Promise<ZoRecords> {
    return (await this.readEach())[0]!;
  }

  /** Each model's scalars of the iterations since the last read (one readback for all). */
  async readEach(): Promise<ZoRecords[]> {
    const count = this.#recorded;
    this.#recorded = 0;
    const { directions: b2, samples: b1, difference } = this.options;
    const n = this.#models.count;
    if (count === 0) {
      return Array.from({ length: n }, () => ({
        losses: new Float64Array(0),
        g: new Float32Array(0),
        skipped: new Uint8Array(0),
      }));
    }
    const s = this.#strides;
    const [lossBytes, recordBytes] = await this.#models.gpu.readMany([
      { buffer: this.#losses, size: 8 * n * s.losses },
      { buffer: this.#records, size: 8 * n * s.records },
    ]);
    const allPairs = new Float32Array(lossBytes!);
    const allRecords = new Float32Array(recordBytes!);
    const used = difference === "central" ? this.#evals : b1;
    return Array.from({ length: n }, (_, m) => {
      const pairs = allPairs.subarray(2 * m * s.losses);
      const records = allRecords.subarray(2 * m * s.records);
      const losses = new Float64Array(count);
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
    });
  }

  /** Frees the GPU buffers (not the models). */
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

/** One client's records, and how many clients were stepped in one batch with it (1: alone). */
export type ZoClientRecords = ZoRecords & { readonly batchedClients: number };

/** One client's zeroth-order iterations: per step, its b₂ seeds and its b₁ sequences. */
export interface ZoClientPlan {
  readonly seeds: readonly (readonly Seed[])[];
  readonly sequences: readonly (readonly Sequence[])[];
}

/**
 * The zeroth-order client work of FedKSeed and FedZO: each client's
 * iterations from the round's model, as one batch of models
 * (src/model/model_batch.ts: one dispatch per kernel for all, one readback)
 * where the model allows, one client after another otherwise; each client
 * gets the same numbers either way.
 *
 * @example
 * ```ts
 * import { ZoClients } from "./_zo_step.ts";
 * import { Gpu } from "../../gpu/gpu.ts";
 * import { PRESETS } from "../../model/presets.ts";
 * import { Transformer } from "../../model/transformer.ts";
 * const gpu = await Gpu.create();
 * const model = await Transformer.create(gpu, PRESETS.ci, { maxTokens: 8 });
 * const options = {
 *   eps: 1e-3, lr: 1e-4, weightDecay: 0, gradClip: 0, difference: "central" as const,
 *   samples: 1, directions: 1, steps: 1,
 * };
 * const clients = new ZoClients(model, options);
 * const sequence = { tokens: new Int32Array([256, 72, 105]), targets: new Int32Array([72, 105, 257]) };
 * const plan = { seeds: [[7]], sequences: [[sequence]] };
 * const records = await clients.run(model.trainable.params.vector.like("w"), [plan, plan]);
 * console.log(records.length, records[0]!.g[0] === records[1]!.g[0]); // 2 true
 * clients.destroy();
 * gpu.destroy();
 * ```
 */
export class ZoClients {
  readonly #model: Transformer;
  readonly #options: ZoStepOptions;
  readonly #single: ZoStepper;
  #batch: ModelBatch | null = null;
  #batchStepper: ZoStepper | null = null;

  readonly #batched: boolean;

  /**
   * Steps on `model`'s trainable vector with `options` (`steps`: each
   * client's iterations); `batch: false` keeps to one client at a time.
   */
  constructor(model: Transformer, options: ZoStepOptions, settings: { batch?: boolean } = {}) {
    this.#model = model;
    this.#options = options;
    this.#single = ZoStepper.create(model, options);
    this.#batched = settings.batch ?? true;
  }

  /**
   * Runs every client's plan from `from` and returns its records, in
   * order; `finish(i, params)` sees client i's trained parameters (in the
   * model's trainable vector) before the next client's are there.
   */
  async run(
    from: GpuVector,
    plans: readonly ZoClientPlan[],
    finish?: (client: number, params: GpuVector) => Promise<void>,
  ): Promise<ZoClientRecords[]> {
    const params = this.#model.trainable.params.vector;
    const records: ZoClientRecords[] = [];
    const capacity = plans.length > 1 ? this.#capacity() : 0;
    if (capacity < 2) {
      for (const [i, plan] of plans.entries()) {
        from.copyTo(params);
        for (let t = 0; t < plan.seeds.length; t++) {
          await this.#single.record(plan.seeds[t]!, plan.sequences[t]!);
        }
        records.push({ ...await this.#single.read(), batchedClients: 1 });
        await finish?.(i, params);
      }
      return records;
    }
    for (let first = 0; first < plans.length; first += capacity) {
      const part = plans.slice(first, first + capacity);
      const { batch, stepper } = this.#batchFor(part.length);
      part.forEach((_, b) => batch.load(b, from));
      const steps = part[0]!.seeds.length;
      if (part.some((p) => p.seeds.length !== steps || p.sequences.length !== steps)) {
        throw new RangeError("Cannot step clients taking different numbers of iterations together");
      }
      for (let t = 0; t < steps; t++) {
        await stepper.recordEach(part.map((p) => p.seeds[t]!), part.map((p) => p.sequences[t]!));
      }
      for (const r of await stepper.readEach()) records.push({ ...r, batchedClients: part.length });
      if (finish) {
        for (let b = 0; b < part.length; b++) {
          batch.store(b, params);
          await finish(first + b, params);
        }
      }
    }
    return records;
  }

  /** Clients one batch takes (0: the model cannot be batched). */
  #capacity(): number {
    const model = this.#model;
    if (
      !this.#batched || model.train !== "full" || model.adapter ||
      model.trainable.params.vector.chunks.length !== 1 || batchRefusal(model.config)
    ) {
      return 0;
    }
    return ModelBatch.capacity(model.gpu, model.config, model.maxTokens);
  }

  /** A batch holding at least `n` models, and a stepper of exactly `n`. */
  #batchFor(n: number): { batch: ModelBatch; stepper: ZoStepper } {
    const model = this.#model;
    if (!this.#batch || this.#batch.count < n) {
      this.#batch?.destroy();
      this.#batchStepper?.destroy();
      this.#batchStepper = null;
      this.#batch = ModelBatch.create(model.gpu, model.config, {
        count: n,
        maxTokens: model.maxTokens,
      });
    }
    if (!this.#batchStepper || this.#batchStepper.count !== n) {
      this.#batchStepper?.destroy();
      this.#batchStepper = ZoStepper.forBatch(this.#batch, n, this.#options);
    }
    return { batch: this.#batch, stepper: this.#batchStepper };
  }

  /** Frees the steppers and the batch. */
  destroy(): void {
    this.#single.destroy();
    this.#batchStepper?.destroy();
    this.#batch?.destroy();
    this.#batchStepper = null;
    this.#batch = null;
  }
}
