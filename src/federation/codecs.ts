/**
 * What each algorithm's messages look like on the wire (the payloads of
 * src/federation/wire.ts's `upload` and `broadcast` frames), byte for byte
 * the ledger's count (src/fl/ledger.ts) for the same message:
 *
 * - **Model averaging** (FedAvg, FedZO, the PEFT baselines): up, the
 *   update Δ_i; down, the new global trainable vector — its d parameters
 *   as f32, tensor by tensor in the layout's order (the layout's alignment
 *   padding is not sent). 4d bytes each way.
 * - **Ferret, official mode**: up, n u32 pool positions l·K + i (block
 *   by block) then their n f32 coordinates: 8n bytes; down, the pool key
 *   (u32 low, u32 high), then the m non-zero entries of the aggregated
 *   pool [L × K] as m u32 positions and m f32 values: 8 + 8m bytes. The
 *   client checks the key against the pool it drew itself, rebuilds the
 *   download with the round's server learning rate and applies it with the
 *   algorithm's own reconstruction: no weights travel after joining.
 *
 * - **Ferret, paper mode**: up, the fresh seed (u32 low, u32 high), the
 *   L counts K_l (u32) and Σ_l K_l f32 coordinates: 8 + 4L + 4n bytes;
 *   down, every kept message as seed, its weight p_i (f64), counts and
 *   coordinates, one after another: 16 + 4L + 4n_i bytes each.
 * - **FedKSeed** (uniform seeds, the replay rebuild): up, the client's T
 *   steps as u32 candidate index (bit 31 set when the step was skipped)
 *   then T f32 g: 8T bytes, from which the server adds up the K scalars
 *   the paper counts exactly as the client did; down, the K replay
 *   coefficients −η·pool[s] (f32): 4K bytes, which the client replays from
 *   w₀ over the K candidates, so it never needs the weights again either.
 *
 * Decoding refuses a payload of the wrong size, positions out of range or
 * out of order, repeated positions and non-finite values with a
 * {@linkcode WireError}: a malformed upload drops its client, never the
 * aggregate.
 *
 * @module
 */

import type { GpuVector } from "../gpu/vector.ts";
import type { Transformer } from "../model/transformer.ts";
import { ModelAveraging, type ModelUpdate } from "../fl/algorithms/model_average.ts";
import {
  FerretOfficial,
  type OfficialDownload,
  type OfficialMessage,
} from "../fl/algorithms/ferret_official.ts";
import { FedKSeed, type KSeedUpload } from "../fl/algorithms/fed_kseed.ts";
import {
  FerretPaper,
  type PaperDownload,
  type PaperMessage,
} from "../fl/algorithms/ferret_paper.ts";
import type { FederatedAlgorithm, RoundInfo } from "../fl/types.ts";
import { concatBytes, f32Of, u32Of, WireError } from "./wire.ts";

/** One algorithm's messages as bytes, both ways. */
export interface WireCodec<Upload = unknown, Broadcast = unknown> {
  /** The largest upload payload a well-formed client sends. */
  readonly maxUploadBytes: number;
  /** A client's upload as bytes. */
  encodeUpload(upload: Upload): Promise<Uint8Array>;
  /** The server's view of client `client`'s upload bytes, held in slot `slot` of the round. */
  decodeUpload(bytes: Uint8Array, client: number, slot: number): Upload;
  /** The broadcast as bytes, given the server's global model after applying it. */
  encodeBroadcast(broadcast: Broadcast, global: GpuVector): Promise<Uint8Array>;
  /** A client brings its global model to the round's new one. */
  applyBroadcast(bytes: Uint8Array, global: GpuVector, round: RoundInfo): Promise<void>;
  /** The d parameters of `global` (f32, layout order, no padding): what hashes compare. */
  parameters(global: GpuVector): Promise<Float32Array>;
  /** Writes `values` (as {@linkcode WireCodec.parameters} gives them) into `global`. */
  setParameters(global: GpuVector, values: Float32Array): void;
  /** Frees its buffers. */
  destroy(): void;
}

function finite(values: Float32Array, what: string): Float32Array {
  const bad = values.findIndex((v) => !Number.isFinite(v));
  if (bad >= 0) throw new WireError(`${what} holds a non-finite value at ${bad}`);
  return values;
}

