/**
 * Rotary position embedding (RoPE) in the Hugging Face LLaMA convention
 * (DESIGN.md §3, model): each head's two halves are rotated as a pair,
 * `x₁' = x₁·cos − x₂·sin`, `x₂' = x₂·cos + x₁·sin`, by the angle
 * `pos · θ^(−2i/D)` for i < D/2. The backward pass is the rotation by −angle.
 *
 * Angles come from a table of (cos, sin) built once per model
 * ({@linkcode ropeTable}); it is computed like `LlamaRotaryEmbedding`
 * (f32 inverse frequencies and f32 angles), with cos and sin taken in double
 * precision, so positions in the thousands keep full f32 accuracy on every
 * adapter (GPU sin/cos of large angles are often coarse).
 *
 * @module
 */

import * as kernels from "../../../kernels/mod.ts";
import type { Binding, Gpu } from "../../gpu/gpu.ts";
import { placeholder, requireElements, requireFinite, requireInt } from "../../gpu/arguments.ts";
import { packUniform } from "../../gpu/uniform.ts";
import { groupsFor, WORKGROUP } from "./_common.ts";

/** The rotary angle table's size and base. */
export interface RopeTableOptions {
  /** Head dimension D (even). */
  headDim: number;
  /** Positions 0 … maxPositions − 1 the table covers. */
  maxPositions: number;
  /** Frequency base θ (LLaMA: 10000). Defaults to 10000. */
  theta?: number;
}

/** Shape of one RoPE application: x is [T, heads, headDim]. */
export interface RopeShape {
  /** Tokens. */
  T: number;
  /** Heads per token (query heads for q, KV heads for k). */
  heads: number;
  /** Head dimension D (even). */
  headDim: number;
  /** Positions in the table (its `maxPositions`). */
  maxPositions: number;
  /**
   * Added to every position: the position of token t is `offset + t`
   * without a positions array (e.g. KV-cache generation at position
   * `offset`), `offset + positions[t]` with one. Defaults to 0.
   */
  offset?: number;
}

function checkTable(action: string, options: RopeTableOptions): number {
  requireInt(action, "headDim", options.headDim, 2);
  if (options.headDim % 2 !== 0) {
    throw new TypeError(`Cannot ${action}: headDim must be even, got ${options.headDim}`);
  }
  requireInt(action, "maxPositions", options.maxPositions);
  const theta = options.theta ?? 10000;
  requireFinite(action, "theta", theta);
  if (theta <= 0) throw new RangeError(`Cannot ${action}: theta must be > 0, got ${theta}`);
  return theta;
}

/**
 * The (cos, sin) table as a Float32Array [maxPositions, headDim/2, 2], computed
 * as Hugging Face's `LlamaRotaryEmbedding` does in f32 (inverse frequency
 * `1 / θ^(2i/D)` and angle `pos · inv_freq` rounded to f32), with cos and sin
 * of that f32 angle rounded once.
 *
 * @example
 * ```ts
 * import { ropeTableReference } from "./rope.ts";
 * const table = ropeTableReference({ headDim: 2, maxPositions: 2 });
 * console.log(Array.from(table, (v) => v.toFixed(4))); // [ "1.0000", "0.0000", "0.5403", "0.8415" ]
 * ```
 */
export function ropeTableReference(options: RopeTableOptions): Float32Array {
  const theta = checkTable("build a RoPE table", options);
  const { headDim, maxPositions } = options;
  const half = headDim / 2;
  const inv = new Float64Array(half);
  for (let i = 0; i < half; i++) {
    inv[i] = Math.fround(1 / Math.fround(theta ** Math.fround((2 * i) / headDim)));
  }
  const table = new Float32Array(maxPositions * half * 2);
  for (let pos = 0; pos < maxPositions; pos++) {
    for (let i = 0; i < half; i++) {
      const angle = Math.fround(pos * inv[i]!);
      table[(pos * half + i) * 2] = Math.cos(angle);
      table[(pos * half + i) * 2 + 1] = Math.sin(angle);
    }
  }
  return table;
}

