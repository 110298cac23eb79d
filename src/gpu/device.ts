/**
 * WebGPU adapter and device acquisition (DESIGN.md §3).
 *
 * The device is requested with the adapter's real limits (the defaults are
 * far smaller than what llvmpipe or a real GPU offers) and with the optional
 * features this toolkit can use: `subgroups` for the fast matmul path and
 * `timestamp-query` for GPU timing. Every GPU error that WebGPU would report
 * only through the `uncapturederror` event is recorded and rethrown at the
 * next synchronisation point, so no error is ever silently dropped.
 *
 * @module
 */

/** A wgpu backend that `DENO_WEBGPU_BACKEND` understands. */
export type Backend = "vulkan" | "gl" | "metal" | "dx12";

/**
 * The backends {@linkcode acquireDevice} accepts, in the order users meet them.
 *
 * @example
 * ```ts
 * import { BACKENDS } from "./device.ts";
 * console.log(BACKENDS.includes("gl")); // true
 * ```
 */
export const BACKENDS: readonly Backend[] = ["vulkan", "gl", "metal", "dx12"];

/** Options for {@linkcode acquireDevice}. */
export interface DeviceOptions {
  /**
   * Force a wgpu backend. Sets `DENO_WEBGPU_BACKEND` before the first adapter
   * request, so it needs `--allow-env` and must be chosen before any other
   * WebGPU call in the process.
   */
  backend?: Backend;
  /** Do not request optional features (to exercise the portable kernels). */
  portable?: boolean;
}

/** What the acquired device offers, as the kernels need to know it. */
export interface DeviceInfo {
  /** The adapter's description, e.g. `llvmpipe (LLVM 15.0.6, 256 bits)`. */
  description: string;
  /** The backend that was forced, or `"default"`. */
  backend: Backend | "default";
  /** Whether subgroup operations are enabled on the device. */
  subgroups: boolean;
  /** The subgroup size range the adapter reports (0 when unknown). */
  subgroupMinSize: number;
  /** The largest subgroup size the adapter reports (0 when unknown). */
  subgroupMaxSize: number;
  /** Whether `timestamp-query` is enabled on the device. */
  timestamps: boolean;
  /** Whether the adapter is a software fallback adapter. */
  fallback: boolean;
  /** Bytes one storage binding may span. */
  maxStorageBufferBindingSize: number;
  /** Bytes one buffer may hold. */
  maxBufferSize: number;
  /** Workgroups per dispatch dimension. */
  maxComputeWorkgroupsPerDimension: number;
  /** Storage buffers one kernel may bind. */
  maxStorageBuffersPerShaderStage: number;
  /** Bytes of workgroup memory. */
  maxComputeWorkgroupStorageSize: number;
  /** Invocations per workgroup. */
  maxComputeInvocationsPerWorkgroup: number;
}

/**
 * Thrown when no WebGPU adapter is available; its message says what to install.
 *
 * @example
 * ```ts
 * import { NoAdapterError } from "./device.ts";
 * console.log(new NoAdapterError("no adapter was found").message.includes("mesa-vulkan-drivers")); // true
 * ```
 */
export class NoAdapterError extends Error {
  /**
   * Creates the error.
   * @param detail why no adapter could be had
   */
  constructor(detail: string) {
    super(
      `Cannot acquire a WebGPU adapter: ${detail}. ` +
        "On a machine without a GPU install Mesa's software adapter " +
        "(Debian/Ubuntu: `apt-get install mesa-vulkan-drivers`), or force a backend " +
        "with `--backend gl` (DENO_WEBGPU_BACKEND=gl).",
    );
    this.name = "NoAdapterError";
  }
}

/**
 * Thrown when the GPU reported an error (validation, out of memory, device lost).
 *
 * @example
 * ```ts
 * import { GpuError } from "./device.ts";
 * import { Gpu } from "./gpu.ts";
 * const gpu = await Gpu.create();
 * try {
 *   await gpu.pipelines.get({ name: "bad", code: "fn main( {" });
 * } catch (error) {
 *   console.log(error instanceof GpuError); // true
 * }
 * gpu.destroy();
 * ```
 */
export class GpuError extends Error {
  /**
   * Creates the error.
   * @param message what went wrong, with the GPU's own messages
   */
  constructor(message: string) {
    super(message);
    this.name = "GpuError";
  }
}

const LIMIT_NAMES = [
  "maxStorageBufferBindingSize",
  "maxBufferSize",
  "maxComputeWorkgroupsPerDimension",
  "maxStorageBuffersPerShaderStage",
  "maxComputeWorkgroupStorageSize",
  "maxComputeInvocationsPerWorkgroup",
  "maxComputeWorkgroupSizeX",
  "maxComputeWorkgroupSizeY",
  "maxComputeWorkgroupSizeZ",
  "maxBindGroups",
  "maxUniformBufferBindingSize",
] as const;

