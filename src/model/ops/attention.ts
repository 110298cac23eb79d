/**
 * Causal multi-head attention with optional grouped KV heads (DESIGN.md §3,
 * model), forward and backward, with plain TypeScript references.
 *
 * Layout: q [T, H, D], k and v [past + T, Hkv, D], out [T, H, D], row-major,
 * with Hkv dividing H (query head h reads KV head ⌊h / (H/Hkv)⌋). Query t sits
 * at position past + t and attends to keys s_t … past + t, where keys
 * 0 … past − 1 are a KV cache (generation) and s_t is the first key of the
 * token's example (`starts`, for packed sequences; 0 without). Starts are
 * clamped to [0, past + t], so every query attends at least to itself, and
 * never decrease from one token to the next (examples are contiguous): the
 * key-side backward pass stops at the first query whose example starts
 * after its keys.
 *
 * Kernel layout (see the kernels' headers): a workgroup takes consecutive
 * queries (or keys) of one head and walks one shared range of keys (or
 * queries); rows are vec4s in compiler-unrolled loops. With subgroups (and
 * headDim a multiple of 32) its 8 lanes share every loaded row by subgroup
 * broadcasts ({@linkcode attentionPath}). On CPU adapters one invocation
 * may run at most ~65535 loop iterations, so a query may attend to at most
 * 60000 keys there (checked), and the key-side backward kernel is split
 * over query ranges.
 *
 * The forward pass saves lse[t, h] = log Σ_j exp(scale · q·k_j) (the softmax
 * statistics); the backward pass recomputes the probabilities from it in
 * two kernels — dq per query, then dk and dv per key — without atomics, so
 * gradients are bit-reproducible.
 *
 * @module
 */

import * as kernels from "../../../kernels/mod.ts";
import type { Binding, Gpu } from "../../gpu/gpu.ts";
import { placeholder, requireElements, requireFinite, requireInt } from "../../gpu/arguments.ts";
import { specialize } from "../../gpu/specialize.ts";
import { packUniform } from "../../gpu/uniform.ts";

/** Shape of an attention call. */
export interface AttentionShape {
  /** Queries (new tokens). */
  T: number;
  /** Query heads. */
  H: number;
  /** Key/value heads; divides H. Defaults to H. */
  Hkv?: number;
  /** Head dimension D: a multiple of 4, at most {@linkcode MAX_HEAD_DIM}. */
  headDim: number;
  /** Cached keys before the first query (KV-cache generation). Defaults to 0. */
  past?: number;
  /** Score scale. Defaults to 1 / sqrt(headDim). */
  scale?: number;
}

interface Resolved {
  T: number;
  H: number;
  Hkv: number;
  D: number;
  past: number;
  scale: number;
}

/**
 * The largest head dimension the kernels accept: rows are handled as
 * headDim/4 vec4s in loops the shader compiler unrolls, which CPU adapters
 * do up to 32 iterations (LLaMA models use 64–128).
 *
 * @example
 * ```ts
 * import { MAX_HEAD_DIM } from "./attention.ts";
 * console.log(MAX_HEAD_DIM); // 128
 * ```
 */
export const MAX_HEAD_DIM: number = 128;

/** Lanes per workgroup of the portable kernels: queries (or keys) of one head that walk the same range. */
const LANES = 16;

/** Which kernels attention runs on: see {@linkcode attentionPath}. */
export type AttentionPath = "subgroups" | "portable";

/**
 * The kernels {@linkcode attentionForward} and {@linkcode attentionBackward}
 * use for `headDim` on `gpu`: the subgroup kernels (8 lanes share each loaded
 * row by broadcasts; ~4× faster on CPU adapters) where the device has
 * subgroups of ≥ 8 lanes and headDim is a multiple of 32, the portable ones
 * otherwise. Both give the same results up to rounding.
 *
 * @example
 * ```ts
 * import { attentionPath } from "./attention.ts";
 * import { Gpu } from "../../gpu/gpu.ts";
 * const gpu = await Gpu.create();
 * console.log(attentionPath(gpu, 64), attentionPath(gpu, 100)); // subgroups portable (with subgroups)
 * gpu.destroy();
 * ```
 */
