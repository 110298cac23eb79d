/**
 * Soft prompts (prompt tuning; FedPrompt, paper.md §6): `n` trainable
 * virtual token embeddings [n, C] placed before the input embeddings of
 * every sequence, the model frozen.
 *
 * As in PEFT, the virtual tokens are ordinary inputs of the decoder: they
 * take positions 0 … n − 1 (RoPE rotates what attention computes from them
 * like any token's), the sequence's own tokens follow at n, n + 1, …, and no
 * loss is taken on them (target −100). The tensor is named as PEFT saves it,
 * `prompt_embeddings` [n, C]. PEFT's two initialisations are offered: random
 * (`nn.Embedding`'s N(0, 1), from the `peft/prompt` stream) and "text"
 * (the embedding rows of given token ids, repeated and cut to n).
 *
 * @module
 */

import type { Gpu } from "../../gpu/gpu.ts";
import { RandomStream } from "../../random/stream.ts";
import type { ModelConfig } from "../config.ts";
import type { Parameters, TensorView } from "../layout.ts";
import {
  accumulateModelRows,
  type AdapterModels,
  adapterVectors,
  batchAdapterVectors,
  copyToModelRows,
  modelsReached,
} from "./_layout.ts";

/**
 * The PEFT name of the soft prompt tensor.
 *
 * @example
 * ```ts
 * import { PROMPT_NAME } from "./prompt.ts";
 * console.log(PROMPT_NAME); // prompt_embeddings
 * ```
 */
export const PROMPT_NAME = "prompt_embeddings";

/** Options of a soft prompt. */
export interface PromptOptions {
  /** Virtual tokens n. */
  tokens: number;
  /**
   * Initialise from the embeddings of these token ids, repeated and cut to
   * n (PEFT's `TEXT` init). Default: random N(0, std²).
   */
  initIds?: readonly number[];
  /** Standard deviation of the random init (default 1, `nn.Embedding`'s). */
  std?: number;
  /** Seed of the `peft/prompt` stream (default 0). */
  seed?: number;
}

/**
 * A soft prompt on the GPU: its parameters and gradients (own vectors,
 * one tensor `prompt_embeddings` [n, C]). With `count` > 1 it holds the
 * prompts of a batch of models (src/model/model_batch.ts), `stride`
 * elements apart in one vector (zero until loaded), and its passes put
 * each model's prompt before that model's rows.
 *
 * @example
 * ```ts
 * import { Gpu } from "../../gpu/gpu.ts";
 * import { PRESETS } from "../presets.ts";
 * import { Transformer } from "../transformer.ts";
 * const gpu = await Gpu.create();
 * const model = await Transformer.create(gpu, PRESETS.ci, {
 *   maxTokens: 8,
 *   adapter: { kind: "prompt", tokens: 4 },
 * });
 * console.log(model.adapter?.params.layout.numParameters); // 128
 * gpu.destroy();
 * ```
 */
export class PromptAdapter {
  /** Discriminates the adapters. */
  readonly kind = "prompt" as const;
  /** Virtual tokens n. */
  readonly length: number;
  /** The trainable tensor. */
  readonly params: Parameters;
  /** Its gradient (same layout). */
  readonly grads: Parameters;
  /** Prompts held: one, or a batch's. */
  readonly count: number;
  /** Elements from one prompt's parameters to the next's (0 with one). */
  readonly stride: number;
  readonly #gpu: Gpu;
  readonly #C: number;

  /**
   * Allocates and initialises a soft prompt for `config`; or, with `count`
   * > 1, the zero prompts of a batch of models. `embedding` (the model's
   * `model.embed_tokens.weight` view) is needed for `initIds`; the rows are
   * copied on the GPU.
   */
  constructor(
    gpu: Gpu,
    config: ModelConfig,
    options: PromptOptions,
    embedding?: TensorView,
    count = 1,
  ) {
    const n = options.tokens;
    if (!Number.isInteger(n) || n < 1) {
      throw new RangeError(`Cannot create a soft prompt of ${n} tokens: expected an integer ≥ 1`);
    }
    if (!Number.isInteger(count) || count < 1) {
      throw new RangeError(`Cannot hold ${count} soft prompts: expected an integer ≥ 1`);
    }
    const C = config.hiddenSize;
    this.length = n;
    this.count = count;
    this.#gpu = gpu;
    this.#C = C;
    const shapes = [
      { name: PROMPT_NAME, shape: [n, C], numel: n * C, kind: "embedding", layer: null } as const,
    ];
    if (count > 1) {
      const batch = batchAdapterVectors(gpu, config, shapes, count, "prompt");
      this.params = batch.params;
      this.grads = batch.grads;
      this.stride = batch.stride;
      return;
    }
    this.stride = 0;
    const { params, grads } = adapterVectors(gpu, config, shapes, "prompt");
    this.params = params;
    this.grads = grads;
    if (options.initIds) {
      const ids = options.initIds;
      if (
        ids.length === 0 ||
        ids.some((id) => !(Number.isInteger(id) && id >= 0 && id < config.vocabSize))
      ) {
        throw new RangeError(
          `Cannot initialise a soft prompt from ids [${ids.join(", ")}]: expected 1 or more ids ` +
            `in 0 … ${config.vocabSize - 1}`,
        );
      }
      if (!embedding) {
        throw new TypeError("Cannot initialise a soft prompt from ids: no embedding was given");
      }
      const target = params.views.get(PROMPT_NAME)!.binding;
      for (let i = 0; i < n; i++) {
        const id = ids[i % ids.length]!;
        gpu.copy(
          embedding.binding.buffer,
          embedding.binding.offset + id * C * 4,
          target.buffer,
          target.offset + i * C * 4,
          C * 4,
        );
      }
    } else {
      const std = options.std ?? 1;
      if (!(Number.isFinite(std) && std >= 0)) {
        throw new RangeError(`Cannot initialise a soft prompt with std ${std}`);
      }
      const stream = new RandomStream(options.seed ?? 0, "peft/prompt").derive(PROMPT_NAME);
      const flat = new Float32Array(params.layout.length);
      for (let i = 0; i < n * C; i++) flat[i] = std * stream.normal();
      params.vector.write(flat);
    }
  }

  /** Frees the adapter's parameters and gradients. */
  destroy(): void {
    this.params.vector.destroy();
    this.grads.vector.destroy();
  }

  /**
   * Records the copy of the prompt into rows 0 … n − 1 of the input
   * embeddings `x` [rows, C]; with `models`, model b's prompt into the
   * first n of its rows.
   */
  forward(x: GPUBuffer, models?: AdapterModels): void {
    const reach = modelsReached(models, this.count, "soft prompts");
    copyToModelRows(this.#gpu, this.params, PROMPT_NAME, this.stride, x, reach, this.#C);
  }

  /**
   * Records `grad += dx[0 … n − 1]`, dx being the gradient of the input
   * embeddings; with `models`, model b's prompt gradient from the first n
   * of its rows.
   */
  backward(dx: GPUBuffer, models?: AdapterModels): Promise<void> {
    const reach = modelsReached(models, this.count, "soft prompts");
    return accumulateModelRows(this.#gpu, this.grads, PROMPT_NAME, this.stride, dx, reach, this.#C);
  }
}
