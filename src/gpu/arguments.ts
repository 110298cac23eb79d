/**
 * Checks of the arguments a kernel's TypeScript wrapper receives (binding
 * sizes, integer and finite scalars, with `Cannot <action>: …` errors) and
 * the placeholder bound where a kernel's optional input is absent.
 *
 * @module
 */

import type { Binding, Gpu } from "./gpu.ts";

/** The bytes a binding spans (the whole buffer, or its explicit range). */
export function bindingBytes(binding: Binding): number {
  if (binding instanceof GPUBuffer) return binding.size;
  return binding.size ?? binding.buffer.size - (binding.offset ?? 0);
}

/** Throws a TypeError unless `binding` holds at least `elements` 4-byte values. */
export function requireElements(
  action: string,
  name: string,
  binding: Binding,
  elements: number,
): void {
  const have = Math.floor(bindingBytes(binding) / 4);
  if (have < elements) {
    throw new TypeError(
      `Cannot ${action}: ${name} holds ${have} values, the shape needs ${elements}`,
    );
  }
}

/** Throws a TypeError unless `value` is an integer ≥ `min`. */
export function requireInt(action: string, name: string, value: number, min = 1): void {
  if (!Number.isSafeInteger(value) || value < min) {
    throw new TypeError(`Cannot ${action}: ${name} must be an integer ≥ ${min}, got ${value}`);
  }
}

/** Throws a RangeError unless `value` is a finite number. */
export function requireFinite(action: string, name: string, value: number): void {
  if (!Number.isFinite(value)) {
    throw new RangeError(`Cannot ${action}: ${name} must be finite, got ${value}`);
  }
}

const placeholders = new WeakMap<Gpu, GPUBuffer>();

/**
 * A 16-byte buffer bound where a kernel's optional input is absent (WGSL
 * cannot drop a binding by an `override`; the kernel never reads it then).
 * The device's own, like its uniform arena: made on first use and kept out
 * of {@linkcode Gpu.liveBytes}, so that a run's peak memory does not
 * depend on whether an earlier run in the process made it first.
 */
export function placeholder(gpu: Gpu): GPUBuffer {
  let buffer = placeholders.get(gpu);
  if (!buffer) {
    buffer = gpu.device.createBuffer({
      label: "placeholder",
      size: 16,
      usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST,
    });
    placeholders.set(gpu, buffer);
  }
  return buffer;
}
