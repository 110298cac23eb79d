/**
 * A LLaMA-style decoder on the GPU: parameters, gradients, activations and
 * the RoPE table, with `loss`, `lossAndGrad` (gradient accumulation over
 * micro-batches) and greedy generation (src/model/generate.ts).
 *
 * A training step is recorded as one batch of GPU work and read back once
 * (the per-sequence losses), because every readback costs ≥ 10 ms in Deno.
 *
 * An adapter (LoRA, soft prompt or P-tuning prefix; src/model/peft/) may be
 * attached at creation; {@linkcode Transformer.train} then says whether a
 * gradient step trains the model (`full`) or the adapter alone, the model
 * frozen. The model's gradient vector is only allocated once it is used.
 *
 * @module
 */

import type { Gpu } from "../gpu/gpu.ts";
import { RandomStream } from "../random/stream.ts";
import { type Activations, allocateActivations, destroyActivations } from "./activations.ts";
import { headDim, type ModelConfig, validateConfig } from "./config.ts";
import { initParameters } from "./init.ts";
import { createParameters, type Parameters } from "./layout.ts";
import { crossEntropyMean } from "./ops/cross_entropy.ts";
import { ropeTable } from "./ops/rope.ts";
import { backward, forward, type KvCache, lossForward, type PassContext } from "./passes.ts";
import { packSequences, type Sequence, type StepRow } from "./pack.ts";
import {
  type Adapter,
  type AdapterOptions,
  adapterRows,
  createAdapter,
  TRAIN_MODES,
  type TrainMode,
} from "./peft/adapter.ts";

/**
 * One training or evaluation sequence: token ids, next-token targets (−100
 * where no loss is taken: the prompt), and for packed rows the position of
 * each token inside its example and the example it belongs to.
 * `PackedRow` from src/data/batch.ts is one.
 */
export type { Sequence } from "./pack.ts";

/** Options of {@linkcode Transformer.create}. */
export interface TransformerOptions {
  /** Longest sequence a pass takes (default: the config's max positions). */
  maxTokens?: number;
  /** Initial parameters in the layout's flat order (default: seeded HF init). */
  parameters?: Float32Array;
  /** Seed of the `model/init` stream when no parameters are given (default 0). */
  seed?: number;
  /** Chunk size of the parameter vector (tests pass small values to exercise chunking). */
  chunkElements?: number;
  /**
   * An adapter to attach (PEFT baselines, paper.md §6). A soft prompt's or a
   * prefix's n rows come on top of `maxTokens`, within the config's positions.
   */
  adapter?: AdapterOptions;
  /** What gradient steps train (default: the adapter when one is given, else `full`). */
  train?: TrainMode;
}

/** First key each token may attend to: the index of the first token of its example. */
export function segmentStarts(segments: Int32Array | undefined, T: number): Int32Array {
  const starts = new Int32Array(T);
  if (!segments) return starts;
  for (let t = 1; t < T; t++) starts[t] = segments[t] === segments[t - 1] ? starts[t - 1]! : t;
  return starts;
}

/**
 * Checks that `sequence` can run on a model of `config` taking `maxTokens`
 * tokens (ids, targets and positions in range, parallel arrays of one
 * length), `lead.rows` positions taken before it by a `lead.kind` adapter;
 * returns its positions (0 … T − 1 when it gives none).
 */
export function checkSequence(
  sequence: Sequence,
  config: ModelConfig,
  maxTokens: number,
  lead: { rows: number; kind: string } = { rows: 0, kind: "" },
): Int32Array {
  const T = sequence.tokens.length;
  if (T < 1 || T > maxTokens) {
    throw new RangeError(`Cannot run a sequence of ${T} tokens: this model takes 1 … ${maxTokens}`);
  }
  // Only the fields the passes read: a PackedRow's other fields (weights, examples) may differ.
  for (const name of ["targets", "positions", "segments"] as const) {
    const array = sequence[name];
    if (array && array.length !== T) {
      throw new TypeError(
        `Cannot run a sequence: ${name} has ${array.length} entries, tokens ${T}`,
      );
    }
  }
  const V = config.vocabSize;
  for (const id of sequence.tokens) {
    if (!(id >= 0 && id < V)) {
      throw new RangeError(`Cannot run token id ${id}: the vocabulary has ${V}`);
    }
  }
  for (const id of sequence.targets) {
    if (id !== -100 && !(id >= 0 && id < V)) {
      throw new RangeError(`Cannot use target id ${id}: expected −100 or 0 … ${V - 1}`);
    }
  }
  const n = lead.rows;
  const positions = sequence.positions ?? Int32Array.from({ length: T }, (_, t) => t);
  for (const p of positions) {
    if (!(p >= 0 && p + n < config.maxPositions)) {
      throw new RangeError(
        `Cannot use position ${p}: the model has ${config.maxPositions}` +
          (n > 0 ? `, of which the ${lead.kind} takes ${n}` : ""),
      );
    }
  }
  return positions;
}

