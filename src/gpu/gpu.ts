/**
 * The GPU context every kernel runs through: one device, its pipeline cache,
 * a batch of pending work that is submitted once, readback and timing.
 *
 * Deno polls the GPU, so every `mapAsync` or `onSubmittedWorkDone` costs
 * ≥ 10 ms, and a submit grows dear as a device accumulates resources. Work
 * is therefore recorded into one command encoder (one compute pass where
 * possible) and submitted only when results are read back or
 * {@linkcode Gpu.flush} is called: per-call uniform values and small
 * uploads wait in two arenas that are written once, just before the submit.
 *
 * Binding convention for every kernel: `@group(0)` holds the storage buffers
 * in the order given to {@linkcode Gpu.dispatch} (outputs first), and
 * `@group(1) @binding(0)` the uniform with per-call sizes, when there is one.
 *
 * @module
 */

import { acquireDevice, type DeviceInfo, type DeviceOptions, GpuError } from "./device.ts";
import { type Grid, workgroupGrid } from "./dispatch.ts";
import { type Constants, type Kernel, PipelineCache } from "./pipelines.ts";

/**
 * Bytes of the per-batch uniform arena: 4,096 dispatches at the usual 256-byte alignment. A full
 * arena submits the batch, and a submit is dear once a device holds many resources (~7 ms on
 * lavapipe after a few hundred training steps), so the arena is sized to outlast any batch.
 */
const ARENA_BYTES = 1 << 20;
/** Largest write that goes through the upload arena instead of a submit (64 KiB). */
export const UPLOAD_INLINE = 1 << 16;
/** Cached bind groups before the cache starts over (buffers dropped without destroy()). */
const MAX_BIND_GROUPS = 8192;

/** A storage binding: a whole buffer or a byte range of one. */
export type Binding = GPUBuffer | { buffer: GPUBuffer; offset?: number; size?: number };

/** One kernel launch for {@linkcode Gpu.dispatch}. */
export interface Dispatch {
  /** The kernel to run. */
  kernel: Kernel;
  /** Its `override` constants (part of the pipeline cache key). */
  constants?: Constants;
  /** Storage buffers for `@group(0)`, in binding order. */
  storage: readonly Binding[];
  /** Per-call values for the uniform at `@group(1) @binding(0)`. */
  uniform?: ArrayBufferView<ArrayBuffer>;
  /**
   * Workgroup count: a number is split over dimensions as
   * {@linkcode workgroupGrid} does, a triple is used as given.
   */
  workgroups: number | Grid;
}

/** A GPU timing from {@linkcode Gpu.time}. */
export interface Timing {
  /** Elapsed seconds. */
  seconds: number;
  /** `timestamp` when measured by GPU timestamp queries, `wall` otherwise. */
  source: "timestamp" | "wall";
}

interface TimingRegion {
  querySet: GPUQuerySet;
  begun: boolean;
}

/**
 * A device with its pipeline cache, pending command batch and error log.
 *
 * @example
 * ```ts
 * import { Gpu } from "./gpu.ts";
 * const gpu = await Gpu.create();
 * const buffer = gpu.upload(new Float32Array([1, 2, 3]));
 * console.log(new Float32Array(await gpu.read(buffer))); // Float32Array [1, 2, 3]
 * gpu.destroy();
 * ```
 */
export class Gpu {
  /** The WebGPU device. */
  readonly device: GPUDevice;
  /** What the device offers. */
  readonly info: DeviceInfo;
  /** Compiled pipelines, keyed by (kernel, constants). */
  readonly pipelines: PipelineCache;
  readonly #errors: string[] = [];
  #encoder: GPUCommandEncoder | null = null;
  /** Buffers destroyed while a batch was pending: freed once that batch is submitted. */
  #destroyAfterSubmit: (() => void)[] = [];
  #pass: GPUComputePassEncoder | null = null;
  #timing: TimingRegion | null = null;
  #lost = false;
  #liveBytes = 0;
  #peakBytes = 0;
  readonly #ids = new WeakMap<object, number>();
  #nextId = 1;
  readonly #bindGroups = new Map<string, GPUBindGroup>();
  readonly #groupsOf = new Map<number, string[]>();
  #arena: GPUBuffer | null = null;
  readonly #arenaData = new Uint8Array(ARENA_BYTES);
  #arenaUsed = 0;
  #upload: GPUBuffer | null = null;
  readonly #uploadData = new Uint8Array(ARENA_BYTES);
  #uploadUsed = 0;
  readonly #uniformAlign: number;