/** The trainable vector's parameters without the layout's padding, both ways. */
class Parameters {
  readonly #tensors: readonly { readonly offset: number; readonly numel: number }[];
  readonly count: number;
  readonly length: number;

  constructor(model: Transformer) {
    const layout = model.trainable.params.layout;
    this.#tensors = layout.tensors;
    this.count = layout.numParameters;
    this.length = model.trainable.params.vector.length;
  }

  gather(vector: Float32Array): Float32Array {
    const out = new Float32Array(this.count);
    let at = 0;
    for (const t of this.#tensors) {
      out.set(vector.subarray(t.offset, t.offset + t.numel), at);
      at += t.numel;
    }
    return out;
  }

  scatter(values: Float32Array): Float32Array {
    if (values.length !== this.count) {
      throw new WireError(`expected ${this.count} parameters, got ${values.length}`);
    }
    const out = new Float32Array(this.length);
    let at = 0;
    for (const t of this.#tensors) {
      out.set(values.subarray(at, at + t.numel), t.offset);
      at += t.numel;
    }
    return out;
  }
}

/** Shared by every codec: the parameters of the global model. */
abstract class CodecBase<Upload, Broadcast> implements WireCodec<Upload, Broadcast> {
  protected readonly params: Parameters;
  abstract readonly maxUploadBytes: number;

  constructor(model: Transformer) {
    this.params = new Parameters(model);
  }

  async parameters(global: GpuVector): Promise<Float32Array> {
    return this.params.gather(await global.read());
  }

  setParameters(global: GpuVector, values: Float32Array): void {
    global.write(this.params.scatter(values));
  }

  abstract encodeUpload(upload: Upload): Promise<Uint8Array>;
  abstract decodeUpload(bytes: Uint8Array, client: number, slot: number): Upload;
  abstract encodeBroadcast(broadcast: Broadcast, global: GpuVector): Promise<Uint8Array>;
  abstract applyBroadcast(bytes: Uint8Array, global: GpuVector, round: RoundInfo): Promise<void>;
  destroy(): void {}
}

/** FedAvg, FedZO, the PEFT baselines: whole vectors both ways. */
class VectorCodec extends CodecBase<ModelUpdate, unknown> {
  readonly maxUploadBytes: number;
  readonly #shape: GpuVector;
  readonly #slots: GpuVector[] = [];

  constructor(model: Transformer) {
    super(model);
    this.maxUploadBytes = 4 * this.params.count;
    this.#shape = model.trainable.params.vector;
  }

  async encodeUpload(upload: ModelUpdate): Promise<Uint8Array> {
    return concatBytes(this.params.gather(await upload.delta.read()));
  }

