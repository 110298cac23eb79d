/**
 * Adam and AdamW on a chunked parameter vector (paper.md §4, Fig. 9: Adam
 * for the local updates; §6: FedIT trains LoRA with Adam), as PyTorch's
 * `torch.optim.AdamW` / `torch.optim.Adam` compute them.
 *
 * @module
 */

import * as kernels from "../../kernels/mod.ts";
import type { GpuVector } from "../gpu/vector.ts";
import { laneLayout, LANES_PER_WORKGROUP } from "../gpu/lanes.ts";
import { packUniform } from "../gpu/uniform.ts";

/** Hyper-parameters of {@linkcode adamStep}. */
export interface AdamOptions {
  /** Learning rate. */
  lr: number;
  /** First-moment decay β1. Defaults to 0.9. */
  beta1?: number;
  /** Second-moment decay β2. Defaults to 0.999. */
  beta2?: number;
  /** Added to the denominator. Defaults to 1e-8. */
  eps?: number;
  /** Weight decay. Defaults to 0. */
  weightDecay?: number;
  /**
   * Decoupled weight decay (AdamW: `w ← w·(1 − lr·wd)`) when true, L2 decay
   * added to the gradient (Adam) when false. Defaults to true.
   */
  decoupled?: boolean;
}

/** Adam's moments and step count; create with {@linkcode createAdamState}. */
export interface AdamState {
  /** First moment, chunked like the parameters. */
  readonly m: GpuVector;
  /** Second moment, chunked like the parameters. */
  readonly v: GpuVector;
  /** Steps taken so far (the next step is `step + 1`). */
  step: number;
}

/**
 * Zero moments chunked like `params`, step 0.
 *
 * @example
 * ```ts
 * import { createAdamState } from "./adam.ts";
 * import { Gpu } from "../gpu/gpu.ts";
 * import { GpuVector } from "../gpu/vector.ts";
 * const gpu = await Gpu.create();
 * const state = createAdamState(GpuVector.create(gpu, 10));
 * console.log(state.step, state.m.length); // 0 10
 * gpu.destroy();
 * ```
 */
export function createAdamState(params: GpuVector): AdamState {
  return { m: params.like("adam m"), v: params.like("adam v"), step: 0 };
}

function resolve(options: AdamOptions): Required<AdamOptions> {
  const r = {
    lr: options.lr,
    beta1: options.beta1 ?? 0.9,
    beta2: options.beta2 ?? 0.999,
    eps: options.eps ?? 1e-8,
    weightDecay: options.weightDecay ?? 0,
    decoupled: options.decoupled ?? true,
  };
  for (const key of ["lr", "beta1", "beta2", "eps", "weightDecay"] as const) {
    if (!Number.isFinite(r[key])) {
      throw new RangeError(`Cannot run an Adam step: ${key} must be finite, got ${r[key]}`);
    }
  }
  for (const key of ["beta1", "beta2"] as const) {
    if (r[key] < 0 || r[key] >= 1) {
      throw new RangeError(`Cannot run an Adam step: ${key} must be in [0, 1), got ${r[key]}`);
    }
  }
  return r;
}

/**
 * Records one Adam(W) step into the pending batch and increments
 * `state.step`. The bias corrections `1 − β^step` are computed here in
 * double precision and passed to the kernel.
 *
 * @example
 * ```ts
 * import { adamStep, createAdamState } from "./adam.ts";
 * import { Gpu } from "../gpu/gpu.ts";
 * import { GpuVector } from "../gpu/vector.ts";
 * const gpu = await Gpu.create();
 * const w = GpuVector.from(gpu, new Float32Array([1, 1]));
 * const g = GpuVector.from(gpu, new Float32Array([3, -0.5]));
 * const state = createAdamState(w);
 * await adamStep(w, g, state, { lr: 0.1 }); // the first step moves each weight by ≈ lr
 * console.log(Array.from(await w.read(), (x) => x.toFixed(3))); // [ "0.900", "1.100" ]
 * gpu.destroy();
 * ```
 */
export async function adamStep(
  params: GpuVector,
  grads: GpuVector,
  state: AdamState,
  options: AdamOptions,
): Promise<void> {
  params.assertSameShape(grads, "run an Adam step");
  params.assertSameShape(state.m, "run an Adam step");
  params.assertSameShape(state.v, "run an Adam step");
  const r = resolve(options);
  const step = state.step + 1;
  const gpu = params.gpu;
  const stepSize = r.lr / (1 - r.beta1 ** step);
  const bc2Sqrt = Math.sqrt(1 - r.beta2 ** step);
  for (let i = 0; i < params.chunks.length; i++) {
    const chunk = params.chunks[i]!;
    const n4 = Math.ceil(chunk.length / 4);
    if (n4 === 0) continue;
    const { perLane, workgroups } = laneLayout(n4);
    await gpu.dispatch({
      kernel: kernels.adamUpdate,
      constants: { WG: LANES_PER_WORKGROUP, DECOUPLED: r.decoupled ? 1 : 0 },
      storage: [
        chunk.buffer,
        state.m.chunks[i]!.buffer,
        state.v.chunks[i]!.buffer,
        grads.chunks[i]!.buffer,
      ],
      uniform: packUniform([
        ["u", n4],
        ["u", perLane],
        ["f", r.beta1],
        ["f", r.beta2],
        ["f", 1 - r.beta1],
        ["f", 1 - r.beta2],
        ["f", r.eps],
        ["f", stepSize],
        ["f", bc2Sqrt],
        ["f", 1 - r.lr * r.weightDecay],
        ["f", r.weightDecay],
      ]),
      workgroups,
    });
  }
  state.step = step;
}

/**
 * Plain TypeScript reference of {@linkcode adamStep} (double precision):
 * step number `step` (1 for the first), returning the new parameters and moments.
 *
 * @example
 * ```ts
 * import { adamReference } from "./adam.ts";
 * const { params } = adamReference([1], [3], [0], [0], 1, { lr: 0.1 });
 * console.log(params[0]!.toFixed(3)); // 0.900
 * ```
 */
export function adamReference(
  params: ArrayLike<number>,
  grads: ArrayLike<number>,
  m: ArrayLike<number>,
  v: ArrayLike<number>,
  step: number,
  options: AdamOptions,
): { params: Float64Array; m: Float64Array; v: Float64Array } {
  const r = resolve(options);
  const w = Float64Array.from(params);
  const m1 = Float64Array.from(m);
  const v1 = Float64Array.from(v);
  const bc1 = 1 - r.beta1 ** step;
  const bc2 = 1 - r.beta2 ** step;
  for (let i = 0; i < w.length; i++) {
    let g = grads[i]!;
    if (r.decoupled) w[i] = w[i]! * (1 - r.lr * r.weightDecay);
    else g += r.weightDecay * w[i]!;
    m1[i] = r.beta1 * m1[i]! + (1 - r.beta1) * g;
    v1[i] = r.beta2 * v1[i]! + (1 - r.beta2) * g * g;
    w[i] = w[i]! - (r.lr / bc1) * m1[i]! / (Math.sqrt(v1[i]!) / Math.sqrt(bc2) + r.eps);
  }
  return { params: w, m: m1, v: v1 };
}