  private constructor(device: GPUDevice, info: DeviceInfo) {
    this.device = device;
    this.info = info;
    this.pipelines = new PipelineCache(device);
    this.#uniformAlign = Math.max(16, device.limits.minUniformBufferOffsetAlignment);
    device.addEventListener("uncapturederror", (event) => {
      this.#errors.push((event as GPUUncapturedErrorEvent).error.message);
    });
    device.lost.then((lost) => {
      this.#lost = true;
      if (lost.reason !== "destroyed") this.#errors.push(`device lost: ${lost.message}`);
    });
  }

  /** Acquires a device (see {@linkcode acquireDevice}) and wraps it. */
  static async create(options: DeviceOptions = {}): Promise<Gpu> {
    const { device, info } = await acquireDevice(options);
    return new Gpu(device, info);
  }

  /** Throws a {@linkcode GpuError} with every GPU error recorded since the last check. */
  throwIfErrors(action = "run GPU work"): void {
    if (this.#errors.length === 0) return;
    const messages = this.#errors.splice(0).join("\n");
    throw new GpuError(`Cannot ${action}: the GPU reported:\n${messages}`);
  }

  /** Bytes of the storage buffers created by {@linkcode Gpu.buffer} and not destroyed yet. */
  get liveBytes(): number {
    return this.#liveBytes;
  }

  /** The most {@linkcode Gpu.liveBytes} has been since creation or {@linkcode Gpu.resetPeak}. */
  get peakBytes(): number {
    return this.#peakBytes;
  }

  /** Starts a new peak measurement from the bytes live now. */
  resetPeak(): void {
    this.#peakBytes = this.#liveBytes;
  }

  /** Creates a storage buffer of `byteLength` bytes (rounded up to 16), zero-filled. */
  buffer(byteLength: number, label = "storage"): GPUBuffer {
    if (!Number.isFinite(byteLength) || byteLength < 0) {
      throw new RangeError(`Cannot create a buffer of ${byteLength} bytes`);
    }
    const size = Math.max(16, Math.ceil(byteLength / 16) * 16);
    if (size > this.info.maxBufferSize) {
      throw new RangeError(
        `Cannot create a buffer of ${byteLength} bytes: the device allows ${this.info.maxBufferSize}`,
      );
    }
    const buffer = this.device.createBuffer({
      label,
      size,
      usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST,
    });
    this.#liveBytes += size;
    this.#peakBytes = Math.max(this.#peakBytes, this.#liveBytes);
    // Count the bytes out again when the buffer is destroyed (once).
    const destroy = buffer.destroy.bind(buffer);
    let destroyed = false;
    buffer.destroy = () => {
      if (!destroyed) {
        this.#liveBytes -= size;
        const id = this.#ids.get(buffer);
        if (id !== undefined) this.#forgetBindGroups(id);
      }
      destroyed = true;
      // The pending batch may still write or read it: a destroyed buffer would fail the submit.
      if (this.#encoder) this.#destroyAfterSubmit.push(destroy);
      else destroy();
    };
    return buffer;
  }

  /** Creates a storage buffer holding `data`. */
  upload(data: ArrayBufferView, label = "storage"): GPUBuffer {
    const buffer = this.buffer(data.byteLength, label);
    this.write(buffer, data);
    return buffer;
  }

  /**
   * Writes `data` into `buffer` at `byteOffset`, after everything recorded
   * before it and before everything recorded after it. A small write (at
   * most {@linkcode UPLOAD_INLINE} bytes, 4-byte aligned) goes into the
   * batch's upload arena and a copy recorded in place, so it costs no
   * submit; a large one submits the pending work and is written directly.
   */
  write(buffer: GPUBuffer, data: ArrayBufferView, byteOffset = 0): void {
    const size = Math.ceil(data.byteLength / 4) * 4;
    if (size > 0 && size <= UPLOAD_INLINE && byteOffset % 4 === 0) {
      let at = this.#uploadUsed;
      if (at + size > ARENA_BYTES) {
        this.flush();
        at = 0;
      }
      this.#uploadData.fill(0, at + data.byteLength, at + size);
      this.#uploadData.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), at);
      this.#uploadUsed = at + size;
      this.#upload ??= this.device.createBuffer({
        label: "upload arena",
        size: ARENA_BYTES,
        usage: GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST,
      });
      this.#endPass();
      this.#commandEncoder().copyBufferToBuffer(this.#upload, at, buffer, byteOffset, size);
      return;
    }
    this.flush();
    // Copy only when writeBuffer cannot take the view as it is (odd length, shared memory):
    // parameter uploads are large and sit on the training path.
    if (data.byteLength % 4 === 0 && data.buffer instanceof ArrayBuffer) {
      this.device.queue.writeBuffer(
        buffer,
        byteOffset,
        data.buffer,
        data.byteOffset,
        data.byteLength,
      );
    } else {
      this.device.queue.writeBuffer(buffer, byteOffset, copyPadded(data));
    }
  }