/**
 * A LLaMA-style decoder with its parameters, gradients and activations on the GPU.
 *
 * @example
 * ```ts
 * import { Transformer } from "./transformer.ts";
 * import { Gpu } from "../gpu/gpu.ts";
 * import { PRESETS } from "./presets.ts";
 * const gpu = await Gpu.create();
 * const model = await Transformer.create(gpu, PRESETS.ci, { maxTokens: 8 });
 * const sequence = { tokens: new Int32Array([256, 72, 105]), targets: new Int32Array([72, 105, 257]) };
 * console.log((await model.loss([sequence])).toFixed(1)); // ≈ ln(259) = 5.6 at initialisation
 * gpu.destroy();
 * ```
 */
export class Transformer {
  /** The GPU context. */
  readonly gpu: Gpu;
  /** The architecture. */
  readonly config: ModelConfig;
  /** Parameters (flat vector and named views). */
  readonly params: Parameters;
  /** Activation buffers (a soft prompt's rows included). */
  readonly activations: Activations;
  /** RoPE table [maxPositions, headDim/2, 2]. */
  readonly rope: GPUBuffer;
  /** The attached adapter, or null. */
  readonly adapter: Adapter | null;
  /** Longest sequence a pass takes (without a soft prompt's or prefix's rows). */
  readonly maxTokens: number;
  readonly #results: GPUBuffer;
  #resultSlots: number;
  #grads: Parameters | null = null;
  #kvCache: KvCache | null = null;
  readonly #chunkElements: number | undefined;
  #train: TrainMode = "full";

  private constructor(
    gpu: Gpu,
    config: ModelConfig,
    params: Parameters,
    activations: Activations,
    maxTokens: number,
    chunkElements: number | undefined,
    adapter: Adapter | null,
  ) {
    this.gpu = gpu;
    this.config = config;
    this.params = params;
    this.activations = activations;
    this.maxTokens = maxTokens;
    this.#chunkElements = chunkElements;
    this.adapter = adapter;
    this.rope = ropeTable(gpu, {
      headDim: headDim(config),
      maxPositions: config.maxPositions,
      theta: config.ropeTheta,
    });
    this.#resultSlots = 64;
    this.#results = gpu.buffer(this.#resultSlots * 8, "losses");
  }

  /** Allocates a model on `gpu`, initialised from `options.parameters` or a seeded stream. */
  static create(
    gpu: Gpu,
    config: ModelConfig,
    options: TransformerOptions = {},
  ): Promise<Transformer> {
    validateConfig(config);
    const lead = adapterRows(options.adapter);
    const room = config.maxPositions - lead.input - lead.cache;
    const maxTokens = options.maxTokens ?? room;
    if (!Number.isInteger(maxTokens) || maxTokens < 1 || maxTokens > room) {
      throw new RangeError(
        `Cannot create a model for ${maxTokens} tokens: expected 1 … ${room}` +
          (room < config.maxPositions ? ` (the adapter takes ${config.maxPositions - room})` : ""),
      );
    }
    const chunk = options.chunkElements ? { chunkElements: options.chunkElements } : {};
    const params = createParameters(gpu, config, { ...chunk, label: "parameters" });
    const data = options.parameters ??
      initParameters(params.layout, new RandomStream(options.seed ?? 0, "model/init"));
    params.vector.write(data);
    const rows = maxTokens + lead.input;
    const adapter = options.adapter
      ? createAdapter(
        gpu,
        config,
        rows,
        options.adapter,
        params.views.get("model.embed_tokens.weight"),
      )
      : null;
    const model = new Transformer(
      gpu,
      config,
      params,
      allocateActivations(gpu, config, rows),
      maxTokens,
      options.chunkElements,
      adapter,
    );
    model.train = options.train ?? adapter?.kind ?? "full";
    return Promise.resolve(model);
  }

  /**
   * Gradients of the model's parameters, same layout (allocated on first
   * use, so a model that only trains an adapter never holds them).
   */
  get grads(): Parameters {
    if (!this.#grads) {
      const chunk = this.#chunkElements ? { chunkElements: this.#chunkElements } : {};
      this.#grads = createParameters(this.gpu, this.config, { ...chunk, label: "gradients" });
    }
    return this.#grads;
  }