/**
 * Uploads {@linkcode ropeTableReference}'s table: the `table` binding of
 * {@linkcode ropeForward} and {@linkcode ropeBackward}.
 *
 * @example
 * ```ts
 * import { ropeTable } from "./rope.ts";
 * import { Gpu } from "../../gpu/gpu.ts";
 * const gpu = await Gpu.create();
 * const table = ropeTable(gpu, { headDim: 64, maxPositions: 2048, theta: 10000 });
 * console.log(table.size); // 524288
 * gpu.destroy();
 * ```
 */
export function ropeTable(gpu: Gpu, options: RopeTableOptions): GPUBuffer {
  return gpu.upload(ropeTableReference(options), "rope table");
}

/** Buffers of {@linkcode ropeForward} and {@linkcode ropeBackward}. */
export interface RopeBuffers {
  /** [T, heads, headDim]: rotated in place, or the input when `out` is given. */
  x: Binding;
  /** Optional output [T, heads, headDim]: x is copied here and rotated (out of place). */
  out?: Binding;
  /** The table from {@linkcode ropeTable} [maxPositions, headDim/2, 2]. */
  table: Binding;
  /** Optional Int32 [T]: token positions (packed sequences restart at 0). */
  positions?: Binding;
}

async function rotate(
  gpu: Gpu,
  buffers: RopeBuffers,
  shape: RopeShape,
  sign: 1 | -1,
  action: string,
): Promise<void> {
  requireInt(action, "T", shape.T);
  requireInt(action, "heads", shape.heads);
  checkTable(action, { headDim: shape.headDim, maxPositions: shape.maxPositions });
  const offset = shape.offset ?? 0;
  if (!Number.isSafeInteger(offset) || Math.abs(offset) >= 2 ** 31) {
    throw new TypeError(`Cannot ${action}: offset must be a 32-bit integer, got ${offset}`);
  }
  const { T, heads, headDim, maxPositions } = shape;
  const n = T * heads * headDim;
  requireElements(action, "x", buffers.x, n);
  requireElements(action, "table", buffers.table, maxPositions * headDim);
  if (buffers.positions) requireElements(action, "positions", buffers.positions, T);
  let target = buffers.x;
  if (buffers.out) {
    requireElements(action, "out", buffers.out, n);
    const from = asRange(buffers.x);
    const to = asRange(buffers.out);
    gpu.copy(from.buffer, from.offset, to.buffer, to.offset, n * 4);
    target = buffers.out;
  }
  await gpu.dispatch({
    kernel: kernels.rope,
    constants: { WG: WORKGROUP, HAS_POSITIONS: buffers.positions ? 1 : 0 },
    storage: [target, buffers.table, buffers.positions ?? placeholder(gpu)],
    uniform: packUniform([
      ["u", T],
      ["u", heads],
      ["u", headDim / 2],
      ["u", maxPositions],
      ["i", offset],
      ["f", sign],
    ]),
    workgroups: groupsFor(T * heads),
  });
}

function asRange(binding: Binding): { buffer: GPUBuffer; offset: number } {
  return binding instanceof GPUBuffer
    ? { buffer: binding, offset: 0 }
    : { buffer: binding.buffer, offset: binding.offset ?? 0 };
}

/**
 * Records RoPE (rotation by +angle) on x [T, heads, headDim], in place or
 * into `out`. Apply it to q (heads = H) and k (heads = Hkv) separately.
 * A position outside the table turns its head into NaN.
 *
 * @example
 * ```ts
 * import { ropeForward, ropeTable } from "./rope.ts";
 * import { Gpu } from "../../gpu/gpu.ts";
 * const gpu = await Gpu.create();
 * const table = ropeTable(gpu, { headDim: 2, maxPositions: 8 });
 * const x = gpu.upload(new Float32Array([1, 0, 1, 0])); // T = 2, one head, D = 2
 * await ropeForward(gpu, { x, table }, { T: 2, heads: 1, headDim: 2, maxPositions: 8, offset: 2 });
 * const out = new Float32Array(await gpu.read(x));
 * console.log(Array.from(out, (v) => v.toFixed(3))); // [ "-0.416", "0.909", "-0.990", "0.141" ]
 * gpu.destroy();
 * ```
 */