  /**
   * Records one kernel launch into the pending batch. The hot path creates
   * nothing: a compiled pipeline is looked up without waiting, bind groups
   * are cached by their buffers and ranges, and the per-call uniform values
   * go into the batch's uniform arena, one `writeBuffer` at submit.
   */
  async dispatch(launch: Dispatch): Promise<void> {
    const pipeline = this.pipelines.compiled(launch.kernel, launch.constants) ??
      await this.pipelines.get(launch.kernel, launch.constants);
    const grid = typeof launch.workgroups === "number"
      ? workgroupGrid(launch.workgroups, this.info.maxComputeWorkgroupsPerDimension)
      : launch.workgroups;
    if (grid[0] * grid[1] * grid[2] === 0) return;
    const storage = this.#bindGroup(pipeline, 0, launch.storage, launch.kernel.name);
    const uniform = launch.uniform
      ? this.#bindGroup(pipeline, 1, [this.#arenaSlot(launch.uniform)], launch.kernel.name)
      : null;
    const pass = this.#computePass();
    pass.setPipeline(pipeline);
    pass.setBindGroup(0, storage);
    if (uniform) pass.setBindGroup(1, uniform);
    pass.dispatchWorkgroups(grid[0], grid[1], grid[2]);
  }

  /** A small integer naming `object` (a buffer or a pipeline) in cache keys. */
  #id(object: object): number {
    let id = this.#ids.get(object);
    if (id === undefined) {
      id = this.#nextId++;
      this.#ids.set(object, id);
    }
    return id;
  }

  /** The bind group `index` of `pipeline` over `bindings`, created once per distinct key. */
  #bindGroup(
    pipeline: GPUComputePipeline,
    index: number,
    bindings: readonly Binding[],
    label: string,
  ): GPUBindGroup {
    let key = `${this.#id(pipeline)}/${index}`;
    const buffers: number[] = [];
    for (const binding of bindings) {
      const b = binding instanceof GPUBuffer ? { buffer: binding } : binding;
      const id = this.#id(b.buffer);
      buffers.push(id);
      key += `|${id}:${b.offset ?? 0}:${b.size ?? ""}`;
    }
    let group = this.#bindGroups.get(key);
    if (!group) {
      if (this.#bindGroups.size >= MAX_BIND_GROUPS) this.#forgetBindGroups();
      group = this.device.createBindGroup({
        label,
        layout: pipeline.getBindGroupLayout(index),
        entries: bindings.map((binding, i) => ({
          binding: i,
          resource: binding instanceof GPUBuffer ? { buffer: binding } : binding,
        })),
      });
      this.#bindGroups.set(key, group);
      for (const id of buffers) {
        let keys = this.#groupsOf.get(id);
        if (!keys) this.#groupsOf.set(id, keys = []);
        keys.push(key);
      }
    }
    return group;
  }

  /** Drops the cached bind groups that use buffer `id` (it is being destroyed), or all. */
  #forgetBindGroups(id?: number): void {
    if (id === undefined) {
      this.#bindGroups.clear();
      this.#groupsOf.clear();
      return;
    }
    for (const key of this.#groupsOf.get(id) ?? []) this.#bindGroups.delete(key);
    this.#groupsOf.delete(id);
  }

  /**
   * Copies per-call uniform values into the batch's arena and returns their
   * binding. A full arena submits the batch first (its values are written then).
   */
  #arenaSlot(values: ArrayBufferView<ArrayBuffer>): Binding {
    const size = Math.max(16, Math.ceil(values.byteLength / 16) * 16);
    let offset = Math.ceil(this.#arenaUsed / this.#uniformAlign) * this.#uniformAlign;
    if (offset + size > ARENA_BYTES) {
      this.flush();
      offset = 0;
    }
    this.#arenaData.fill(0, offset, offset + size);
    this.#arenaData.set(
      new Uint8Array(values.buffer, values.byteOffset, values.byteLength),
      offset,
    );
    this.#arenaUsed = offset + size;
    this.#arena ??= this.device.createBuffer({
      label: "uniform arena",
      size: ARENA_BYTES,
      usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST,
    });
    return { buffer: this.#arena, offset, size };
  }

  /** Records a buffer-to-buffer copy into the pending batch. */
  copy(
    source: GPUBuffer,
    sourceOffset: number,
    target: GPUBuffer,
    targetOffset: number,
    byteLength: number,
  ): void {
    this.#endPass();
    this.#commandEncoder().copyBufferToBuffer(
      source,
      sourceOffset,
      target,
      targetOffset,
      byteLength,
    );
  }

  /** Records zeroing of `byteLength` bytes of `buffer` from `byteOffset` (multiples of 4). */
  clear(buffer: GPUBuffer, byteOffset = 0, byteLength?: number): void {
    this.#endPass();
    this.#commandEncoder().clearBuffer(buffer, byteOffset, byteLength ?? buffer.size - byteOffset);
  }

  /** Submits the pending batch (no wait), its uniform values written just before. */
  flush(): void {
    if (!this.#encoder) return;
    this.#endPass();
    const commands = this.#encoder.finish();
    this.#encoder = null;
    // Queue order: these writes land after the batches already submitted have run.
    if (this.#arenaUsed > 0) {
      this.device.queue.writeBuffer(this.#arena!, 0, this.#arenaData.buffer, 0, this.#arenaUsed);
      this.#arenaUsed = 0;
    }
    if (this.#uploadUsed > 0) {
      this.device.queue.writeBuffer(this.#upload!, 0, this.#uploadData.buffer, 0, this.#uploadUsed);
      this.#uploadUsed = 0;
    }
    this.device.queue.submit([commands]);
    for (const destroy of this.#destroyAfterSubmit.splice(0)) destroy();
  }

  /** Submits the pending batch and waits until the GPU has finished it. */
  async sync(): Promise<void> {
    this.flush();
    await this.device.queue.onSubmittedWorkDone();
    this.throwIfErrors();
  }

  /** Reads `byteLength` bytes of `buffer` from `byteOffset` (after all pending work). */
  async read(buffer: GPUBuffer, byteOffset = 0, byteLength?: number): Promise<ArrayBuffer> {
    const [result] = await this.readMany([{
      buffer,
      offset: byteOffset,
      size: byteLength ?? buffer.size - byteOffset,
    }]);
    return result!;
  }

  /**
   * Reads several buffer ranges with one submit and one map: each readback
   * costs a GPU round trip, so gather what is needed and read it together.
   */
  async readMany(
    ranges: readonly { buffer: GPUBuffer; offset?: number; size: number }[],
  ): Promise<ArrayBuffer[]> {
    const offsets: number[] = [];
    let total = 0;
    for (const range of ranges) {
      const offset = range.offset ?? 0;
      if (offset % 4 !== 0 || range.size % 4 !== 0 || offset + range.size > range.buffer.size) {
        throw new RangeError(
          `Cannot read bytes ${offset}..${offset + range.size} of "${range.buffer.label}" ` +
            `(${range.buffer.size} bytes): ranges must be 4-byte aligned and inside the buffer`,
        );
      }
      offsets.push(total);
      total += range.size;
    }
    if (total === 0) return ranges.map(() => new ArrayBuffer(0));
    const staging = this.device.createBuffer({
      label: "readback",
      size: total,
      usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
    });
    ranges.forEach((range, i) => {
      if (range.size > 0) {
        this.copy(range.buffer, range.offset ?? 0, staging, offsets[i]!, range.size);
      }
    });
    this.flush();
    try {
      await staging.mapAsync(GPUMapMode.READ);
    } catch (error) {
      this.throwIfErrors("read back results");
      throw new GpuError(`Cannot read back results: ${error}`);
    }
    const mapped = staging.getMappedRange();
    const results = ranges.map((range, i) => mapped.slice(offsets[i]!, offsets[i]! + range.size));
    staging.unmap();
    staging.destroy();
    this.throwIfErrors("read back results");
    return results;
  }

  /**
   * Times the GPU work that `encode` records: with timestamp queries around
   * its compute passes where the device has them, by the wall clock from
   * submit to completion otherwise (which includes Deno's ≥ 10 ms polling).
   */
  async time(encode: () => Promise<void> | void): Promise<Timing> {
    await this.sync();
    const querySet = this.info.timestamps
      ? this.device.createQuerySet({ type: "timestamp", count: 2 })
      : null;
    if (querySet) this.#timing = { querySet, begun: false };
    const start = performance.now();
    try {
      await encode();
    } finally {
      this.#endPass();
      this.#timing = null;
    }
    if (!querySet) {
      await this.sync();
      return { seconds: (performance.now() - start) / 1000, source: "wall" };
    }
    const resolved = this.device.createBuffer({
      label: "timestamps",
      size: 16,
      usage: GPUBufferUsage.QUERY_RESOLVE | GPUBufferUsage.COPY_SRC,
    });
    this.#commandEncoder().resolveQuerySet(querySet, 0, 2, resolved, 0);
    const bytes = await this.read(resolved);
    const wall = (performance.now() - start) / 1000;
    const [begin, end] = new BigUint64Array(bytes);
    querySet.destroy();
    resolved.destroy();
    const nanoseconds = Number(end! - begin!);
    // Some adapters report zero or garbage timestamps; the wall clock is the honest fallback.
    if (!(nanoseconds > 0) || nanoseconds / 1e9 > wall * 1.5) {
      return { seconds: wall, source: "wall" };
    }
    return { seconds: nanoseconds / 1e9, source: "timestamp" };
  }

  /** Releases the device; the context is unusable afterwards. */
  destroy(): void {
    this.#encoder = null;
    this.#pass = null;
    if (!this.#lost) this.device.destroy();
  }

  #commandEncoder(): GPUCommandEncoder {
    this.#encoder ??= this.device.createCommandEncoder();
    return this.#encoder;
  }

  #computePass(): GPUComputePassEncoder {
    if (this.#pass) return this.#pass;
    const timing = this.#timing;
    let timestampWrites: GPUComputePassTimestampWrites | undefined;
    if (timing) {
      timestampWrites = timing.begun
        ? { querySet: timing.querySet, endOfPassWriteIndex: 1 }
        : { querySet: timing.querySet, beginningOfPassWriteIndex: 0, endOfPassWriteIndex: 1 };
      timing.begun = true;
    }
    this.#pass = this.#commandEncoder().beginComputePass(
      timestampWrites ? { timestampWrites } : {},
    );
    return this.#pass;
  }

  #endPass(): void {
    this.#pass?.end();
    this.#pass = null;
  }
}

/** The bytes of `data` in a fresh buffer, padded to a multiple of 4 as writeBuffer requires. */
function copyPadded(data: ArrayBufferView): Uint8Array<ArrayBuffer> {
  const padded = new Uint8Array(Math.ceil(data.byteLength / 4) * 4);
  padded.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
  return padded;
}
