/**
 * A {@linkcode Transformer} from a checkpoint directory (`config.json` +
 * safetensors, HF names) and back: how the `paper` scale loads real LLaMA
 * checkpoints and how the default scale caches its pre-trained base.
 *
 * @module
 */

import type { Gpu } from "../gpu/gpu.ts";
import { exportCheckpoint, loadCheckpoint, readCheckpointConfig } from "./hf_checkpoint.ts";
import { Transformer, type TransformerOptions } from "./transformer.ts";

/**
 * Loads the model in checkpoint directory `dir` onto `gpu`, tensor by tensor
 * straight into GPU memory.
 *
 * @example
 * ```ts
 * import { loadTransformer, saveTransformer } from "./pretrained.ts";
 * import { Gpu } from "../gpu/gpu.ts";
 * import { PRESETS } from "./presets.ts";
 * import { Transformer } from "./transformer.ts";
 * const gpu = await Gpu.create();
 * const dir = await Deno.makeTempDir();
 * await saveTransformer(await Transformer.create(gpu, PRESETS.ci, { maxTokens: 8, seed: 4 }), dir);
 * const model = await loadTransformer(gpu, dir, { maxTokens: 8 });
 * console.log(model.config.hiddenSize); // 32
 * gpu.destroy();
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function loadTransformer(
  gpu: Gpu,
  dir: string,
  options: Omit<TransformerOptions, "parameters" | "seed"> = {},
): Promise<Transformer> {
  const config = await readCheckpointConfig(dir);
  const model = await Transformer.create(gpu, config, options);
  await loadCheckpoint(dir, { layout: model.params.layout, into: model.params.vector });
  return model;
}

/**
 * Writes `model`'s parameters as a checkpoint directory (`config.json` and
 * an F32 `model.safetensors` with HF names).
 *
 * @example
 * ```ts
 * import { saveTransformer } from "./pretrained.ts";
 * import { Gpu } from "../gpu/gpu.ts";
 * import { PRESETS } from "./presets.ts";
 * import { Transformer } from "./transformer.ts";
 * const gpu = await Gpu.create();
 * const dir = await Deno.makeTempDir();
 * await saveTransformer(await Transformer.create(gpu, PRESETS.ci, { maxTokens: 4 }), dir);
 * console.log([...Deno.readDirSync(dir)].map((e) => e.name).sort()); // ["config.json", "model.safetensors"]
 * gpu.destroy();
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function saveTransformer(model: Transformer, dir: string): Promise<void> {
  await exportCheckpoint(dir, model.params.layout, model.params.vector);
}