export function ropeForward(gpu: Gpu, buffers: RopeBuffers, shape: RopeShape): Promise<void> {
  return rotate(gpu, buffers, shape, 1, "run RoPE forward");
}

/**
 * Records the RoPE backward pass (rotation by −angle) on a gradient
 * [T, heads, headDim], in place or into `out`.
 *
 * @example
 * ```ts
 * import { ropeBackward, ropeForward, ropeTable } from "./rope.ts";
 * import { Gpu } from "../../gpu/gpu.ts";
 * const gpu = await Gpu.create();
 * const table = ropeTable(gpu, { headDim: 2, maxPositions: 8 });
 * const x = gpu.upload(new Float32Array([0.6, 0.8]));
 * const shape = { T: 1, heads: 1, headDim: 2, maxPositions: 8, offset: 5 };
 * await ropeForward(gpu, { x, table }, shape);
 * await ropeBackward(gpu, { x, table }, shape); // the inverse rotation
 * const out = new Float32Array(await gpu.read(x), 0, 2);
 * console.log(Array.from(out, (v) => v.toFixed(3))); // [ "0.600", "0.800" ]
 * gpu.destroy();
 * ```
 */
export function ropeBackward(gpu: Gpu, buffers: RopeBuffers, shape: RopeShape): Promise<void> {
  return rotate(gpu, buffers, shape, -1, "run RoPE backward");
}

/** Options of the RoPE references: the shape, θ and optional positions. */
export interface RopeReferenceOptions extends RopeShape {
  /** Frequency base θ. Defaults to 10000. */
  theta?: number;
  /** Token positions [T] (before `offset` is added). */
  positions?: ArrayLike<number>;
}

function rotateReference(
  x: ArrayLike<number>,
  options: RopeReferenceOptions,
  sign: 1 | -1,
): Float64Array {
  const { T, heads, headDim, maxPositions } = options;
  const table = ropeTableReference({ headDim, maxPositions, theta: options.theta });
  const half = headDim / 2;
  const out = new Float64Array(T * heads * headDim);
  for (let t = 0; t < T; t++) {
    const pos = (options.offset ?? 0) + (options.positions ? options.positions[t]! : t);
    for (let h = 0; h < heads; h++) {
      const base = (t * heads + h) * headDim;
      for (let i = 0; i < half; i++) {
        const valid = pos >= 0 && pos < maxPositions;
        const cos = valid ? table[(pos * half + i) * 2]! : NaN;
        const sin = valid ? sign * table[(pos * half + i) * 2 + 1]! : NaN;
        const a = x[base + i]!;
        const b = x[base + i + half]!;
        out[base + i] = a * cos - b * sin;
        out[base + i + half] = b * cos + a * sin;
      }
    }
  }
  return out;
}

/**
 * Plain TypeScript reference of {@linkcode ropeForward} (double precision
 * arithmetic on the f32 table).
 *
 * @example
 * ```ts
 * import { ropeForwardReference } from "./rope.ts";
 * const y = ropeForwardReference([1, 0], { T: 1, heads: 1, headDim: 2, maxPositions: 4, offset: 1 });
 * console.log(Array.from(y, (v) => v.toFixed(3))); // [ "0.540", "0.841" ]
 * ```
 */
export function ropeForwardReference(
  x: ArrayLike<number>,
  options: RopeReferenceOptions,
): Float64Array {
  return rotateReference(x, options, 1);
}

/**
 * Plain TypeScript reference of {@linkcode ropeBackward}: the gradient with
 * respect to the input of {@linkcode ropeForwardReference} (rotation by −angle).
 *
 * @example
 * ```ts
 * import { ropeBackwardReference } from "./rope.ts";
 * const g = ropeBackwardReference([1, 0], { T: 1, heads: 1, headDim: 2, maxPositions: 4, offset: 1 });
 * console.log(Array.from(g, (v) => v.toFixed(3))); // [ "0.540", "-0.841" ]
 * ```
 */
export function ropeBackwardReference(
  dy: ArrayLike<number>,
  options: RopeReferenceOptions,
): Float64Array {
  return rotateReference(dy, options, -1);
}
