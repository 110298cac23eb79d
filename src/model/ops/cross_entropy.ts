/**
 * Cross-entropy of next-token prediction with label masking (DESIGN.md §3,
 * model; the eval loss of paper.md §5): per-token losses, their mean over
 * labels ≠ −100, and the fused loss-and-gradient kernel that overwrites the
 * logits with `dlogits = scale · (softmax − onehot) / count` (llm.c style:
 * the logits, the largest activation, are not needed after the backward pass).
 *
 * @module
 */

import * as kernels from "../../../kernels/mod.ts";
import type { Binding, Gpu } from "../../gpu/gpu.ts";
import { placeholder, requireElements, requireFinite, requireInt } from "../../gpu/arguments.ts";
import { packUniform } from "../../gpu/uniform.ts";
import { groupsFor, type ModelRows, modelRows, WORKGROUP } from "./_common.ts";

/**
 * The label value that masks a token out of the loss (PyTorch's `ignore_index`).
 *
 * @example
 * ```ts
 * import { crossEntropyMeanReference, IGNORE_INDEX } from "./cross_entropy.ts";
 * console.log(crossEntropyMeanReference([2, 9], [5, IGNORE_INDEX])); // { mean: 2, count: 1 }
 * ```
 */
export const IGNORE_INDEX: number = -100;

/** Shape of a cross-entropy call: T rows of V logits. */
export interface CrossEntropyShape {
  /** Tokens (rows). */
  T: number;
  /** Vocabulary size (logits per row). */
  V: number;
}

function check(action: string, shape: CrossEntropyShape): void {
  requireInt(action, "T", shape.T);
  requireInt(action, "V", shape.V);
}

/**
 * Records per-token losses `losses[t] = logsumexp(logits[t]) − logits[t, labels[t]]`
 * (0 where labels[t] = −100, NaN for a label outside [0, V)). The logits are
 * only read.
 *
 * @param buffers `losses` [T] (written), `logits` [T, V], `labels` Int32 [T]
 *
 * @example
 * ```ts
 * import { crossEntropyForward } from "./cross_entropy.ts";
 * import { Gpu } from "../../gpu/gpu.ts";
 * const gpu = await Gpu.create();
 * const logits = gpu.upload(new Float32Array([0, 0, 5, 0]));
 * const labels = gpu.upload(new Int32Array([1, -100]));
 * const losses = gpu.buffer(8);
 * await crossEntropyForward(gpu, { losses, logits, labels }, { T: 2, V: 2 });
 * const out = new Float32Array(await gpu.read(losses), 0, 2);
 * console.log(Array.from(out, (v) => v.toFixed(4))); // [ "0.6931", "0.0000" ]
 * gpu.destroy();
 * ```
 */
export async function crossEntropyForward(
  gpu: Gpu,
  buffers: { losses: Binding; logits: Binding; labels: Binding },
  shape: CrossEntropyShape,
): Promise<void> {
  const action = "run cross-entropy forward";
  check(action, shape);
  const { T, V } = shape;
  requireElements(action, "losses", buffers.losses, T);
  requireElements(action, "logits", buffers.logits, T * V);
  requireElements(action, "labels", buffers.labels, T);
  await gpu.dispatch({
    kernel: kernels.crossentropyForward,
    constants: { WG: WORKGROUP },
    storage: [buffers.losses, buffers.logits, buffers.labels],
    uniform: packUniform([["u", T], ["u", V]]),
    workgroups: groupsFor(T),
  });
}

/**
 * Records the fused loss and gradient: `losses` [T] is written and `logits`
 * [T, V] is overwritten with dlogits of the mean loss over the unmasked
 * tokens, times `scale` (default 1). Masked rows get gradient 0. With
 * `weights` [T], token t's loss counts with weight `scale · weights[t]`
 * instead of `scale / count` (a packed row of several sequences); a
 * negative weight keeps `scale / count` for its token (a model whose pass is
 * one plain sequence, in a batch with models whose pass is a packed row).
 *
 * @param buffers `losses` [T] (written), `logits` [T, V] (overwritten), `labels` Int32 [T],
 *   `weights` [T] (optional)
 * @param options `models`: B models of `rows` rows each in one call (T = count·rows): `count`
 *   is then the unmasked labels of the row's own model, so each model's losses and dlogits are
 *   bit-identical to a call of its own (its stride is not used)
 *
 * @example
 * ```ts
 * import { crossEntropyBackward } from "./cross_entropy.ts";
 * import { Gpu } from "../../gpu/gpu.ts";
 * const gpu = await Gpu.create();
 * const logits = gpu.upload(new Float32Array([0, 0, 5, 0]));
 * const labels = gpu.upload(new Int32Array([1, -100]));
 * const losses = gpu.buffer(8);
 * await crossEntropyBackward(gpu, { losses, logits, labels }, { T: 2, V: 2 });
 * console.log(new Float32Array(await gpu.read(logits), 0, 4)); // Float32Array [0.5, -0.5, 0, 0]
 * gpu.destroy();
 * ```
 */
