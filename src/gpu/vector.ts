/**
 * A logical f32 vector stored as a list of GPU buffers.
 *
 * One storage binding is limited (128 MiB on llvmpipe; real models are many
 * GB), so a long vector is split into chunks of at most one binding each.
 * Kernels run once per chunk and learn the chunk's `start` (its first
 * element's index in the whole vector) from their uniform, so element-wise
 * work that depends on the global index — such as generating the random
 * basis element for index i — is the same however the vector is chunked.
 *
 * @module
 */

import type { Gpu } from "./gpu.ts";

/** A segment of a vector (e.g. one of Ferret's blocks): `length` consecutive elements from `start`. */
export interface Segment {
  /** Index of the segment's first element in the whole vector. */
  readonly start: number;
  /** Number of elements (≥ 1). */
  readonly length: number;
}

/** One buffer of a {@linkcode GpuVector}: elements `start … start + length − 1`. */
export interface Chunk {
  /** The storage buffer (its size is rounded up to 16 bytes, zero padded). */
  readonly buffer: GPUBuffer;
  /** Index of the chunk's first element in the whole vector. */
  readonly start: number;
  /** Number of elements in this chunk. */
  readonly length: number;
}

/** Options for {@linkcode GpuVector.create}. */
export interface VectorOptions {
  /**
   * Elements per chunk: at most one storage binding, a multiple of 4 (so vec4
   * loads never straddle chunks). Defaults to the largest that fits the
   * device's binding limit. Tests pass small values to exercise chunking.
   */
  chunkElements?: number;
  /** A label for the buffers (shown in GPU error messages). */
  label?: string;
}

/**
 * The default chunk size for `gpu`: one whole storage binding, in elements, multiple of 64.
 *
 * @example
 * ```ts
 * import { defaultChunkElements } from "./vector.ts";
 * import { Gpu } from "./gpu.ts";
 * const gpu = await Gpu.create();
 * console.log(defaultChunkElements(gpu)); // 33554432 on llvmpipe (128 MiB bindings)
 * gpu.destroy();
 * ```
 */
export function defaultChunkElements(gpu: Gpu): number {
  const bytes = Math.min(gpu.info.maxStorageBufferBindingSize, gpu.info.maxBufferSize);
  return Math.floor(bytes / 4 / 64) * 64;
}

/**
 * A chunked f32 vector on the GPU.
 *
 * @example
 * ```ts
 * import { GpuVector } from "./vector.ts";
 * import { Gpu } from "./gpu.ts";
 * const gpu = await Gpu.create();
 * const v = GpuVector.from(gpu, new Float32Array([1, 2, 3, 4, 5]), { chunkElements: 4 });
 * console.log(v.chunks.length, await v.read()); // 2 Float32Array [1, 2, 3, 4, 5]
 * gpu.destroy();
 * ```
 */
export class GpuVector {
  /** The context the buffers belong to. */
  readonly gpu: Gpu;
  /** Number of elements. */
  readonly length: number;
  /** Elements per chunk (the last chunk may hold fewer). */
  readonly chunkElements: number;
  /** The buffers, in order. */
  readonly chunks: readonly Chunk[];

  private constructor(gpu: Gpu, length: number, chunkElements: number, label: string) {
    this.gpu = gpu;
    this.length = length;
    this.chunkElements = chunkElements;
    const chunks: Chunk[] = [];
    for (let start = 0; start < length || chunks.length === 0; start += chunkElements) {
      const n = Math.min(chunkElements, length - start);
      chunks.push({ buffer: gpu.buffer(n * 4, `${label}[${chunks.length}]`), start, length: n });
    }
    this.chunks = chunks;
  }

  /** A zero vector of `length` elements. */
  static create(gpu: Gpu, length: number, options: VectorOptions = {}): GpuVector {
    if (!Number.isSafeInteger(length) || length < 0) {
      throw new RangeError(`Cannot create a vector of length ${length}`);
    }
    const maxChunk = defaultChunkElements(gpu);
    const chunkElements = options.chunkElements ?? maxChunk;
    if (
      !Number.isInteger(chunkElements) || chunkElements <= 0 || chunkElements % 4 !== 0 ||
      chunkElements > maxChunk
    ) {
      throw new RangeError(
        `Cannot chunk a vector by ${chunkElements} elements: expected a positive multiple of 4 ` +
          `at most ${maxChunk} (one storage binding)`,
      );
    }
    return new GpuVector(gpu, length, chunkElements, options.label ?? "vector");
  }

  /** A vector holding a copy of `data`. */
  static from(gpu: Gpu, data: Float32Array, options: VectorOptions = {}): GpuVector {
    const vector = GpuVector.create(gpu, data.length, options);
    vector.write(data);
    return vector;
  }

  /** A zero vector chunked like this one (so kernels can pair chunks). */
  like(label = "vector"): GpuVector {
    return GpuVector.create(this.gpu, this.length, { chunkElements: this.chunkElements, label });
  }

  /** Overwrites the whole vector with `data` (same length). */
  write(data: Float32Array): void {
    if (data.length !== this.length) {
      throw new TypeError(
        `Cannot write ${data.length} values into a vector of length ${this.length}`,
      );
    }
    for (const chunk of this.chunks) {
      if (chunk.length > 0) {
        this.gpu.write(chunk.buffer, data.subarray(chunk.start, chunk.start + chunk.length));
      }
    }
  }

  /** Sets every element to zero, in the pending batch. */
  clear(): void {
    for (const chunk of this.chunks) this.gpu.clear(chunk.buffer);
  }

  /** Copies this vector into `target` (same length and chunking), in the pending batch. */
  copyTo(target: GpuVector): void {
    this.assertSameShape(target, "copy");
    this.chunks.forEach((chunk, i) =>
      this.gpu.copy(chunk.buffer, 0, target.chunks[i]!.buffer, 0, chunk.buffer.size)
    );
  }

  /** Reads the whole vector back (one submit, one map). */
  async read(): Promise<Float32Array> {
    const parts = await this.gpu.readMany(
      this.chunks.map((c) => ({ buffer: c.buffer, size: c.length * 4 })),
    );
    const out = new Float32Array(this.length);
    parts.forEach((part, i) => out.set(new Float32Array(part), this.chunks[i]!.start));
    return out;
  }

  /** Throws unless `other` has the same length and chunking. */
  assertSameShape(other: GpuVector, action: string): void {
    if (other.length !== this.length || other.chunkElements !== this.chunkElements) {
      throw new TypeError(
        `Cannot ${action}: vectors differ (length ${this.length} by ${this.chunkElements} ` +
          `vs ${other.length} by ${other.chunkElements})`,
      );
    }
  }

  /** Frees the buffers. */
  destroy(): void {
    for (const chunk of this.chunks) chunk.buffer.destroy();
  }
}
