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
import {
  batchStride,
  batchViews,
  layoutVector,
  packTensors,
  type ParameterLayout,
  type Parameters,
  type TensorShape,
} from "../layout.ts";

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

/** The binding of tensor `name` of `tensors` (TypeError naming it when absent). */
export function view(tensors: Parameters, name: string): Binding {
  const found = tensors.views.get(name);
  if (!found) throw new TypeError(`Cannot find adapter tensor "${name}"`);
  return found.binding;
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
  const found = tensors.views.get(name);
  if (!found) throw new TypeError(`Cannot find adapter tensor "${name}"`);
  const { buffer, offset, size } = found.binding;
  return { buffer, offset, size: Math.min(Math.ceil(size / 16) * 16, buffer.size - offset) };
}