export function attentionPath(gpu: Gpu, headDim: number): AttentionPath {
  return gpu.info.subgroups && gpu.info.subgroupMinSize >= 8 && headDim % 32 === 0
    ? "subgroups"
    : "portable";
}

/**
 * Loop iterations one invocation may run on llvmpipe before the compiler's
 * loop limiter (65535 in total) silently ends its loops; kept with a margin.
 */
const LOOP_BUDGET = 60000;

function resolve(action: string, shape: AttentionShape): Resolved {
  requireInt(action, "T", shape.T);
  requireInt(action, "H", shape.H);
  const Hkv = shape.Hkv ?? shape.H;
  requireInt(action, "Hkv", Hkv);
  if (shape.H % Hkv !== 0) {
    throw new TypeError(`Cannot ${action}: Hkv = ${Hkv} does not divide H = ${shape.H}`);
  }
  requireInt(action, "headDim", shape.headDim);
  if (shape.headDim > MAX_HEAD_DIM || shape.headDim % 4 !== 0) {
    throw new TypeError(
      `Cannot ${action}: headDim must be a multiple of 4 up to ${MAX_HEAD_DIM}, ` +
        `got ${shape.headDim}`,
    );
  }
  const past = shape.past ?? 0;
  requireInt(action, "past", past, 0);
  const scale = shape.scale ?? 1 / Math.sqrt(shape.headDim);
  requireFinite(action, "scale", scale);
  return { T: shape.T, H: shape.H, Hkv, D: shape.headDim, past, scale };
}

function uniform(r: Resolved): Uint8Array<ArrayBuffer> {
  return packUniform([["u", r.T], ["u", r.H], ["u", r.Hkv], ["u", r.past], ["f", r.scale]]);
}

/** Buffers of {@linkcode attentionForward}. */
export interface AttentionForwardBuffers {
  /** [T, H, D] (written). */
  out: Binding;
  /** [T, H] log-sum-exp of the scaled scores (written; for the backward pass). */
  lse: Binding;
  /** [T, H, D]. */
  q: Binding;
  /** [past + T, Hkv, D]. */
  k: Binding;
  /** [past + T, Hkv, D]. */
  v: Binding;
  /** Optional Int32 [T]: the first key each query may attend to. */
  starts?: Binding;
}

/**
 * Records the attention forward pass (one lane per query and head, online
 * softmax).
 *
 * @example
 * ```ts
 * import { attentionForward } from "./attention.ts";
 * import { Gpu } from "../../gpu/gpu.ts";
 * const gpu = await Gpu.create();
 * // T = 2 tokens, one head of dimension 4; q = 0, so the second token averages two values.
 * const q = gpu.buffer(32);
 * const k = gpu.upload(new Float32Array([1, 0, 0, 0, 2, 0, 0, 0]));
 * const v = gpu.upload(new Float32Array([10, 0, 0, 0, 20, 0, 0, 0]));
 * const out = gpu.buffer(32), lse = gpu.buffer(8);
 * await attentionForward(gpu, { out, lse, q, k, v }, { T: 2, H: 1, headDim: 4 });
 * console.log(new Float32Array(await gpu.read(out))); // Float32Array [10, 0, 0, 0, 15, 0, 0, 0]
 * gpu.destroy();
 * ```
 */
export async function attentionForward(
  gpu: Gpu,
  buffers: AttentionForwardBuffers,
  shape: AttentionShape,
): Promise<void> {
  const action = "run attention forward";
  const r = resolve(action, shape);
  const keys = r.past + r.T;
  requireElements(action, "out", buffers.out, r.T * r.H * r.D);
  requireElements(action, "lse", buffers.lse, r.T * r.H);
  requireElements(action, "q", buffers.q, r.T * r.H * r.D);
  requireElements(action, "k", buffers.k, keys * r.Hkv * r.D);
  requireElements(action, "v", buffers.v, keys * r.Hkv * r.D);
  if (buffers.starts) requireElements(action, "starts", buffers.starts, r.T);
  checkLoopBudget(gpu, action, keys);
  const fast = attentionPath(gpu, r.D) === "subgroups";
  const lanes = fast ? 8 : LANES;
  await gpu.dispatch({
    kernel: specialize(
      fast ? kernels.attentionForwardSubgroups : kernels.attentionForward,
      { HEAD_DIM: r.D },
    ),
    constants: fast
      ? { HAS_STARTS: buffers.starts ? 1 : 0 }
      : { WG: LANES, HAS_STARTS: buffers.starts ? 1 : 0 },
    storage: [
      buffers.out,
      buffers.lse,
      buffers.q,
      buffers.k,
      buffers.v,
      buffers.starts ?? placeholder(gpu),
    ],
    uniform: uniform(r),
    workgroups: r.H * Math.ceil(r.T / lanes),
  });
}

