/**
 * Several models of one architecture trained together: every kernel of a
 * training step runs once for all of them, the model index in its grid
 * (src/model/ops/_common.ts `ModelRows`). On CPU adapters a dispatch costs
 * tens of µs whatever its work, so small models train several times faster
 * this way; the federated round offers the models for free (its sampled
 * clients start from one global model and train independently).
 *
 * The models' parameters sit in one vector, {@linkcode ModelBatch.stride}
 * elements apart (model b's tensor at b·stride past model 0's), and so do
 * their gradients; a pass holds every model's row one after another, each
 * padded to the longest (rounded up to a block of attention rows; padding
 * tokens carry no loss and add exact zeros to every gradient). Each model's numbers are bit for bit those of its
 * own {@linkcode Transformer} on the same sequences, because every kernel
 * computes a model's share exactly as a lone pass does
 * (tests/model/model_batch_test.ts).
 *
 * Gradient steps and forward losses (zeroth-order steps) of the full model,
 * or of an adapter per model over frozen models: LoRA (`lora`: FedIT's
 * clients), a soft prompt (`prompt`: FedPrompt's) or a P-tuning prefix
 * (`prefix`: FedPTuning's), the last two with one sequence per pass as a
 * lone model takes it; no KV cache, no attention biases.
 *
 * @module
 */

import type { Gpu } from "../gpu/gpu.ts";
import { GpuVector } from "../gpu/vector.ts";
import { type Activations, allocateActivations, destroyActivations } from "./activations.ts";
import { headDim, type ModelConfig, validateConfig } from "./config.ts";
import { batchStride, batchViews, type ParameterLayout, parameterLayout } from "./layout.ts";
import { crossEntropyMean } from "./ops/cross_entropy.ts";
import { LoraAdapter, type LoraOptions, loraSettings } from "./peft/lora.ts";
import { PrefixAdapter, type PrefixOptions } from "./peft/prefix.ts";
import { PromptAdapter, type PromptOptions } from "./peft/prompt.ts";
import { ropeTable } from "./ops/rope.ts";
import { packSequences, type Sequence, type StepRow } from "./pack.ts";
import { backward, forward, lossForward, type PassContext, type Tensors } from "./passes.ts";
import { checkSequence, segmentStarts } from "./transformer.ts";

/** Loss slots per model (a step's sequences, over the steps between readbacks). */
const SLOTS = 64;

/**
 * A model's rows in a pass come in multiples of this: the attention kernels
 * share key loops over blocks of 8 (subgroups) or 16 (portable) queries,
 * which must not span two models.
 */
const ROW_BLOCK = 16;

/** `T` rounded up to a multiple of {@linkcode ROW_BLOCK}. */
function blockRows(T: number): number {
  return Math.ceil(T / ROW_BLOCK) * ROW_BLOCK;
}

/** Options of {@linkcode ModelBatch.create}. */
export interface ModelBatchOptions {
  /** Models B (at most {@linkcode ModelBatch.capacity}). */
  readonly count: number;
  /** Longest row a model's pass takes (its packed sequences; a soft prompt's or prefix's rows not counted). */
  readonly maxTokens: number;
  /**
   * A LoRA adapter of these settings per model: the adapters train and the
   * models' parameters (the base, {@linkcode ModelBatch.loadBase}) stay
   * frozen. Absent (and no other adapter): the full models train.
   */
  readonly lora?: LoraOptions;
  /**
   * A soft prompt of these many tokens per model instead, trained over the
   * frozen models as `lora` is (only `tokens` counts: the prompts are zero
   * until loaded).
   */
  readonly prompt?: PromptOptions;
  /** A P-tuning prefix of these many rows per model instead, likewise. */
  readonly prefix?: PrefixOptions;
}

/** What a batch trains: one model's layout, and every model's values and gradients. */
export interface BatchTrainable {
  /** One model's layout (the full model's, or its adapter's). */
  readonly layout: ParameterLayout;
  /** Elements from one model's values to the next's. */
  readonly stride: number;
  /** Every model's values, model b at b·stride. */
  readonly params: GpuVector;
  /** Their gradients, laid out alike. */
  readonly grads: GpuVector;
}

/**
 * Why `config` cannot run as a batch of models (with a LoRA adapter of
 * `lora` each, when given), or null when it can.
 *
 * @example
 * ```ts
 * import { batchRefusal } from "./model_batch.ts";
 * import { PRESETS } from "./presets.ts";
 * console.log(batchRefusal(PRESETS.ci)); // null
 * console.log(batchRefusal({ ...PRESETS.ci, intermediateSize: 90 })); // the intermediate size 90 is not a multiple of 4
 * console.log(batchRefusal(PRESETS.ci, { rank: 2 })); // the LoRA rank 2 is not a multiple of 4
 * ```
 */
