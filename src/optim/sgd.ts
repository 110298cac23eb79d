/**
 * Stochastic gradient descent on a chunked parameter vector (paper.md §1,
 * Eq. 3: the local updates of Ferret, FedAvg and FedIT-SGD), as PyTorch's
 * `torch.optim.SGD` computes it without dampening: weight decay added to the
 * gradient, optional (Nesterov) momentum.
 *
 * @module
 */

import * as kernels from "../../kernels/mod.ts";
import type { GpuVector } from "../gpu/vector.ts";
import { laneLayout, LANES_PER_WORKGROUP } from "../gpu/lanes.ts";
import { placeholder } from "../gpu/arguments.ts";
import { packUniform } from "../gpu/uniform.ts";

/** Hyper-parameters of {@linkcode sgdStep}. */
export interface SgdOptions {
  /** Learning rate. */
  lr: number;
  /** Momentum μ (0 disables it; then no momentum buffer is needed). Defaults to 0. */
  momentum?: number;
  /** L2 weight decay added to the gradient. Defaults to 0. */
  weightDecay?: number;
  /** Nesterov momentum. Defaults to false. */
  nesterov?: boolean;
}

function resolve(options: SgdOptions): Required<SgdOptions> {
  const r = {
    lr: options.lr,
    momentum: options.momentum ?? 0,
    weightDecay: options.weightDecay ?? 0,
    nesterov: options.nesterov ?? false,
  };
  for (const key of ["lr", "momentum", "weightDecay"] as const) {
    if (!Number.isFinite(r[key])) {
      throw new RangeError(`Cannot run an SGD step: ${key} must be finite, got ${r[key]}`);
    }
  }
  if (r.momentum < 0) {
    throw new RangeError(`Cannot run an SGD step: momentum must be ≥ 0, got ${r.momentum}`);
  }
  return r;
}

/**
 * Records one SGD step `w ← w − lr · g` into the pending batch, where
 * `g = grad + weightDecay · w`, or with momentum μ: `b ← μ·b + g` and
 * `g ← b` (or `g + μ·b`, Nesterov). `momentumBuffer` (zeros at the start,
 * chunked like `params`) is required when μ > 0.
 *
 * @example
 * ```ts
 * import { sgdStep } from "./sgd.ts";
 * import { Gpu } from "../gpu/gpu.ts";
 * import { GpuVector } from "../gpu/vector.ts";
 * const gpu = await Gpu.create();
 * const w = GpuVector.from(gpu, new Float32Array([1, 2]));
 * const g = GpuVector.from(gpu, new Float32Array([10, -10]));
 * await sgdStep(w, g, { lr: 0.1 });
 * console.log(await w.read()); // Float32Array [0, 3]
 * gpu.destroy();
 * ```
 */
export async function sgdStep(
  params: GpuVector,
  grads: GpuVector,
  options: SgdOptions,
  momentumBuffer?: GpuVector,
): Promise<void> {
  params.assertSameShape(grads, "run an SGD step");
  const r = resolve(options);
  const hasMomentum = r.momentum > 0;
  if (hasMomentum) {
    if (!momentumBuffer) {
      throw new TypeError(
        `Cannot run an SGD step: momentum ${r.momentum} needs a momentum buffer`,
      );
    }
    params.assertSameShape(momentumBuffer, "run an SGD step");
  }
  const gpu = params.gpu;
  for (let i = 0; i < params.chunks.length; i++) {
    const chunk = params.chunks[i]!;
    const n4 = Math.ceil(chunk.length / 4);
    if (n4 === 0) continue;
    const { perLane, workgroups } = laneLayout(n4);
    await gpu.dispatch({
      kernel: kernels.sgdUpdate,
      constants: { WG: LANES_PER_WORKGROUP, HAS_MOMENTUM: hasMomentum ? 1 : 0 },
      storage: [
        chunk.buffer,
        hasMomentum ? momentumBuffer!.chunks[i]!.buffer : placeholder(gpu),
        grads.chunks[i]!.buffer,
      ],
      uniform: packUniform([
        ["u", n4],
        ["u", perLane],
        ["f", r.lr],
        ["f", r.weightDecay],
        ["f", r.momentum],
        ["u", r.nesterov ? 1 : 0],
      ]),
      workgroups,
    });
  }
}

/**
 * Plain TypeScript reference of {@linkcode sgdStep} (double precision):
 * the new parameters and momentum buffer.
 *
 * @example
 * ```ts
 * import { sgdReference } from "./sgd.ts";
 * const { params } = sgdReference([1, 2], [10, -10], { lr: 0.1 });
 * console.log(params); // Float64Array [0, 3]
 * ```
 */
export function sgdReference(
  params: ArrayLike<number>,
  grads: ArrayLike<number>,
  options: SgdOptions,
  momentumBuffer?: ArrayLike<number>,
): { params: Float64Array; momentum: Float64Array } {
  const r = resolve(options);
  const w = Float64Array.from(params);
  const b = momentumBuffer ? Float64Array.from(momentumBuffer) : new Float64Array(w.length);
  for (let i = 0; i < w.length; i++) {
    let g = grads[i]! + r.weightDecay * w[i]!;
    if (r.momentum > 0) {
      b[i] = r.momentum * b[i]! + g;
      g = r.nesterov ? g + r.momentum * b[i]! : b[i]!;
    }
    w[i] = w[i]! - r.lr * g;
  }
  return { params: w, momentum: b };
}
