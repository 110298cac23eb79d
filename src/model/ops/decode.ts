/**
 * Batched decoding (src/model/generate.ts): B sequences each add one token
 * per pass, each with its own region of P positions in the KV cache.
 *
 * - `attentionDecode` is one layer's whole attention for such a step, in
 *   one dispatch: RoPE on the new query and key, the key and value stored at
 *   the token's position in its sequence's region, and attention over that
 *   region. A decoding step is mostly per-dispatch overhead on CPU adapters,
 *   so four dispatches become one. Row b's position is
 *   `positions[b] + offset`: the positions are written once per batch and
 *   the offset counts the steps, so a step uploads nothing.
 * - `kvScatter` moves rows of keys and values to chosen cache rows: the
 *   prompts of a packed pass into their regions, one dispatch per layer.
 *
 * @module
 */

import * as kernels from "../../../kernels/mod.ts";
import type { Binding, Gpu } from "../../gpu/gpu.ts";
import { requireElements, requireInt } from "../../gpu/arguments.ts";
import { specialize } from "../../gpu/specialize.ts";
import { packUniform } from "../../gpu/uniform.ts";
import { groupsFor, WORKGROUP } from "./_common.ts";
import { attentionForwardReference, MAX_HEAD_DIM } from "./attention.ts";
import { ropeForwardReference } from "./rope.ts";

/** Shape of one decoding step over B sequences. */
export interface DecodeShape {
  /** Sequences, one new token each. */
  B: number;
  /** Query heads. */
  H: number;
  /** Key/value heads; divides H. */
  Hkv: number;
  /** Head dimension D: a multiple of 4, at most {@linkcode MAX_HEAD_DIM}. */
  headDim: number;
  /** Positions per sequence's cache region, also the RoPE table's rows. */
  P: number;
  /** Added to every row's position (the decoding step). */
  offset: number;
}

/** Buffers of {@linkcode attentionDecode}. */
export interface AttentionDecodeBuffers {
  /** [B, H, D] (written). */
  out: Binding;
  /** [B, P, Hkv, D] cached keys, after RoPE (row pos_b of each region written). */
  cacheK: Binding;
  /** [B, P, Hkv, D] cached values (row pos_b of each region written). */
  cacheV: Binding;
  /** [B, H, D] the step's queries, before RoPE (not modified). */
  q: Binding;
  /** [B, Hkv, D] the step's keys, before RoPE (not modified). */
  k: Binding;
  /** [B, Hkv, D] the step's values. */
  v: Binding;
  /** Int32 [B]: row b's position is positions[b] + offset. */
  positions: Binding;
  /** The RoPE (cos, sin) table [P, D/2, 2] (src/model/ops/rope.ts). */
  table: Binding;
}

function check(action: string, s: DecodeShape): void {
  for (const name of ["B", "H", "Hkv", "headDim", "P"] as const) requireInt(action, name, s[name]);
  if (s.H % s.Hkv !== 0) {
    throw new TypeError(`Cannot ${action}: Hkv = ${s.Hkv} does not divide H = ${s.H}`);
  }
  if (s.headDim % 4 !== 0 || s.headDim > MAX_HEAD_DIM) {
    throw new TypeError(
      `Cannot ${action}: headDim must be a multiple of 4 up to ${MAX_HEAD_DIM}, got ${s.headDim}`,
    );
  }
  requireInt(action, "offset", s.offset, 0);
}

/** Lanes per workgroup of `attention_decode`: one SIMD row of a CPU adapter. */
const DECODE_LANES = 8;

/**
 * Records one decoding step's attention for one layer: for every sequence
 * b, RoPE at pos_b = positions[b] + offset on its query and key, its key and
 * value stored at row pos_b of its region (when pos_b < P), and attention
 * over rows 0 … min(pos_b, P − 1). A position outside the table gives NaN.
 *
 * @example
 * ```ts
 * import { attentionDecode } from "./decode.ts";
 * import { ropeTable } from "./rope.ts";
 * import { Gpu } from "../../gpu/gpu.ts";
 * const gpu = await Gpu.create();
 * const shape = { B: 1, H: 1, Hkv: 1, headDim: 8, P: 2, offset: 1 };
 * const cacheV = gpu.upload(new Float32Array([2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]));
 * const v = gpu.upload(new Float32Array([4, 0, 0, 0, 0, 0, 0, 0]));
 * const zeros = () => gpu.upload(new Float32Array(16));
 * const out = gpu.buffer(32), positions = gpu.upload(new Int32Array([0]));
 * const table = ropeTable(gpu, { headDim: 8, maxPositions: 2 });
 * await attentionDecode(gpu, { out, cacheK: zeros(), cacheV, q: zeros(), k: zeros(), v, positions, table }, shape);
 * console.log(new Float32Array(await gpu.read(out))[0]); // 3 (equal weights on the old and the new key)
 * gpu.destroy();
 * ```
 */