/** Whether this runtime is Deno and may read `variable` (a browser has no environment). */
function envAllowed(variable: string): boolean {
  return typeof Deno !== "undefined" &&
    Deno.permissions.querySync({ name: "env", variable }).state === "granted";
}

/** Mesa prints a warning on every adapter request when XDG_RUNTIME_DIR is unset. */
function quietMesa(): void {
  if (envAllowed("XDG_RUNTIME_DIR") && !Deno.env.get("XDG_RUNTIME_DIR")) {
    Deno.env.set("XDG_RUNTIME_DIR", "/tmp");
  }
}

function selectBackend(backend: Backend | undefined): Backend | "default" {
  if (backend === undefined) {
    const fromEnv = envAllowed("DENO_WEBGPU_BACKEND") ? Deno.env.get("DENO_WEBGPU_BACKEND") : "";
    return BACKENDS.includes(fromEnv as Backend) ? fromEnv as Backend : "default";
  }
  if (!BACKENDS.includes(backend)) {
    throw new RangeError(
      `Cannot select backend "${backend}": expected one of ${BACKENDS.join(", ")}`,
    );
  }
  if (!envAllowed("DENO_WEBGPU_BACKEND")) {
    throw new Deno.errors.NotCapable(
      `Cannot select backend "${backend}": it is set through DENO_WEBGPU_BACKEND, ` +
        "which needs --allow-env",
    );
  }
  Deno.env.set("DENO_WEBGPU_BACKEND", backend);
  return backend;
}

/**
 * Requests a device with optional features. Deno's adapter does not list
 * `subgroups` among its features even where the Vulkan backend supports
 * them, so the feature is asked for and the request retried without it.
 */
async function requestDevice(
  adapter: GPUAdapter,
  features: GPUFeatureName[],
  requiredLimits: Record<string, number>,
): Promise<GPUDevice> {
  try {
    return await adapter.requestDevice({ requiredFeatures: features, requiredLimits });
  } catch (error) {
    if (features.length === 0) throw error;
    const fewer = features.filter((f) => f !== "subgroups" as GPUFeatureName);
    if (fewer.length === features.length) throw error;
    return requestDevice(adapter, fewer, requiredLimits);
  }
}

/**
 * Acquires a WebGPU device with the adapter's full limits.
 *
 * @example
 * ```ts
 * import { acquireDevice } from "./device.ts";
 * const { device, info } = await acquireDevice();
 * console.log(info.description, info.maxStorageBufferBindingSize);
 * device.destroy();
 * ```
 */
export async function acquireDevice(
  options: DeviceOptions = {},
): Promise<{ device: GPUDevice; info: DeviceInfo }> {
  quietMesa();
  const backend = selectBackend(options.backend);
  if (typeof navigator === "undefined" || !("gpu" in navigator)) {
    throw new NoAdapterError("this runtime has no navigator.gpu (Deno ≥ 2.8 is required)");
  }
  const adapter = await navigator.gpu.requestAdapter({ powerPreference: "high-performance" });
  if (!adapter) {
    throw new NoAdapterError(
      backend === "default" ? "no adapter was found" : `the ${backend} backend offers none`,
    );
  }
  const requiredLimits: Record<string, number> = {};
  const limits = adapter.limits as unknown as Record<string, number>;
  for (const name of LIMIT_NAMES) {
    const value = limits[name];
    if (typeof value === "number") requiredLimits[name] = value;
  }
  const wanted: GPUFeatureName[] = options.portable ? [] : [
    "subgroups" as GPUFeatureName,
    ...(adapter.features.has("timestamp-query") ? ["timestamp-query" as GPUFeatureName] : []),
  ];
  const device = await requestDevice(adapter, wanted, requiredLimits);
  const adapterInfo = adapter.info as GPUAdapterInfo & {
    subgroupMinSize?: number;
    subgroupMaxSize?: number;
    isFallbackAdapter?: boolean;
  };
  const info: DeviceInfo = {
    description: adapterInfo.description || adapterInfo.device || "unknown adapter",
    backend,
    subgroups: device.features.has("subgroups"),
    subgroupMinSize: adapterInfo.subgroupMinSize ?? 0,
    subgroupMaxSize: adapterInfo.subgroupMaxSize ?? 0,
    timestamps: device.features.has("timestamp-query"),
    fallback: adapterInfo.isFallbackAdapter ?? false,
    maxStorageBufferBindingSize: device.limits.maxStorageBufferBindingSize,
    maxBufferSize: device.limits.maxBufferSize,
    maxComputeWorkgroupsPerDimension: device.limits.maxComputeWorkgroupsPerDimension,
    maxStorageBuffersPerShaderStage: device.limits.maxStorageBuffersPerShaderStage,
    maxComputeWorkgroupStorageSize: device.limits.maxComputeWorkgroupStorageSize,
    maxComputeInvocationsPerWorkgroup: device.limits.maxComputeInvocationsPerWorkgroup,
  };
  return { device, info };
}