  /**
   * The KV cache that generation (src/model/generate.ts) fills and reads:
   * one K and one V buffer per layer, `maxPositions` rows each (allocated on
   * first use, so a model that never generates never holds it; freed by
   * {@linkcode Transformer.destroy}).
   */
  get kvCache(): KvCache {
    if (!this.#kvCache) {
      const { config, gpu } = this;
      const bytes = config.maxPositions * config.numKvHeads * headDim(config) * 4;
      const buffers = (label: string) =>
        Array.from({ length: config.numLayers }, (_, l) => gpu.buffer(bytes, `${label}${l}`));
      this.#kvCache = { k: buffers("cache.k"), v: buffers("cache.v") };
    }
    return this.#kvCache;
  }

  /**
   * What {@linkcode Transformer.recordLossAndGrad} trains: `full` (the
   * model's parameters into {@linkcode Transformer.grads}) or the attached
   * adapter's kind (its parameters into `adapter.grads`, the model frozen:
   * none of the model's weight gradients are computed).
   */
  get train(): TrainMode {
    return this.#train;
  }

  set train(mode: TrainMode) {
    if (!TRAIN_MODES.includes(mode)) {
      throw new TypeError(`Cannot train "${mode}": expected one of ${TRAIN_MODES.join(", ")}`);
    }
    if (mode !== "full" && this.adapter?.kind !== mode) {
      throw new TypeError(
        `Cannot train "${mode}": the attached adapter is ${this.adapter?.kind ?? "none"}`,
      );
    }
    this.#train = mode;
  }

