/**
 * Lays out an adapter's tensors (LoRA matrices, soft prompts, prefixes) the
 * way src/model/layout.ts lays out the model's: one flat f32 vector, each
 * tensor at a multiple of {@linkcode TENSOR_ALIGNMENT} elements inside one
 * chunk, named views for the kernels. The result is a
 * {@linkcode ParameterLayout}, so everything written for the model's vector
 * (optimizers, Ferret's blocks, communication) works on an adapter's too.
 * Private to src/model/peft/.
 *
 * @module
 */

import type { Binding, Gpu } from "../../gpu/gpu.ts";
import { defaultChunkElements, GpuVector } from "../../gpu/vector.ts";
import type { ModelConfig } from "../config.ts";
import { residualAccumulate } from "../ops/residual.ts";
import {
  batchStride,
  batchViews,
  layoutVector,
  packTensors,
  type ParameterLayout,
  type Parameters,
  type TensorShape,
  type TensorView,
} from "../layout.ts";

/**
 * The models of a pass over several adapters (src/model/model_batch.ts):
 * model b owns rows b·rows … b·rows + rows − 1 and its own adapter.
 */
export interface AdapterModels {
  /** Models in the pass (at most the adapter's `count`). */
  readonly count: number;
  /** Rows of each model (a soft prompt's or prefix's first). */
  readonly rows: number;
}

/** A pass of one model: its rows are the whole pass (stride 0 reaches its only adapter). */
export const ONE_MODEL: AdapterModels = { count: 1, rows: 0 };

/**
 * The models a pass reaches on an adapter holding `held` models' tensors
 * (`what`, e.g. "soft prompts"): `models`, or {@linkcode ONE_MODEL} for a
 * lone pass, which needs an adapter of one model.
 */
export function modelsReached(
  models: AdapterModels | undefined,
  held: number,
  what: string,
): AdapterModels {
  if (!models) {
    if (held > 1) throw new TypeError(`Cannot run a pass of one model on ${held} ${what}`);
    return ONE_MODEL;
  }
  if (models.count > held) {
    throw new RangeError(`Cannot run ${models.count} models on ${held} ${what}`);
  }
  return models;
}

/**
 * Packs `shapes` in the given order for a vector chunked by `chunkElements`
 * (the packing rule of `parameterLayout`).
 */
export function adapterLayout(
  config: ModelConfig,
  shapes: readonly TensorShape[],
  chunkElements: number,
): ParameterLayout {
  return packTensors(config, shapes, chunkElements, {
    tensor: "adapter tensor",
    layout: "adapter layout",
  });
}

/** An adapter's parameters and gradients: same layout, two vectors. */
export function adapterVectors(
  gpu: Gpu,
  config: ModelConfig,
  shapes: readonly TensorShape[],
  label: string,
): { params: Parameters; grads: Parameters } {
  const chunkElements = defaultChunkElements(gpu);
  const layout = adapterLayout(config, shapes, chunkElements);
  return {
    params: layoutVector(gpu, layout, `${label} parameters`),
    grads: layoutVector(gpu, layout, `${label} gradients`),
  };
}

/**
 * The adapters of `count` models in one vector each (parameters and
 * gradients, zero), model b's {@linkcode batchStride} elements past model
 * 0's, with views reaching every model's tensor (src/model/model_batch.ts).
 */
export function batchAdapterVectors(
  gpu: Gpu,
  config: ModelConfig,
  shapes: readonly TensorShape[],
  count: number,
  label: string,
): { params: Parameters; grads: Parameters; stride: number } {
  const layout = adapterLayout(config, shapes, Infinity);
  const stride = batchStride(layout);
  const length = count * stride;
  const batched = (name: string): Parameters => {
    const vector = GpuVector.create(gpu, length, { chunkElements: length, label: name });
    return { layout, vector, views: batchViews(vector, layout, count) };
  };
  return {
    params: batched(`${label} batch parameters`),
    grads: batched(`${label} batch gradients`),
    stride,
  };
}

/**
 * Records, for models b = 0 … `models.count` − 1, the copy of model b's
 * tensor `name` (b·`stride` elements past model 0's in `tensors`) into the
 * first rows of its rows in `target` [count·rows, width].
 */
export function copyToModelRows(
  gpu: Gpu,
  tensors: Parameters,
  name: string,
  stride: number,
  target: GPUBuffer,
  models: AdapterModels,
  width: number,
): void {
  const { binding, numel } = tensorView(tensors, name);
  for (let b = 0; b < models.count; b++) {
    const from = binding.offset + b * stride * 4;
    gpu.copy(binding.buffer, from, target, b * models.rows * width * 4, numel * 4);
  }
}

/**
 * Records, for models b = 0 … `models.count` − 1, `tensor_b += ` the first
 * rows of model b's rows in `source` [count·rows, width]: the reverse of
 * {@linkcode copyToModelRows}, for gradients.
 */
export async function accumulateModelRows(
  gpu: Gpu,
  tensors: Parameters,
  name: string,
  stride: number,
  source: GPUBuffer,
  models: AdapterModels,
  width: number,
): Promise<void> {
  const grad = vec4View(tensors, name);
  const n = tensorView(tensors, name).numel;
  const size = Math.ceil(n / 4) * 16;
  for (let b = 0; b < models.count; b++) {
    const x: Binding = { buffer: source, offset: b * models.rows * width * 4, size };
    const y: Binding = {
      buffer: grad.buffer,
      offset: grad.offset + b * stride * 4,
      size: Math.min(size, grad.size),
    };
    await residualAccumulate(gpu, { y, x }, { n });
  }
}

/** Tensor `name` of `tensors` (TypeError naming it when absent). */
function tensorView(tensors: Parameters, name: string): TensorView {
  const found = tensors.views.get(name);
  if (!found) throw new TypeError(`Cannot find adapter tensor "${name}"`);
  return found;
}

/** The binding of tensor `name` of `tensors` (TypeError naming it when absent). */
export function view(tensors: Parameters, name: string): Binding {
  return tensorView(tensors, name).binding;
}

/**
 * The binding of tensor `name` widened to whole vec4s, as the element-wise
 * kernels require. Their last vec4 is masked, so nothing past the tensor is
 * written; the widened range stays inside the chunk because every tensor is
 * followed by its alignment gap or the chunk's 16-byte padding.
 */
export function vec4View(
  tensors: Parameters,
  name: string,
): { buffer: GPUBuffer; offset: number; size: number } {
  const { buffer, offset, size } = tensorView(tensors, name).binding;
  return { buffer, offset, size: Math.min(Math.ceil(size / 16) * 16, buffer.size - offset) };
}