export function batchRefusal(config: ModelConfig, lora?: LoraOptions): string | null {
  if (config.attentionBias) return "attention biases are not batched";
  // LoRA's B [out, r] is read as rows of vec4s in place, as the weights are.
  const rank = lora ? loraSettings(lora).rank : 4;
  if (rank % 4 !== 0) return `the LoRA rank ${rank} is not a multiple of 4`;
  for (
    const [name, value] of [
      ["hidden size", config.hiddenSize],
      ["intermediate size", config.intermediateSize],
      ["key/value width", config.numKvHeads * headDim(config)],
    ] as const
  ) {
    // Weights are read as rows of vec4s in place (activations are padded instead).
    if (value % 4 !== 0) return `the ${name} ${value} is not a multiple of 4`;
  }
  return null;
}

/**
 * B models' parameters, gradients and activations on one GPU.
 *
 * @example
 * ```ts
 * import { ModelBatch } from "./model_batch.ts";
 * import { Gpu } from "../gpu/gpu.ts";
 * import { PRESETS } from "./presets.ts";
 * const gpu = await Gpu.create();
 * const batch = ModelBatch.create(gpu, PRESETS.ci, { count: 2, maxTokens: 8 });
 * console.log(batch.count, batch.stride % 64); // 2 0
 * batch.destroy();
 * gpu.destroy();
 * ```
 */
export class ModelBatch {
  /** The GPU context. */
  readonly gpu: Gpu;
  /** The architecture every model shares. */
  readonly config: ModelConfig;
  /** One model's layout (one chunk). */
  readonly layout: ParameterLayout;
  /** Models B. */
  readonly count: number;
  /** Longest row of one model's pass. */
  readonly maxTokens: number;
  /** Elements from one model's parameters to the next's (a multiple of 64). */
  readonly stride: number;
  /** Every model's parameters, model b at b·stride. */
  readonly params: GpuVector;
  /** Every model's gradients, laid out like `params` (with LoRA: scratch for the frozen norms'). */
  readonly grads: GpuVector;
  /** The models' adapters, when they train those (`lora`, `prompt` or `prefix` option). */
  readonly adapter: LoraAdapter | PromptAdapter | PrefixAdapter | null;
  /** What trains: the models, or their adapters. */
  readonly trainable: BatchTrainable;
  readonly #activations: Activations;
  readonly #rope: GPUBuffer;
  readonly #results: GPUBuffer;
  /** Rows a soft prompt or prefix puts before each model's tokens (0 without one). */
  readonly #lead: number;
  /** What {@linkcode ModelBatch.uploadEach} wrote last (training passes overwrite it). */
  #uploaded: { models: number; rows: number } | null = null;