export async function attentionDecode(
  gpu: Gpu,
  buffers: AttentionDecodeBuffers,
  shape: DecodeShape,
): Promise<void> {
  const action = "run decoding attention";
  check(action, shape);
  const { B, H, Hkv, headDim: D, P } = shape;
  if (gpu.info.fallback && P > 60000) {
    throw new RangeError(
      `Cannot ${action}: ${P} keys per query exceed the loop iterations a CPU adapter runs`,
    );
  }
  requireElements(action, "out", buffers.out, B * H * D);
  requireElements(action, "cacheK", buffers.cacheK, B * P * Hkv * D);
  requireElements(action, "cacheV", buffers.cacheV, B * P * Hkv * D);
  requireElements(action, "q", buffers.q, B * H * D);
  requireElements(action, "k", buffers.k, B * Hkv * D);
  requireElements(action, "v", buffers.v, B * Hkv * D);
  requireElements(action, "positions", buffers.positions, B);
  requireElements(action, "table", buffers.table, P * D);
  // As many sequences per workgroup as its lanes have heads to attend (at least one).
  const seqs = Math.max(1, Math.floor(DECODE_LANES / H));
  const exact = (binding: Binding, bytes: number) => {
    const b = binding instanceof GPUBuffer ? { buffer: binding } : binding;
    return { buffer: b.buffer, offset: b.offset ?? 0, size: bytes };
  };
  await gpu.dispatch({
    kernel: specialize(kernels.attentionDecode, { HEAD_DIM: D }),
    constants: { WG: DECODE_LANES },
    storage: [
      buffers.out,
      buffers.cacheK,
      buffers.cacheV,
      buffers.q,
      buffers.k,
      buffers.v,
      // The kernel takes B and P from these bindings' lengths (no uniform loop bounds).
      exact(buffers.positions, B * 4),
      exact(buffers.table, P * D * 4),
    ],
    uniform: packUniform([
      ["u", H],
      ["u", Hkv],
      ["u", P],
      ["i", shape.offset],
      ["f", 1 / Math.sqrt(D)],
      ["u", seqs],
    ]),
    workgroups: Math.ceil(B / seqs),
  });
}

/** Buffers of {@linkcode kvScatter}. */
export interface KvScatterBuffers {
  /** [cache rows, Ckv] keys (rows `rows[r]` written). */
  cacheK: Binding;
  /** [cache rows, Ckv] values (rows `rows[r]` written). */
  cacheV: Binding;
  /** [R, Ckv] keys to store. */
  k: Binding;
  /** [R, Ckv] values to store. */
  v: Binding;
  /** Uint32 [R]: the cache row of each. */
  rows: Binding;
}

/**
 * Records `cacheK[rows[r]] = k[r]` and `cacheV[rows[r]] = v[r]` for the R
 * rows of Ckv values (a multiple of 4).
 *
 * @example
 * ```ts
 * import { kvScatter } from "./decode.ts";
 * import { Gpu } from "../../gpu/gpu.ts";
 * const gpu = await Gpu.create();
 * const cacheK = gpu.buffer(3 * 16), cacheV = gpu.buffer(3 * 16);
 * const k = gpu.upload(new Float32Array([1, 1, 1, 1, 2, 2, 2, 2]));
 * const rows = gpu.upload(new Uint32Array([2, 0]));
 * await kvScatter(gpu, { cacheK, cacheV, k, v: k, rows }, { R: 2, Ckv: 4 });
 * console.log(Array.from(new Float32Array(await gpu.read(cacheK)))); // [ 2, 2, 2, 2, 0, 0, 0, 0, 1, 1, 1, 1 ]
 * gpu.destroy();
 * ```
 */