export async function crossEntropyBackward(
  gpu: Gpu,
  buffers: { losses: Binding; logits: Binding; labels: Binding; weights?: Binding },
  shape: CrossEntropyShape & { scale?: number },
  options: { models?: ModelRows } = {},
): Promise<void> {
  const action = "run cross-entropy backward";
  check(action, shape);
  const scale = shape.scale ?? 1;
  requireFinite(action, "scale", scale);
  const { T, V } = shape;
  const { rows } = modelRows(action, T, options.models);
  requireElements(action, "losses", buffers.losses, T);
  requireElements(action, "logits", buffers.logits, T * V);
  requireElements(action, "labels", buffers.labels, T);
  if (buffers.weights) requireElements(action, "weights", buffers.weights, T);
  await gpu.dispatch({
    kernel: kernels.crossentropyBackward,
    constants: { WG: WORKGROUP, HAS_WEIGHTS: buffers.weights ? 1 : 0 },
    storage: [buffers.losses, buffers.logits, buffers.labels, buffers.weights ?? placeholder(gpu)],
    uniform: packUniform([["u", T], ["u", V], ["f", scale], ["u", rows]]),
    workgroups: groupsFor(T),
  });
}

/**
 * Records `result = [mean loss over labels ≠ −100, their count]` ((0, 0)
 * when all are masked) of tokens `first … first + T − 1` (default first 0:
 * one sequence of a packed row), on the GPU so a training step reads it
 * back with everything else in one map.
 *
 * @param buffers `result` [2] (written), `losses` [first + T], `labels` Int32 [first + T]
 * @param options `resultFirst`: where in `result` the pair goes (default 0); `models`: `count`
 *   models' tokens `rows` apart, model m's mean over its tokens `m·rows + first …` into
 *   `result[resultFirst + m·resultStride]` (src/model/model_batch.ts), each as a lone call
 *   computes it
 *
 * @example
 * ```ts
 * import { crossEntropyMean } from "./cross_entropy.ts";
 * import { Gpu } from "../../gpu/gpu.ts";
 * const gpu = await Gpu.create();
 * const losses = gpu.upload(new Float32Array([1, 7, 3]));
 * const labels = gpu.upload(new Int32Array([4, -100, 2]));
 * const result = gpu.buffer(8);
 * await crossEntropyMean(gpu, { result, losses, labels }, { T: 3 });
 * console.log(new Float32Array(await gpu.read(result), 0, 2)); // Float32Array [2, 2]
 * gpu.destroy();
 * ```
 */
export async function crossEntropyMean(
  gpu: Gpu,
  buffers: { result: Binding; losses: Binding; labels: Binding },
  shape: { T: number; first?: number },
  options: {
    models?: { count: number; rows: number; resultStride: number };
    resultFirst?: number;
  } = {},
): Promise<void> {
  const action = "compute the mean cross-entropy";
  const first = shape.first ?? 0;
  const resultFirst = options.resultFirst ?? 0;
  requireInt(action, "T", shape.T);
  requireInt(action, "first", first, 0);
  requireInt(action, "resultFirst", resultFirst, 0);
  const models = options.models ?? { count: 1, rows: 0, resultStride: 0 };
  requireInt(action, "models", models.count);
  requireInt(action, "rows", models.rows, 0);
  requireInt(action, "resultStride", models.resultStride, 0);
  if (models.count > 1 && models.resultStride < 2) {
    throw new RangeError(
      `Cannot ${action}: models' results need 2 floats each, got a stride of ${models.resultStride}`,
    );
  }
  const last = (models.count - 1) * models.rows + first + shape.T;
  requireElements(
    action,
    "result",
    buffers.result,
    resultFirst + (models.count - 1) * models.resultStride + 2,
  );
  requireElements(action, "losses", buffers.losses, last);
  requireElements(action, "labels", buffers.labels, last);
  await gpu.dispatch({
    kernel: kernels.crossentropyMean,
    storage: [buffers.result, buffers.losses, buffers.labels],
    uniform: packUniform([
      ["u", shape.T],
      ["u", first],
      ["u", models.rows],
      ["u", models.resultStride],
      ["u", resultFirst],
    ]),
    workgroups: models.count,
  });
}