/** Throws where a CPU adapter's loop limiter would cut a row's key loop short. */
function checkLoopBudget(gpu: Gpu, action: string, keys: number): void {
  if (gpu.info.fallback && keys > LOOP_BUDGET) {
    throw new RangeError(
      `Cannot ${action}: ${keys} keys per query exceed the ${LOOP_BUDGET} loop iterations ` +
        `a CPU adapter runs per invocation`,
    );
  }
}

/** Buffers of {@linkcode attentionBackward}. */
export interface AttentionBackwardBuffers {
  /** [T, H, D] (written). */
  dq: Binding;
  /** [past + T, Hkv, D] (written). */
  dk: Binding;
  /** [past + T, Hkv, D] (written). */
  dv: Binding;
  /** [T, H] scratch: dout·out per row, passed from the first kernel to the second. */
  delta: Binding;
  /** [T, H, D] gradient of the output. */
  dout: Binding;
  /** [T, H, D] the forward output. */
  out: Binding;
  /** [T, H, D]. */
  q: Binding;
  /** [past + T, Hkv, D]. */
  k: Binding;
  /** [past + T, Hkv, D]. */
  v: Binding;
  /** [T, H] from the forward pass. */
  lse: Binding;
  /** Optional Int32 [T], as in the forward pass. */
  starts?: Binding;
}

/** Tuning of {@linkcode attentionBackward}. */
export interface AttentionBackwardOptions {
  /**
   * Queries per dispatch of the key-side kernel. Defaults to as many as a
   * CPU adapter's loop limit allows; smaller values only add launches.
   */
  queriesPerDispatch?: number;
}

/**
 * Records the attention backward pass: dq (one lane per query and head),
 * then dk and dv (one lane per key and KV head). All three are overwritten.
 *
 * @example
 * ```ts
 * import { attentionBackward, attentionForward } from "./attention.ts";
 * import { Gpu } from "../../gpu/gpu.ts";
 * const gpu = await Gpu.create();
 * const q = gpu.buffer(32);
 * const k = gpu.upload(new Float32Array([1, 0, 0, 0, 2, 0, 0, 0]));
 * const v = gpu.upload(new Float32Array([10, 0, 0, 0, 20, 0, 0, 0]));
 * const out = gpu.buffer(32), lse = gpu.buffer(8);
 * const shape = { T: 2, H: 1, headDim: 4 };
 * await attentionForward(gpu, { out, lse, q, k, v }, shape);
 * const dout = gpu.upload(new Float32Array([0, 0, 0, 0, 1, 0, 0, 0]));
 * const [dq, dk, dv] = [gpu.buffer(32), gpu.buffer(32), gpu.buffer(32)];
 * const delta = gpu.buffer(8);
 * await attentionBackward(gpu, { dq, dk, dv, delta, dout, out, q, k, v, lse }, shape);
 * console.log(new Float32Array(await gpu.read(dv), 0, 8)); // Float32Array [0.5, 0, 0, 0, 0.5, 0, 0, 0]
 * gpu.destroy();
 * ```
 */