export async function kvScatter(
  gpu: Gpu,
  buffers: KvScatterBuffers,
  shape: { R: number; Ckv: number },
): Promise<void> {
  const action = "scatter keys and values into the cache";
  requireInt(action, "R", shape.R);
  requireInt(action, "Ckv", shape.Ckv);
  if (shape.Ckv % 4 !== 0) {
    throw new TypeError(`Cannot ${action}: Ckv must be a multiple of 4, got ${shape.Ckv}`);
  }
  const { R, Ckv } = shape;
  requireElements(action, "k", buffers.k, R * Ckv);
  requireElements(action, "v", buffers.v, R * Ckv);
  requireElements(action, "rows", buffers.rows, R);
  const rows = buffers.rows instanceof GPUBuffer ? { buffer: buffers.rows } : buffers.rows;
  await gpu.dispatch({
    kernel: kernels.kvScatter,
    constants: { WG: WORKGROUP },
    storage: [
      buffers.cacheK,
      buffers.cacheV,
      buffers.k,
      buffers.v,
      { buffer: rows.buffer, offset: rows.offset ?? 0, size: R * 4 }, // R = its length
    ],
    uniform: packUniform([["u", Ckv / 4]]),
    workgroups: groupsFor((R * Ckv) / 4),
  });
}

/**
 * Plain TypeScript reference of {@linkcode kvScatter}: a copy of `cache`
 * with row rows[r] set to row r of `values`.
 *
 * @example
 * ```ts
 * import { kvScatterReference } from "./decode.ts";
 * console.log(Array.from(kvScatterReference(new Float32Array(8), [5, 6, 7, 8], [1], 4))); // [ 0, 0, 0, 0, 5, 6, 7, 8 ]
 * ```
 */
export function kvScatterReference(
  cache: ArrayLike<number>,
  values: ArrayLike<number>,
  rows: ArrayLike<number>,
  Ckv: number,
): Float32Array {
  const out = Float32Array.from(cache);
  for (let r = 0; r < rows.length; r++) {
    for (let i = 0; i < Ckv; i++) out[rows[r]! * Ckv + i] = values[r * Ckv + i]!;
  }
  return out;
}

/**
 * Plain TypeScript reference of {@linkcode attentionDecode} (double
 * precision): the caches after the step and the output, each row one query
 * of {@linkcode attentionForwardReference} over its region's keys, after
 * {@linkcode ropeForwardReference}.
 *
 * @example
 * ```ts
 * import { attentionDecodeReference } from "./decode.ts";
 * const cacheV = [2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
 * const v = [4, 0, 0, 0, 0, 0, 0, 0];
 * const shape = { B: 1, H: 1, Hkv: 1, headDim: 8, P: 2, offset: 1 };
 * const { out } = attentionDecodeReference({ q: new Float32Array(8), k: new Float32Array(8), v, cacheK: new Float32Array(16), cacheV, positions: [0] }, shape);
 * console.log(out[0]); // 3
 * ```
 */
export function attentionDecodeReference(
  inputs: {
    q: ArrayLike<number>;
    k: ArrayLike<number>;
    v: ArrayLike<number>;
    cacheK: ArrayLike<number>;
    cacheV: ArrayLike<number>;
    positions: ArrayLike<number>;
    theta?: number;
  },
  shape: DecodeShape,
): { out: Float64Array; cacheK: Float64Array; cacheV: Float64Array } {
  check("compute reference decoding attention", shape);
  const { B, H, Hkv, headDim: D, P } = shape;
  const cacheK = Float64Array.from(inputs.cacheK);
  const cacheV = Float64Array.from(inputs.cacheV);
  const out = new Float64Array(B * H * D);
  const region = P * Hkv * D;
  const slice = (a: ArrayLike<number>, from: number, length: number) =>
    Array.from({ length }, (_, i) => a[from + i]!);
  for (let b = 0; b < B; b++) {
    const pos = inputs.positions[b]! + shape.offset;
    if (pos >= P) {
      out.fill(NaN, b * H * D, (b + 1) * H * D);
      continue;
    }
    const rope = (x: number[], heads: number) =>
      ropeForwardReference(x, {
        T: 1,
        heads,
        headDim: D,
        maxPositions: P,
        offset: pos,
        ...(inputs.theta === undefined ? {} : { theta: inputs.theta }),
      });
    cacheK.set(rope(slice(inputs.k, b * Hkv * D, Hkv * D), Hkv), b * region + pos * Hkv * D);
    cacheV.set(slice(inputs.v, b * Hkv * D, Hkv * D), b * region + pos * Hkv * D);
    const row = attentionForwardReference(
      rope(slice(inputs.q, b * H * D, H * D), H),
      slice(cacheK, b * region, (pos + 1) * Hkv * D),
      slice(cacheV, b * region, (pos + 1) * Hkv * D),
      { T: 1, H, Hkv, headDim: D, past: pos },
    );
    out.set(row.out, b * H * D);
  }
  return { out, cacheK, cacheV };
}