/**
 * Plain TypeScript reference of {@linkcode crossEntropyForward} (double
 * precision): per-token losses, 0 for masked tokens.
 *
 * @example
 * ```ts
 * import { crossEntropyForwardReference } from "./cross_entropy.ts";
 * const losses = crossEntropyForwardReference([0, 0], [0], { T: 1, V: 2 });
 * console.log(losses[0]!.toFixed(4)); // 0.6931
 * ```
 */
export function crossEntropyForwardReference(
  logits: ArrayLike<number>,
  labels: ArrayLike<number>,
  shape: CrossEntropyShape,
): Float64Array {
  const { T, V } = shape;
  const losses = new Float64Array(T);
  for (let t = 0; t < T; t++) {
    const label = labels[t]!;
    if (label === IGNORE_INDEX) continue;
    if (label < 0 || label >= V) {
      losses[t] = NaN;
      continue;
    }
    losses[t] = logSumExp(logits, t * V, V) - logits[t * V + label]!;
  }
  return losses;
}

/**
 * Plain TypeScript reference of {@linkcode crossEntropyMean}: the mean loss
 * over labels ≠ −100 and their count ((0, 0) when all are masked).
 *
 * @example
 * ```ts
 * import { crossEntropyMeanReference } from "./cross_entropy.ts";
 * console.log(crossEntropyMeanReference([1, 7, 3], [4, -100, 2])); // { mean: 2, count: 2 }
 * ```
 */
export function crossEntropyMeanReference(
  losses: ArrayLike<number>,
  labels: ArrayLike<number>,
): { mean: number; count: number } {
  let sum = 0;
  let count = 0;
  for (let t = 0; t < labels.length; t++) {
    if (labels[t] === IGNORE_INDEX) continue;
    sum += losses[t]!;
    count++;
  }
  return { mean: count > 0 ? sum / count : 0, count };
}

/**
 * Plain TypeScript reference of {@linkcode crossEntropyBackward} (double
 * precision): the gradient of `scale` × the mean loss (or, with `weights`,
 * of `scale` × Σ_t weights[t]·loss[t]; a negative weight counts its token
 * with `scale / count` instead) with respect to the logits. With `models`,
 * `count` is the unmasked labels of the token's own model (rows t with the
 * same ⌊t / rows⌋).
 *
 * @example
 * ```ts
 * import { crossEntropyBackwardReference } from "./cross_entropy.ts";
 * console.log(crossEntropyBackwardReference([0, 0], [1], { T: 1, V: 2 })); // Float64Array [0.5, -0.5]
 * ```
 */
export function crossEntropyBackwardReference(
  logits: ArrayLike<number>,
  labels: ArrayLike<number>,
  shape: CrossEntropyShape & {
    scale?: number;
    weights?: ArrayLike<number>;
    models?: Pick<ModelRows, "count" | "rows">;
  },
): Float64Array {
  const { T, V } = shape;
  const scale = shape.scale ?? 1;
  const rows = shape.models?.rows ?? T;
  const dlogits = new Float64Array(T * V);
  const counts = new Float64Array(Math.ceil(T / rows));
  for (let t = 0; t < T; t++) if (labels[t] !== IGNORE_INDEX) counts[Math.floor(t / rows)]!++;
  for (let t = 0; t < T; t++) {
    const label = labels[t]!;
    if (label === IGNORE_INDEX) continue;
    const weight = shape.weights?.[t] ?? -1;
    const factor = weight < 0 ? 1 / counts[Math.floor(t / rows)]! : weight;
    const lse = logSumExp(logits, t * V, V);
    for (let c = 0; c < V; c++) {
      const p = Math.exp(logits[t * V + c]! - lse);
      dlogits[t * V + c] = label < 0 || label >= V
        ? NaN
        : (p - (c === label ? 1 : 0)) * scale * factor;
    }
  }
  return dlogits;
}

function logSumExp(values: ArrayLike<number>, start: number, n: number): number {
  let max = -Infinity;
  for (let i = 0; i < n; i++) max = Math.max(max, values[start + i]!);
  let sum = 0;
  for (let i = 0; i < n; i++) sum += Math.exp(values[start + i]! - max);
  return max + Math.log(sum);
}