  /** The parameters and gradients {@linkcode Transformer.train} selects. */
  get trainable(): { readonly params: Parameters; readonly grads: Parameters } {
    if (this.#train === "full") return { params: this.params, grads: this.grads };
    const adapter = this.adapter!;
    return { params: adapter.params, grads: adapter.grads };
  }

  /**
   * Frees the model's GPU memory: parameters, gradients, activations, RoPE
   * table, KV cache and the adapter's parameters and gradients. The model
   * cannot be used afterwards.
   */
  destroy(): void {
    this.params.vector.destroy();
    this.#grads?.vector.destroy();
    this.#grads = null;
    destroyActivations(this.activations);
    this.rope.destroy();
    this.#results.destroy();
    if (this.#kvCache) {
      for (const buffer of [...this.#kvCache.k, ...this.#kvCache.v]) buffer.destroy();
      this.#kvCache = null;
    }
    this.adapter?.destroy();
  }

  /** The pass context for src/model/passes.ts. */
  get context(): PassContext {
    return {
      gpu: this.gpu,
      config: this.config,
      activations: this.activations,
      rope: this.rope,
      adapter: this.adapter,
      trainAdapter: this.#train !== "full",
    };
  }

  /**
   * Uploads one sequence's ids, targets, positions and segment starts;
   * returns the rows of the pass: T, plus a soft prompt's n virtual rows put
   * first (id −1, which the embedding backward pass skips, target −100,
   * positions 0 … n − 1, the tokens' shifted by n). With a prefix the
   * tokens' positions are shifted by n in the passes. Packed rows (several
   * examples) are refused with a prompt or a prefix: attention's key range
   * per query is contiguous, so it cannot span the virtual rows and an
   * example that starts later.
   */
  upload(sequence: Sequence): number {
    const T = sequence.tokens.length;
    const adapter = this.adapter;
    const n = adapter?.kind === "prompt" || adapter?.kind === "prefix" ? adapter.length : 0;
    const positions = checkSequence(sequence, this.config, this.maxTokens, {
      rows: n,
      kind: adapter?.kind ?? "",
    });
    const segments = sequence.segments;
    if (n > 0 && segments && segments.some((id) => id !== segments[0])) {
      throw new TypeError(
        `Cannot run a packed row of several examples with a ${adapter!.kind}: ` +
          "pass one example per sequence",
      );
    }
    const a = this.activations;
    if (adapter?.kind === "prompt") {
      const rows = n + T;
      const ids = new Int32Array(rows).fill(-1);
      ids.set(sequence.tokens, n);
      const targets = new Int32Array(rows).fill(-100);
      targets.set(sequence.targets, n);
      const shifted = Int32Array.from(
        { length: rows },
        (_, t) => (t < n ? t : n + positions[t - n]!),
      );
      this.gpu.write(a.ids, ids);
      this.gpu.write(a.labels, targets);
      this.gpu.write(a.positions, shifted);
      this.gpu.write(a.starts, new Int32Array(rows));
      return rows;
    }
    this.gpu.write(a.ids, sequence.tokens);
    this.gpu.write(a.labels, sequence.targets);
    this.gpu.write(a.positions, positions);
    this.gpu.write(a.starts, segmentStarts(sequence.segments, T));
    return T;
  }

  #ensureSlots(n: number): void {
    if (n > this.#resultSlots) {
      throw new RangeError(`Cannot run ${n} sequences in one step: at most ${this.#resultSlots}`);
    }
  }

  async #readLosses(n: number): Promise<number[]> {
    const values = new Float32Array(await this.gpu.read(this.#results, 0, n * 8));
    return Array.from({ length: n }, (_, i) => values[2 * i]!);
  }

  async #recordMean(slot: number, T: number, first = 0): Promise<void> {
    const a = this.activations;
    await crossEntropyMean(
      this.gpu,
      { result: this.#results, losses: a.losses, labels: a.labels },
      { T, first },
      { resultFirst: 2 * slot },
    );
  }

  /**
   * Mean response-token loss of each sequence (one readback for all). The
   * sequences share passes, as many per row as `maxTokens` allows (the same
   * numbers as one pass each: src/model/pack.ts), except with a soft prompt
   * or prefix, which takes one example per pass.
   */
  async losses(sequences: readonly Sequence[]): Promise<number[]> {
    this.#ensureSlots(sequences.length);
    for (const row of this.#rows(sequences, true)) {
      const T = this.upload(row.sequence);
      await forward(this.context, this.params.views, T);
      await lossForward(this.context, T);
      await this.#recordMeans(row, T, 0);
    }
    return this.#readLosses(sequences.length);
  }

  /**
   * The passes of `sequences`: as many per row as `maxTokens` allows with
   * `pack`, one each without, or with a soft prompt or prefix (attention's
   * key range per query is contiguous: see {@linkcode Transformer.upload}).
   */
  #rows(sequences: readonly Sequence[], pack: boolean): StepRow[] {
    const kind = this.adapter?.kind;
    const together = pack && kind !== "prompt" && kind !== "prefix";
    // Rows of one token at most hold one sequence each: one pass per sequence.
    return packSequences(sequences, together ? this.maxTokens : 1);
  }

  /**
   * Each member's mean loss of a pass of `T` rows into loss slot
   * `firstSlot + index`; the rows a soft prompt puts before the tokens are
   * skipped (they carry no loss).
   */
  async #recordMeans(row: StepRow, T: number, firstSlot: number): Promise<void> {
    const lead = T - row.sequence.tokens.length;
    for (const m of row.members) {
      await this.#recordMean(firstSlot + m.index, m.length, lead + m.first);
    }
  }

  /** The mean over `sequences` of each sequence's mean response-token loss. */
  async loss(sequences: readonly Sequence[]): Promise<number> {
    const values = await this.losses(sequences);
    return values.reduce((a, b) => a + b, 0) / values.length;
  }

  /**
   * Records `grads ← ∇ mean_i loss(sequence_i)` (gradient accumulation over
   * the micro-batches, each of batch size 1 as in the paper) for the
   * parameters {@linkcode Transformer.train} selects — into
   * `trainable.grads` — without reading anything back; sequence i's loss
   * goes to loss slot `firstSlot + i`, so several steps can be read back
   * at once by {@linkcode Transformer.readStepLosses}. With `pack` (the
   * default) the sequences share passes, as many per row as `maxTokens`
   * allows (src/model/pack.ts): the same gradient in fewer dispatches.
   */
  async recordLossAndGrad(
    sequences: readonly Sequence[],
    firstSlot = 0,
    options: { pack?: boolean } = {},
  ): Promise<void> {
    if (sequences.length === 0) throw new RangeError("Cannot take a gradient of no sequence");
    this.#ensureSlots(firstSlot + sequences.length);
    const { grads } = this.trainable;
    grads.vector.clear();
    const modelGrads = this.#train === "full" ? grads.views : null;
    for (const row of this.#rows(sequences, options.pack ?? true)) {
      const T = this.upload(row.sequence);
      if (row.weights) this.gpu.write(this.activations.weights, row.weights);
      await forward(this.context, this.params.views, T);
      const scale = 1 / sequences.length;
      await backward(this.context, this.params.views, modelGrads, T, scale, row.weights !== null);
      await this.#recordMeans(row, T, firstSlot);
    }
  }

  /**
   * Loss slots on the GPU: the per-sequence losses of successive steps
   * recorded at increasing `firstSlot`s wait here for one readback.
   */
  get lossSlots(): number {
    return this.#resultSlots;
  }

  /** The per-sequence losses in slots 0 … count − 1, as the recorded steps left them (one readback). */
  readStepLosses(count: number): Promise<number[]> {
    this.#ensureSlots(count);
    return this.#readLosses(count);
  }

  /** Gradient of the mean loss into `grads`; returns the mean loss. */
  async lossAndGrad(sequences: readonly Sequence[]): Promise<number> {
    await this.recordLossAndGrad(sequences);
    const values = await this.readStepLosses(sequences.length);
    return values.reduce((a, b) => a + b, 0) / values.length;
  }
}
