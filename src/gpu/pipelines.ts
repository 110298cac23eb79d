/**
 * Compute pipelines compiled from WGSL kernels, cached by (kernel, constants).
 *
 * A compilation or validation failure is rethrown with the kernel's name and
 * the WGSL compiler's own messages (line:column), never left for WebGPU to
 * report as an anonymous invalid pipeline later.
 *
 * @module
 */

import { GpuError } from "./device.ts";

/** A WGSL kernel: one `main` entry point, named after its file in `kernels/`. */
export interface Kernel {
  /** The file name without `.wgsl`, e.g. `axpy`. */
  readonly name: string;
  /** The WGSL source. */
  readonly code: string;
}

/** Values for a kernel's `override` constants, e.g. the workgroup size. */
export type Constants = Readonly<Record<string, number>>;

function cacheKey(kernel: Kernel, constants: Constants): string {
  const entries = Object.keys(constants).sort().map((k) => `${k}=${constants[k]}`);
  return `${kernel.name}|${entries.join(",")}`;
}

function formatMessages(messages: readonly GPUCompilationMessage[]): string {
  return messages
    .map((m) => `${m.type} at ${m.lineNum}:${m.linePos}: ${m.message.trim()}`)
    .join("\n");
}

/**
 * Compiles kernels once per (kernel, constants) and hands out the cached pipeline.
 *
 * @example
 * ```ts
 * import { Gpu } from "./gpu.ts";
 * const gpu = await Gpu.create();
 * const kernel = {
 *   name: "noop",
 *   code: "override WG: u32 = 1; @compute @workgroup_size(WG) fn main() {}",
 * };
 * const a = await gpu.pipelines.get(kernel, { WG: 64 });
 * console.log(a === await gpu.pipelines.get(kernel, { WG: 64 })); // true
 * gpu.destroy();
 * ```
 */
export class PipelineCache {
  readonly #device: GPUDevice;
  readonly #pipelines = new Map<string, Promise<GPUComputePipeline>>();
  readonly #ready = new Map<string, GPUComputePipeline>();
  readonly #modules = new Map<string, Promise<GPUShaderModule>>();

  /**
   * Creates an empty cache.
   * @param device the device the pipelines belong to
   */
  constructor(device: GPUDevice) {
    this.#device = device;
  }

  /** Number of distinct pipelines compiled so far. */
  get size(): number {
    return this.#pipelines.size;
  }

  /** The pipeline for `kernel` with `constants`, compiled on first use. */
  get(kernel: Kernel, constants: Constants = {}): Promise<GPUComputePipeline> {
    const key = cacheKey(kernel, constants);
    let pipeline = this.#pipelines.get(key);
    if (!pipeline) {
      pipeline = this.#compile(kernel, constants);
      pipeline.then((ready) => this.#ready.set(key, ready), () => this.#pipelines.delete(key));
      this.#pipelines.set(key, pipeline);
    }
    return pipeline;
  }

  /**
   * The pipeline for `kernel` with `constants` if it is compiled already,
   * without waiting (the recording hot path), else undefined.
   */
  compiled(kernel: Kernel, constants: Constants = {}): GPUComputePipeline | undefined {
    return this.#ready.get(cacheKey(kernel, constants));
  }

  #module(kernel: Kernel): Promise<GPUShaderModule> {
    let module = this.#modules.get(kernel.name);
    if (!module) {
      module = this.#compileModule(kernel);
      module.catch(() => this.#modules.delete(kernel.name));
      this.#modules.set(kernel.name, module);
    }
    return module;
  }

  async #compileModule(kernel: Kernel): Promise<GPUShaderModule> {
    const device = this.#device;
    device.pushErrorScope("validation");
    const module = device.createShaderModule({ label: kernel.name, code: kernel.code });
    const info = await module.getCompilationInfo();
    const scopeError = await device.popErrorScope();
    const errors = info.messages.filter((m) => m.type === "error");
    if (errors.length > 0 || scopeError) {
      const detail = errors.length > 0 ? formatMessages(errors) : scopeError!.message;
      throw new GpuError(`Cannot compile kernel "${kernel.name}":\n${detail}`);
    }
    return module;
  }

  async #compile(kernel: Kernel, constants: Constants): Promise<GPUComputePipeline> {
    const module = await this.#module(kernel);
    const device = this.#device;
    device.pushErrorScope("validation");
    device.pushErrorScope("internal");
    let pipeline: GPUComputePipeline;
    try {
      pipeline = device.createComputePipeline({
        label: kernel.name,
        layout: "auto",
        compute: { module, entryPoint: "main", constants: { ...constants } },
      });
    } catch (error) {
      await device.popErrorScope();
      await device.popErrorScope();
      throw new GpuError(
        `Cannot create pipeline "${kernel.name}" with ${JSON.stringify(constants)}: ${error}`,
      );
    }
    const internal = await device.popErrorScope();
    const validation = await device.popErrorScope();
    const error = validation ?? internal;
    if (error) {
      throw new GpuError(
        `Cannot create pipeline "${kernel.name}" with ${JSON.stringify(constants)}:\n` +
          error.message,
      );
    }
    return pipeline;
  }
}