export async function attentionBackward(
  gpu: Gpu,
  buffers: AttentionBackwardBuffers,
  shape: AttentionShape,
  options: AttentionBackwardOptions = {},
): Promise<void> {
  const action = "run attention backward";
  const r = resolve(action, shape);
  const rows = r.T * r.H;
  const kvSize = (r.past + r.T) * r.Hkv * r.D;
  for (const name of ["dq", "dout", "out", "q"] as const) {
    requireElements(action, name, buffers[name], rows * r.D);
  }
  for (const name of ["dk", "dv", "k", "v"] as const) {
    requireElements(action, name, buffers[name], kvSize);
  }
  requireElements(action, "delta", buffers.delta, rows);
  requireElements(action, "lse", buffers.lse, rows);
  if (buffers.starts) requireElements(action, "starts", buffers.starts, r.T);
  checkLoopBudget(gpu, action, r.past + r.T);
  const starts = buffers.starts ?? placeholder(gpu);
  const hasStarts = buffers.starts ? 1 : 0;
  const fast = attentionPath(gpu, r.D) === "subgroups";
  const lanes = fast ? 8 : LANES;
  const sized: Record<string, number> = fast ? {} : { WG: LANES };
  await gpu.dispatch({
    kernel: specialize(
      fast ? kernels.attentionBackwardQuerySubgroups : kernels.attentionBackwardQuery,
      { HEAD_DIM: r.D },
    ),
    constants: { ...sized, HAS_STARTS: hasStarts },
    storage: [
      buffers.dq,
      buffers.delta,
      buffers.dout,
      buffers.out,
      buffers.q,
      buffers.k,
      buffers.v,
      buffers.lse,
      starts,
    ],
    uniform: uniform(r),
    workgroups: r.H * Math.ceil(r.T / lanes),
  });
  // The key kernel loops over queries × heads of a group; split the queries
  // so one dispatch stays inside the loop budget, adding after the first.
  const group = r.H / r.Hkv;
  const perDispatch = options.queriesPerDispatch ??
    Math.max(1, Math.floor(LOOP_BUDGET / (group + 1)));
  requireInt(action, "queriesPerDispatch", perDispatch);
  for (let begin = 0; begin < r.T; begin += perDispatch) {
    const end = Math.min(r.T, begin + perDispatch);
    await gpu.dispatch({
      kernel: specialize(
        fast ? kernels.attentionBackwardKeySubgroups : kernels.attentionBackwardKey,
        { HEAD_DIM: r.D },
      ),
      constants: { ...sized, HAS_STARTS: hasStarts, ACCUMULATE: begin > 0 ? 1 : 0 },
      storage: [
        buffers.dk,
        buffers.dv,
        buffers.dout,
        buffers.q,
        buffers.k,
        buffers.v,
        buffers.lse,
        buffers.delta,
        starts,
      ],
      uniform: packUniform([
        ["u", r.T],
        ["u", r.H],
        ["u", r.Hkv],
        ["u", r.past],
        ["f", r.scale],
        ["u", begin],
        ["u", end],
      ]),
      workgroups: r.Hkv * Math.ceil((r.past + r.T) / lanes),
    });
  }
}

/** Options of the attention references: the shape and optional starts. */
export interface AttentionReferenceOptions extends AttentionShape {
  /** First key each query may attend to [T] (clamped to [0, past + t]). */
  starts?: ArrayLike<number>;
}

/** Keys query t attends to: [first, last] inclusive. */
function keyRange(t: number, past: number, starts?: ArrayLike<number>): [number, number] {
  const last = past + t;
  const first = starts ? Math.min(Math.max(starts[t]!, 0), last) : 0;
  return [first, last];
}

/** Softmax probabilities of query row (t, h) over its keys, in double precision. */
function probabilities(
  q: ArrayLike<number>,
  k: ArrayLike<number>,
  r: Resolved,
  t: number,
  h: number,
  first: number,
  last: number,
): { p: Float64Array; lse: number } {
  const g = h / (r.H / r.Hkv) | 0;
  const s = new Float64Array(last - first + 1);
  let max = -Infinity;
  for (let j = first; j <= last; j++) {
    let dot = 0;
    for (let d = 0; d < r.D; d++) {
      dot += q[(t * r.H + h) * r.D + d]! * k[(j * r.Hkv + g) * r.D + d]!;
    }
    s[j - first] = dot * r.scale;
    max = Math.max(max, dot * r.scale);
  }
  let sum = 0;
  for (let i = 0; i < s.length; i++) sum += Math.exp(s[i]! - max);
  const lse = max + Math.log(sum);
  return { p: s.map((x) => Math.exp(x - lse)), lse };
}