  private constructor(
    gpu: Gpu,
    config: ModelConfig,
    layout: ParameterLayout,
    options: ModelBatchOptions,
  ) {
    this.gpu = gpu;
    this.config = config;
    this.layout = layout;
    this.count = options.count;
    this.maxTokens = options.maxTokens;
    this.stride = batchStride(layout);
    const length = this.count * this.stride;
    const vector = { chunkElements: length };
    this.params = GpuVector.create(gpu, length, { ...vector, label: "batch parameters" });
    this.grads = GpuVector.create(gpu, length, { ...vector, label: "batch gradients" });
    this.#lead = (options.prompt ?? options.prefix)?.tokens ?? 0;
    const rows = this.count * blockRows(this.#lead + this.maxTokens);
    this.#activations = allocateActivations(gpu, config, rows);
    this.adapter = options.lora
      ? new LoraAdapter(gpu, config, rows, options.lora, this.count)
      : options.prompt
      ? new PromptAdapter(gpu, config, options.prompt, undefined, this.count)
      : options.prefix
      ? new PrefixAdapter(gpu, config, rows, options.prefix, this.count)
      : null;
    const adapter = this.adapter;
    this.trainable = adapter
      ? {
        layout: adapter.params.layout,
        stride: adapter.stride,
        params: adapter.params.vector,
        grads: adapter.grads.vector,
      }
      : { layout, stride: this.stride, params: this.params, grads: this.grads };
    this.#rope = ropeTable(gpu, {
      headDim: headDim(config),
      maxPositions: config.maxPositions,
      theta: config.ropeTheta,
    });
    this.#results = gpu.buffer(this.count * SLOTS * 8, "batch losses");
  }

  /**
   * How many models of `config` taking rows of `maxTokens` (a soft prompt's
   * or prefix's rows included) fit `gpu`'s bindings (parameters of all models in one, logits
   * of all rows in one); 0 when the architecture cannot be batched
   * ({@linkcode batchRefusal}).
   */
  static capacity(gpu: Gpu, config: ModelConfig, maxTokens: number): number {
    if (batchRefusal(validateConfig(config))) return 0;
    const binding = Math.min(gpu.info.maxStorageBufferBindingSize, gpu.info.maxBufferSize) / 4;
    const stride = batchStride(parameterLayout(config));
    const widest = Math.max(config.vocabSize, config.intermediateSize, config.hiddenSize);
    const rows = blockRows(maxTokens);
    return Math.min(Math.floor(binding / stride), Math.floor(binding / (rows * widest)));
  }

  /** Allocates B models of `config` (parameters zero until loaded). */
  static create(gpu: Gpu, config: ModelConfig, options: ModelBatchOptions): ModelBatch {
    const refusal = batchRefusal(validateConfig(config), options.lora);
    if (refusal) throw new TypeError(`Cannot batch models of this architecture: ${refusal}`);
    const adapters = ([
      ["a LoRA adapter", options.lora],
      ["a soft prompt", options.prompt],
      ["a prefix", options.prefix],
    ] as const).filter(([, given]) => given).map(([name]) => name);
    if (adapters.length > 1) {
      throw new TypeError(`Cannot batch models with ${adapters.join(" and ")}`);
    }
    const { count, maxTokens } = options;
    const leading = options.prompt ?? options.prefix;
    const lead = leading?.tokens ?? 0;
    const what = options.prompt ? "soft prompt" : "prefix";
    if (leading && !(Number.isInteger(lead) && lead >= 1)) {
      throw new RangeError(`Cannot batch a ${what} of ${lead} tokens: expected an integer ≥ 1`);
    }
    const most = config.maxPositions - lead;
    if (!Number.isInteger(maxTokens) || maxTokens < 1 || maxTokens > most) {
      throw new RangeError(
        `Cannot batch models for ${maxTokens} tokens: expected 1 … ${most}` +
          (lead > 0 ? ` (the ${what} takes ${lead} of ${config.maxPositions} positions)` : ""),
      );
    }
    const capacity = ModelBatch.capacity(gpu, config, lead + maxTokens);
    if (!Number.isInteger(count) || count < 1 || count > capacity) {
      throw new RangeError(
        `Cannot batch ${count} models: this device's bindings hold 1 … ${capacity} of them`,
      );
    }
    return new ModelBatch(gpu, config, parameterLayout(config), options);
  }

  #checkModel(model: number, action: string): void {
    if (!Number.isInteger(model) || model < 0 || model >= this.count) {
      throw new RangeError(
        `Cannot ${action} model ${model}: the batch holds 0 … ${this.count - 1}`,
      );
    }
  }

  #checkVector(vector: GpuVector, layout: ParameterLayout, action: string): GPUBuffer {
    if (vector.length !== layout.length || vector.chunks.length !== 1) {
      throw new TypeError(
        `Cannot ${action}: expected one model's vector of ${layout.length} values in one ` +
          `chunk, got ${vector.length} in ${vector.chunks.length}`,
      );
    }
    return vector.chunks[0]!.buffer;
  }

  /**
   * Copies one model's trainable values (laid out by `trainable.layout`: its
   * parameters, or its adapter's) into model `model`, in the pending batch.
   */
  load(model: number, from: GpuVector): void {
    this.#checkModel(model, "load");
    const { layout, stride, params } = this.trainable;
    const source = this.#checkVector(from, layout, "load a model");
    this.gpu.copy(source, 0, params.chunks[0]!.buffer, model * stride * 4, layout.length * 4);
  }

  /** Copies model `model`'s trainable values into `to` (one model's vector), in the pending batch. */
  store(model: number, to: GpuVector): void {
    this.#checkModel(model, "store");
    const { layout, stride, params } = this.trainable;
    const target = this.#checkVector(to, layout, "store a model");
    this.gpu.copy(params.chunks[0]!.buffer, model * stride * 4, target, 0, layout.length * 4);
  }

  /**
   * Copies one model's parameters (laid out by `layout`) into every model, in
   * the pending batch: the frozen base under the adapters of an adapter
   * batch.
   * Also empties the models' gradients, where the frozen norms' gradients
   * (computed, never read) pile up between two loads.
   */
  loadBase(from: GpuVector): void {
    const source = this.#checkVector(from, this.layout, "load the base model");
    const buffer = this.params.chunks[0]!.buffer;
    for (let b = 0; b < this.count; b++) {
      this.gpu.copy(source, 0, buffer, b * this.stride * 4, this.layout.length * 4);
    }
    this.grads.clear();
  }

  /**
   * Tensor views of model 0's parameters whose bindings reach the same
   * tensor of `count` models (default 1: model 0's tensors alone).
   */
  parameterViews(count = 1): Tensors {
    return batchViews(this.params, this.layout, count);
  }

  /**
   * Records, for models 0 … n − 1 with n = `perModel.length`, the gradient
   * of the mean loss over `perModel[b]` into model b's gradients (as
   * {@linkcode Transformer.recordLossAndGrad} with packing), without
   * reading back: sequence i of model b leaves its mean loss in model b's
   * loss slot `firstSlot + i`. Every model takes the same number of
   * sequences (one local step of each client). With soft prompts or
   * prefixes every sequence takes a pass of its own, as on a lone model.
   */
  async recordLossAndGrad(
    perModel: readonly (readonly Sequence[])[],
    firstSlot = 0,
  ): Promise<void> {
    const n = perModel.length;
    if (n < 1 || n > this.count) {
      throw new RangeError(`Cannot train ${n} models in a batch of ${this.count}`);
    }
    const sequences = perModel[0]!.length;
    if (sequences < 1 || perModel.some((s) => s.length !== sequences)) {
      throw new RangeError(
        `Cannot take one step of ${perModel.map((s) => s.length).join(", ")} sequences: ` +
          "every model takes the same number (at least one)",
      );
    }
    if (firstSlot + sequences > SLOTS) {
      throw new RangeError(
        `Cannot keep ${firstSlot + sequences} losses per model: at most ${SLOTS}`,
      );
    }
    for (const s of perModel) for (const q of s) this.#check(q);
    const lead = this.#lead;
    // Rows of one token at most hold one sequence each: one pass per sequence.
    const rows = perModel.map((s) => packSequences(s, lead > 0 ? 1 : this.maxTokens));
    const passes = Math.max(...rows.map((r) => r.length));
    const params = this.parameterViews(n);
    // With adapters the models are frozen: their gradient vector is the norms' scratch (loadBase).
    const grads = this.adapter ? null : batchViews(this.grads, this.layout, n);
    this.trainable.grads.clear();
    this.#uploaded = null;
    for (let pass = 0; pass < passes; pass++) {
      const mine = rows.map((r) => r[pass] ?? null);
      const T = blockRows(lead + Math.max(...mine.map((row) => row?.sequence.tokens.length ?? 1)));
      const weighted = this.#upload(mine, T);
      const context = this.#context(n, T);
      await forward(context, params, n * T);
      await backward(context, params, grads, n * T, 1 / sequences, weighted);
      for (const [b, row] of mine.entries()) {
        for (const m of row?.members ?? []) {
          const first = b * T + lead + m.first;
          await this.#recordMean(b * SLOTS + firstSlot + m.index, first, m.length);
        }
      }
    }
  }

  /** Checks one sequence against the models (and the positions a soft prompt or prefix takes). */
  #check(sequence: Sequence): void {
    const kind = this.adapter?.kind === "prompt" ? "soft prompt" : "prefix";
    checkSequence(sequence, this.config, this.maxTokens, { rows: this.#lead, kind });
  }

  /**
   * Writes the models' rows of one pass, each padded to `T` tokens (id 0,
   * no loss, a segment of its own); a model without a row this pass gets
   * padding only. A soft prompt's rows come first, as
   * {@linkcode Transformer.upload} puts them (id −1, no loss, positions
   * 0 … n − 1, the tokens' shifted by n, one segment with the tokens); so
   * do a prefix's virtual rows (id 0: their activations must stay finite,
   * for their zero gradients to stay zero; src/model/peft/prefix.ts).
   * Returns whether loss weights are in use: then a model whose row is one
   * plain sequence gets weight −1 (its own mean, as an unweighted pass
   * takes).
   */
  #upload(rows: readonly (StepRow | null)[], T: number): boolean {
    const n = rows.length;
    const ids = new Int32Array(n * T);
    const labels = new Int32Array(n * T).fill(-100);
    const positions = new Int32Array(n * T);
    const starts = new Int32Array(n * T);
    const weights = new Float32Array(n * T).fill(-1);
    const weighted = rows.some((row) => row?.weights);
    const lead = this.#lead;
    for (const [b, row] of rows.entries()) {
      const at = b * T;
      const length = row ? lead + row.sequence.tokens.length : 0;
      if (row) {
        const { sequence } = row;
        const own = at + lead;
        ids.fill(this.adapter?.kind === "prompt" ? -1 : 0, at, own);
        ids.set(sequence.tokens, own);
        labels.set(sequence.targets, own);
        for (let t = 0; t < lead; t++) positions[at + t] = t;
        const tokens = length - lead;
        positions.set(
          (sequence.positions ?? Int32Array.from({ length: tokens }, (_, t) => t)).map((p) =>
            p + lead
          ),
          own,
        );
        if (lead > 0) starts.fill(at, at, at + length);
        else starts.set(segmentStarts(sequence.segments, length).map((s) => s + at), at);
        if (row.weights) weights.set(row.weights, own);
      }
      starts.fill(at + length, at + length, at + T);
    }
    const a = this.#activations;
    this.gpu.write(a.ids, ids);
    this.gpu.write(a.labels, labels);
    this.gpu.write(a.positions, positions);
    this.gpu.write(a.starts, starts);
    if (weighted) this.gpu.write(a.weights, weights);
    return weighted;
  }

  async #recordMean(slot: number, first: number, T: number): Promise<void> {
    const a = this.#activations;
    await crossEntropyMean(
      this.gpu,
      { result: this.#results, losses: a.losses, labels: a.labels },
      { T, first },
      { resultFirst: 2 * slot },
    );
  }

  /**
   * Writes one sequence per model, models 0 … n − 1 with n =
   * `sequences.length`, for {@linkcode ModelBatch.recordLosses} (forward
   * passes only, e.g. zeroth-order steps); returns the rows per model.
   */
  uploadEach(sequences: readonly Sequence[]): number {
    const n = sequences.length;
    if (n < 1 || n > this.count) {
      throw new RangeError(`Cannot evaluate ${n} models in a batch of ${this.count}`);
    }
    for (const q of sequences) this.#check(q);
    const rows = sequences.map((sequence) => ({
      sequence,
      members: [{ index: 0, first: 0, length: sequence.tokens.length }],
      weights: null,
    }));
    const T = blockRows(this.#lead + Math.max(...sequences.map((q) => q.tokens.length)));
    this.#upload(rows, T);
    this.#uploaded = { models: n, rows: T };
    return T;
  }

  /**
   * Records the forward pass of what {@linkcode ModelBatch.uploadEach}
   * wrote: model m's mean response-token loss and its count, as the pair
   * of f32 at `into[2·(slot + m·slotStride)]`. No readback.
   */
  async recordLosses(into: GPUBuffer, slot: number, slotStride: number): Promise<void> {
    const uploaded = this.#uploaded;
    if (!uploaded) throw new TypeError("Cannot evaluate models before uploading their sequences");
    const { models: n, rows: T } = uploaded;
    const context = this.#context(n, T);
    await forward(context, this.parameterViews(n), n * T);
    await lossForward(context, n * T);
    const a = this.#activations;
    await crossEntropyMean(
      this.gpu,
      { result: into, losses: a.losses, labels: a.labels },
      { T },
      { models: { count: n, rows: T, resultStride: 2 * slotStride }, resultFirst: 2 * slot },
    );
  }

  /** The pass context of `n` models of `T` rows each (with their adapters, training them). */
  #context(n: number, T: number): PassContext {
    const models = { count: n, rows: T, stride: this.stride };
    const context = {
      gpu: this.gpu,
      config: this.config,
      activations: this.#activations,
      rope: this.#rope,
      models,
    };
    if (!this.adapter) return context;
    return {
      ...context,
      adapter: this.adapter,
      trainAdapter: true,
      normScratch: batchViews(this.grads, this.layout, n),
    };
  }

  /** Loss slots per model. */
  get lossSlots(): number {
    return SLOTS;
  }

  /** Models 0 … n − 1's losses in slots 0 … count − 1, as the recorded steps left them (one readback). */
  async readStepLosses(n: number, count: number): Promise<number[][]> {
    if (n < 1 || n > this.count || count < 0 || count > SLOTS) {
      throw new RangeError(`Cannot read ${count} losses of ${n} models`);
    }
    const values = new Float32Array(await this.gpu.read(this.#results, 0, n * SLOTS * 8));
    return Array.from(
      { length: n },
      (_, b) => Array.from({ length: count }, (_, i) => values[2 * (b * SLOTS + i)]!),
    );
  }

  /** Frees every buffer; the batch cannot be used afterwards. */
  destroy(): void {
    this.params.destroy();
    this.grads.destroy();
    this.adapter?.destroy();
    destroyActivations(this.#activations);
    this.#rope.destroy();
    this.#results.destroy();
  }
}
