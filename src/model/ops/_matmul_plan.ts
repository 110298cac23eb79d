/**
 * How {@linkcode matmul} maps a form onto its kernels: which operand is
 * which, tile sizes, which path the device takes, and the zero padding of
 * rows whose length is not a multiple of 4. Private to `src/model/ops/`.
 *
 * @module
 */

import type { Gpu } from "../../gpu/gpu.ts";

/** The three products a linear layer needs. */
export type MatmulForm = "xwt" | "dyw" | "dytx";

/** Sizes and options of one {@linkcode matmul} call. */
export interface MatmulShape {
  /**
   * `"xwt"`: `Y[m,n] = X[m,k]·W[n,k]ᵀ` (forward of a linear layer, weights
   * in the Hugging Face `[out, in]` layout); `"dyw"`: `dX[m,k] = dY[m,n]·W[n,k]`
   * (input gradient); `"dytx"`: `dW[n,k] = dY[m,n]ᵀ·X[m,k]` (weight gradient).
   */
  form: MatmulForm;
  /** Rows of X and dY (tokens). */
  m: number;
  /** Rows of W (output features). */
  n: number;
  /** Columns of X and W (input features). */
  k: number;
  /** Add the product to the output instead of overwriting it. Defaults to false. */
  accumulate?: boolean;
  /** Scale of the product. Defaults to 1. */
  alpha?: number;
  /**
   * Several models' products in one dispatch (src/model/model_batch.ts):
   * `count` models, each with its own `m` rows of X or dY (and of the
   * output Y or dX) right after the previous model's, and its own weight —
   * W, or dW for `"dytx"` — `stride` elements after the previous model's.
   * Each model's product is computed exactly as a lone one. Absent: one.
   */
  models?: MatmulModels;
}

/** The models of a batched {@linkcode MatmulShape}. */
export interface MatmulModels {
  /** Models (≥ 1). */
  readonly count: number;
  /** Elements from one model's weight to the next's. */
  readonly stride: number;
}

/** Which kernels a device runs: subgroup broadcasts, or plain per-lane blocks. */
export type MatmulPath = "subgroups" | "portable";

/** Rows of the output one workgroup computes, per path. */
export const TILE_ROWS: Readonly<Record<MatmulPath, number>> = { subgroups: 32, portable: 16 };
/** Columns of the output one lane computes, per path. */
export const LANE_COLS: Readonly<Record<MatmulPath, number>> = { subgroups: 4, portable: 8 };

/** Most rows of X the few-row kernel (`matmul_xwt_rows`) takes; more go to the tiled kernels. */
export const FEW_ROWS = 8;

/**
 * Rows per workgroup of the few-row kernel for `m` ≤ {@linkcode FEW_ROWS}
 * rows: the smallest of 1, 2, 4, 8 that holds them (one pipeline each).
 */
export function fewRowsTile(m: number): number {
  return m <= 1 ? 1 : m <= 2 ? 2 : m <= 4 ? 4 : 8;
}

/** The operands of a form as matrices: A and B (row-major), the output and the reduction. */
export interface MatmulLayout {
  /** Rows and row length of the first operand. */
  a: readonly [rows: number, cols: number];
  /** Rows and row length of the second operand. */
  b: readonly [rows: number, cols: number];
  /** Rows and row length of the output. */
  out: readonly [rows: number, cols: number];
  /** Length of the reduction. */
  depth: number;
}

/**
 * Elements from one model's operand to the next's, for A, B and OUT of
 * `layout`: the weight's `stride`, and the activations' own sizes (they sit
 * one model after another).
 */
export function modelStrides(
  form: MatmulForm,
  layout: MatmulLayout,
  stride: number,
): { a: number; b: number; out: number } {
  const size = ([rows, cols]: readonly [number, number]) => rows * cols;
  return form === "dytx"
    ? { a: size(layout.a), b: size(layout.b), out: stride }
    : { a: size(layout.a), b: stride, out: size(layout.out) };
}

/** The matrices behind `shape`. */
export function matmulLayout(shape: MatmulShape): MatmulLayout {
  const { m, n, k } = shape;
  switch (shape.form) {
    case "xwt":
      return { a: [m, k], b: [n, k], out: [m, n], depth: k };
    case "dyw":
      return { a: [m, n], b: [n, k], out: [m, k], depth: n };
    case "dytx":
      return { a: [m, n], b: [m, k], out: [n, k], depth: m };
  }
}

/**
 * The path `gpu` takes: the subgroup kernels need the `subgroups` feature
 * and subgroups of at least 8 lanes (they broadcast from lanes 0..7).
 */
export function matmulPath(gpu: Gpu): MatmulPath {
  return gpu.info.subgroups && gpu.info.subgroupMinSize >= 8 ? "subgroups" : "portable";
}

/**
 * Lanes per workgroup. CPU adapters run a workgroup on one thread, 8 lanes
 * per SIMD vector: 8 lanes give the most, smallest tasks. Real GPUs want a
 * few subgroups per workgroup.
 */
export function workgroupLanes(gpu: Gpu, path: MatmulPath): number {
  if (gpu.info.fallback) return 8;
  if (path === "subgroups") return Math.min(64, Math.max(8, gpu.info.subgroupMaxSize));
  return 64;
}

/** Zero-padded copy of a row-major `[rows, cols]` matrix to rows of `⌈cols/4⌉·4` values. */
export function padColumnsReference(
  src: Float32Array,
  rows: number,
  cols: number,
): Float32Array {
  const stride = Math.ceil(cols / 4) * 4;
  const out = new Float32Array(rows * stride);
  for (let r = 0; r < rows; r++) out.set(src.subarray(r * cols, r * cols + cols), r * stride);
  return out;
}

const scratch = new WeakMap<Gpu, GPUBuffer[]>();

/**
 * Scratch buffer `slot` (0 or 1) of at least `bytes` bytes for padded
 * operands. Kernels of one batch run in recording order, so one buffer per
 * slot serves every call; a buffer that grows is replaced, not destroyed,
 * because pending commands may still refer to the old one.
 */
export function scratchBuffer(gpu: Gpu, slot: number, bytes: number): GPUBuffer {
  let buffers = scratch.get(gpu);
  if (!buffers) {
    buffers = [];
    scratch.set(gpu, buffers);
  }
  const current = buffers[slot];
  if (current && current.size >= bytes) return current;
  const size = Math.max(bytes, Math.ceil((current?.size ?? 0) * 1.5));
  const buffer = gpu.buffer(size, `matmul scratch ${slot}`);
  buffers[slot] = buffer;
  return buffer;
}

/**
 * Frees the scratch buffers of `gpu` once its pending work is done, so the
 * next pass allocates (and the memory accounting counts) its own: a run's
 * peak memory then does not depend on what ran before it.
 */
export async function releaseScratch(gpu: Gpu): Promise<void> {
  const buffers = scratch.get(gpu);
  if (!buffers) return;
  await gpu.sync();
  for (const buffer of buffers) buffer?.destroy();
  scratch.delete(gpu);
}