  decodeUpload(bytes: Uint8Array, _client: number, slot: number): ModelUpdate {
    if (bytes.length !== this.maxUploadBytes) {
      throw new WireError(`an update is ${this.maxUploadBytes} bytes, this one ${bytes.length}`);
    }
    const values = this.params.scatter(finite(f32Of(bytes, "the update"), "the update"));
    while (this.#slots.length <= slot) this.#slots.push(this.#shape.like("received update"));
    const delta = this.#slots[slot]!;
    delta.write(values);
    return { delta };
  }

  async encodeBroadcast(_broadcast: unknown, global: GpuVector): Promise<Uint8Array> {
    return concatBytes(await this.parameters(global));
  }

  applyBroadcast(bytes: Uint8Array, global: GpuVector): Promise<void> {
    this.setParameters(global, finite(f32Of(bytes, "the global model"), "the global model"));
    return Promise.resolve();
  }

  override destroy(): void {
    for (const slot of this.#slots.splice(0)) slot.destroy();
  }
}

/** A 53-bit seed or key as two u32 words, low first. */
function seedWords(seed: number): Uint32Array {
  return new Uint32Array([seed % 2 ** 32, Math.floor(seed / 2 ** 32)]);
}

/** The seed of two u32 words, low first. */
function seedOf(low: number, high: number): number {
  return high * 2 ** 32 + low;
}

/** Both Ferret modes: the algorithm, set up, and its L blocks. */
abstract class FerretCodec<Message, Download, Algorithm extends FerretOfficial | FerretPaper>
  extends CodecBase<Message, Download> {
  protected readonly algorithm: Algorithm;
  protected readonly blocks: number;

  constructor(model: Transformer, algorithm: Algorithm) {
    super(model);
    this.algorithm = algorithm;
    this.blocks = algorithm.blocks.length;
    if (this.blocks === 0) throw new TypeError("Cannot encode Ferret's messages before its setup");
  }
}

/** Ferret (official mode): pool positions and coordinates up, the pool's non-zeros down. */
class PoolCodec extends FerretCodec<OfficialMessage, OfficialDownload, FerretOfficial> {
  readonly maxUploadBytes = 8 * this.blocks * this.algorithm.K;

  encodeUpload(message: OfficialMessage): Promise<Uint8Array> {
    const K = this.algorithm.K;
    const positions = new Uint32Array(message.indices.length);
    let at = 0;
    message.counts.forEach((count, block) => {
      for (let j = 0; j < count; j++, at++) positions[at] = block * K + message.indices[at]!;
    });
    return Promise.resolve(concatBytes(positions, message.coordinates));
  }

  decodeUpload(bytes: Uint8Array, client: number): OfficialMessage {
    const K = this.algorithm.K;
    if (bytes.length % 8 !== 0 || bytes.length > this.maxUploadBytes) {
      throw new WireError(
        `a Ferret upload is 8 bytes per coordinate, at most ${this.maxUploadBytes}; this one is ${bytes.length}`,
      );
    }
    const n = bytes.length / 8;
    const positions = u32Of(bytes.subarray(0, 4 * n), "the positions");
    const coordinates = finite(f32Of(bytes.subarray(4 * n), "the coordinates"), "the coordinates");
    const counts = new Array<number>(this.blocks).fill(0);
    const indices = new Uint32Array(n);
    const seen = new Set<number>();
    let previousBlock = 0;
    positions.forEach((position, j) => {
      const block = Math.floor(position / K);
      if (block >= this.blocks) {
        throw new WireError(`position ${position} is outside the pool's ${this.blocks} × ${K}`);
      }
      if (block < previousBlock) throw new WireError("the positions are not block by block");
      if (seen.has(position)) throw new WireError(`position ${position} is sent twice`);
      seen.add(position);
      previousBlock = block;
      counts[block]!++;
      indices[j] = position - block * K;
    });
    return { client, counts, indices, coordinates };
  }

  encodeBroadcast(download: OfficialDownload): Promise<Uint8Array> {
    const positions: number[] = [];
    download.pool.forEach((v, i) => {
      if (v !== 0) positions.push(i);
    });
    const key = this.algorithm.poolKey;
    return Promise.resolve(concatBytes(
      seedWords(key),
      new Uint32Array(positions),
      new Float32Array(positions.map((i) => download.pool[i]!)),
    ));
  }

  async applyBroadcast(bytes: Uint8Array, global: GpuVector, round: RoundInfo): Promise<void> {
    const size = this.blocks * this.algorithm.K;
    if (bytes.length < 8 || bytes.length % 8 !== 0 || bytes.length > 8 + 8 * size) {
      throw new WireError(
        `a Ferret broadcast is 8 + 8m bytes, m ≤ ${size}; this one is ${bytes.length}`,
      );
    }
    const [lo, hi] = u32Of(bytes.subarray(0, 8), "the pool key");
    const key = seedOf(lo!, hi!);
    if (key !== this.algorithm.poolKey) {
      throw new WireError(
        `the server's seed pool (key ${key}) is not this client's (${this.algorithm.poolKey}): ` +
          "client and server do not run the same federation spec",
      );
    }
    const m = (bytes.length - 8) / 8;
    const positions = u32Of(bytes.subarray(8, 8 + 4 * m), "the pool positions");
    const values = finite(f32Of(bytes.subarray(8 + 4 * m), "the pool values"), "the pool values");
    const pool = new Float32Array(size);
    positions.forEach((position, j) => {
      if (position >= size) throw new WireError(`pool position ${position} is outside ${size}`);
      pool[position] = values[j]!;
    });
    await this.algorithm.apply(this.algorithm.downloadOf(pool, round), global, round);
  }
}

/** FedKSeed (uniform seeds, replay rebuild): the steps up, the K replay coefficients down. */
class KSeedCodec extends CodecBase<KSeedUpload, unknown> {
  readonly maxUploadBytes: number;
  readonly #algorithm: FedKSeed;

  constructor(model: Transformer, algorithm: FedKSeed) {
    super(model);
    const { sampling, rebuild, steps } = algorithm.options;
    if (sampling !== "uniform" || rebuild !== "replay") {
      throw new TypeError(
        `Cannot federate FedKSeed with ${sampling} sampling and ${rebuild} rebuild over the ` +
          "network: the wire carries uniform sampling with the replay rebuild (FedKSeed-Pro's " +
          "probabilities need every client's steps)",
      );
    }
    this.#algorithm = algorithm;
    this.maxUploadBytes = 8 * steps;
  }

  encodeUpload(upload: KSeedUpload): Promise<Uint8Array> {
    const words = Uint32Array.from(
      upload.seedIndices,
      (s, t) => (s | (upload.skipped[t] ? SKIPPED : 0)) >>> 0,
    );
    return Promise.resolve(concatBytes(words, upload.g));
  }

  decodeUpload(bytes: Uint8Array): KSeedUpload {
    const { K, steps } = this.#algorithm.options;
    if (bytes.length !== this.maxUploadBytes) {
      throw new WireError(
        `a FedKSeed upload is 8 bytes per step, ${this.maxUploadBytes}; this one is ${bytes.length}`,
      );
    }
    const words = u32Of(bytes.subarray(0, 4 * steps), "the steps' candidates");
    const g = f32Of(bytes.subarray(4 * steps), "the steps' g");
    const skipped = Uint8Array.from(words, (w) => (w & SKIPPED ? 1 : 0));
    const seedIndices = Array.from(words, (w) => w & ~SKIPPED);
    const accumulator = new Float64Array(K);
    for (let t = 0; t < steps; t++) {
      if (seedIndices[t]! >= K) {
        throw new WireError(`step ${t}'s candidate ${seedIndices[t]} ≥ K = ${K}`);
      }
      if (skipped[t]) continue;
      if (!Number.isFinite(g[t]!)) throw new WireError(`step ${t}'s g is not finite`);
      accumulator[seedIndices[t]!]! += g[t]!; // as the client adds them up
    }
    return { accumulator, seedIndices, g, skipped };
  }

  encodeBroadcast(): Promise<Uint8Array> {
    return Promise.resolve(concatBytes(this.#algorithm.replayCoefficients()));
  }

  async applyBroadcast(bytes: Uint8Array, global: GpuVector): Promise<void> {
    const K = this.#algorithm.options.K;
    if (bytes.length !== 4 * K) {
      throw new WireError(`a FedKSeed broadcast is ${4 * K} bytes, this one ${bytes.length}`);
    }
    const coefficients = finite(f32Of(bytes, "the coefficients"), "the coefficients");
    await this.#algorithm.replay(coefficients, global);
  }
}

/** The flag of a skipped step in a FedKSeed upload's candidate word. */
const SKIPPED = 0x80000000;

/** Ferret (paper mode): seed, counts and coordinates up; every kept message with its weight down. */
class SeedCodec extends FerretCodec<PaperMessage, PaperDownload, FerretPaper> {
  readonly maxUploadBytes = 8 + 4 * this.blocks + 4 * this.algorithm.K;

  #encode(message: PaperMessage, weight?: number): Uint8Array[] {
    const parts = [concatBytes(seedWords(message.seed))];
    if (weight !== undefined) parts.push(concatBytes(new Float64Array([weight])));
    parts.push(concatBytes(Uint32Array.from(message.counts)), concatBytes(message.coordinates));
    return parts;
  }

  /** One message at `at` of `view` (with its f64 weight when `weighted`), and where it ends. */
  #decode(view: DataView, at: number, weighted: boolean, client: number) {
    const L = this.blocks;
    const head = 8 + (weighted ? 8 : 0) + 4 * L;
    if (at + head > view.byteLength) throw new WireError("a Ferret message is cut short");
    const seed = seedOf(view.getUint32(at, true), view.getUint32(at + 4, true));
    if (!Number.isSafeInteger(seed)) throw new WireError(`seed ${seed} is not a 53-bit integer`);
    const weight = weighted ? view.getFloat64(at + 8, true) : 1;
    if (!(weight > 0 && weight <= 1)) throw new WireError(`weight ${weight} is not in (0, 1]`);
    const counts = Array.from(
      { length: L },
      (_, l) => view.getUint32(at + head - 4 * L + 4 * l, true),
    );
    const n = counts.reduce((a, b) => a + b, 0);
    if (n > this.algorithm.K) {
      throw new WireError(`Σ_l K_l = ${n} exceeds K = ${this.algorithm.K}`);
    }
    const end = at + head + 4 * n;
    if (end > view.byteLength) throw new WireError("a Ferret message's coordinates are cut short");
    const bytes = new Uint8Array(view.buffer, view.byteOffset + at + head, 4 * n);
    const coordinates = finite(f32Of(bytes, "the coordinates"), "the coordinates");
    return { message: { client, seed, counts, coordinates }, weight, end };
  }

  encodeUpload(message: PaperMessage): Promise<Uint8Array> {
    return Promise.resolve(concatBytes(...this.#encode(message)));
  }

  decodeUpload(bytes: Uint8Array, client: number): PaperMessage {
    if (bytes.length > this.maxUploadBytes) {
      throw new WireError(
        `a Ferret upload is at most ${this.maxUploadBytes} bytes, this one ${bytes.length}`,
      );
    }
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const { message, end } = this.#decode(view, 0, false, client);
    if (end !== bytes.length) throw new WireError(`${bytes.length - end} bytes follow the message`);
    return message;
  }

  encodeBroadcast(download: PaperDownload): Promise<Uint8Array> {
    return Promise.resolve(concatBytes(
      ...download.messages.flatMap((m, i) => this.#encode(m, download.weights[i]!)),
    ));
  }

  async applyBroadcast(bytes: Uint8Array, global: GpuVector, round: RoundInfo): Promise<void> {
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const messages: PaperMessage[] = [];
    const weights: number[] = [];
    for (let at = 0; at < bytes.length;) {
      const { message, weight, end } = this.#decode(view, at, true, -1);
      messages.push(message);
      weights.push(weight);
      at = end;
    }
    await this.algorithm.apply({ messages, weights }, global, round);
  }
}

/**
 * The codec of `algorithm` (after its setup on `model`), or a TypeError
 * naming the algorithms the wire carries.
 *
 * @example
 * ```ts
 * import { codecFor } from "./codecs.ts";
 * import { fedAvg } from "../fl/algorithms/fed_avg.ts";
 * import { Gpu } from "../gpu/gpu.ts";
 * import { PRESETS } from "../model/presets.ts";
 * import { Transformer } from "../model/transformer.ts";
 * const gpu = await Gpu.create();
 * const model = await Transformer.create(gpu, PRESETS.ci, { maxTokens: 8 });
 * const algorithm = fedAvg({ local: { steps: 1, optimizer: { kind: "sgd", lr: 0.1 } } });
 * await algorithm.setup(model);
 * console.log(codecFor(algorithm, model).maxUploadBytes); // 159104 (4 bytes × 39 776 parameters)
 * algorithm.destroy();
 * gpu.destroy();
 * ```
 */
export function codecFor(algorithm: FederatedAlgorithm, model: Transformer): WireCodec {
  if (algorithm instanceof ModelAveraging) return new VectorCodec(model) as WireCodec;
  if (algorithm instanceof FerretOfficial) return new PoolCodec(model, algorithm) as WireCodec;
  if (algorithm instanceof FerretPaper) return new SeedCodec(model, algorithm) as WireCodec;
  if (algorithm instanceof FedKSeed) return new KSeedCodec(model, algorithm) as WireCodec;
  throw new TypeError(
    `Cannot federate ${algorithm.name} (${algorithm.id}) over the network: the wire carries ` +
      "FedAvg, FedZO, the PEFT baselines, FedKSeed and Ferret",
  );
}