/**
 * Plain TypeScript reference of {@linkcode attentionForward} (double precision).
 *
 * @example
 * ```ts
 * import { attentionForwardReference } from "./attention.ts";
 * const k = [1, 0, 0, 0, 2, 0, 0, 0], v = [10, 0, 0, 0, 20, 0, 0, 0];
 * const { out } = attentionForwardReference(new Float32Array(8), k, v, { T: 2, H: 1, headDim: 4 });
 * console.log(out); // Float64Array [10, 0, 0, 0, 15, 0, 0, 0]
 * ```
 */
export function attentionForwardReference(
  q: ArrayLike<number>,
  k: ArrayLike<number>,
  v: ArrayLike<number>,
  options: AttentionReferenceOptions,
): { out: Float64Array; lse: Float64Array } {
  const r = resolve("compute reference attention", options);
  const out = new Float64Array(r.T * r.H * r.D);
  const lse = new Float64Array(r.T * r.H);
  for (let t = 0; t < r.T; t++) {
    const [first, last] = keyRange(t, r.past, options.starts);
    for (let h = 0; h < r.H; h++) {
      const g = h / (r.H / r.Hkv) | 0;
      const row = probabilities(q, k, r, t, h, first, last);
      lse[t * r.H + h] = row.lse;
      for (let j = first; j <= last; j++) {
        const pj = row.p[j - first]!;
        for (let d = 0; d < r.D; d++) {
          out[(t * r.H + h) * r.D + d]! += pj * v[(j * r.Hkv + g) * r.D + d]!;
        }
      }
    }
  }
  return { out, lse };
}

/**
 * Plain TypeScript reference of {@linkcode attentionBackward} (double
 * precision, probabilities recomputed from q and k).
 *
 * @example
 * ```ts
 * import { attentionBackwardReference } from "./attention.ts";
 * const dout = [0, 0, 0, 0, 1, 0, 0, 0], q = new Float32Array(8);
 * const k = [1, 0, 0, 0, 2, 0, 0, 0], v = [10, 0, 0, 0, 20, 0, 0, 0];
 * const { dv } = attentionBackwardReference(dout, q, k, v, { T: 2, H: 1, headDim: 4 });
 * console.log(dv); // Float64Array [0.5, 0, 0, 0, 0.5, 0, 0, 0]
 * ```
 */
export function attentionBackwardReference(
  dout: ArrayLike<number>,
  q: ArrayLike<number>,
  k: ArrayLike<number>,
  v: ArrayLike<number>,
  options: AttentionReferenceOptions,
): { dq: Float64Array; dk: Float64Array; dv: Float64Array } {
  const r = resolve("compute reference attention gradients", options);
  const keys = r.past + r.T;
  const dq = new Float64Array(r.T * r.H * r.D);
  const dk = new Float64Array(keys * r.Hkv * r.D);
  const dv = new Float64Array(keys * r.Hkv * r.D);
  for (let t = 0; t < r.T; t++) {
    const [first, last] = keyRange(t, r.past, options.starts);
    for (let h = 0; h < r.H; h++) {
      const g = h / (r.H / r.Hkv) | 0;
      const qo = (t * r.H + h) * r.D;
      const { p } = probabilities(q, k, r, t, h, first, last);
      // dP_j = dout·v_j; dS_j = P_j (dP_j − Σ_i P_i dP_i).
      const dp = new Float64Array(p.length);
      let delta = 0;
      for (let j = first; j <= last; j++) {
        let dot = 0;
        for (let d = 0; d < r.D; d++) dot += dout[qo + d]! * v[(j * r.Hkv + g) * r.D + d]!;
        dp[j - first] = dot;
        delta += p[j - first]! * dot;
      }
      for (let j = first; j <= last; j++) {
        const pj = p[j - first]!;
        const ds = pj * (dp[j - first]! - delta) * r.scale;
        const ko = (j * r.Hkv + g) * r.D;
        for (let d = 0; d < r.D; d++) {
          dq[qo + d]! += ds * k[ko + d]!;
          dk[ko + d]! += ds * q[qo + d]!;
          dv[ko + d]! += pj * dout[qo + d]!;
        }
      }
    }
  }
  return { dq, dk, dv };
}
