/**
 * Hugging Face checkpoint directories (DESIGN.md §3 "Checkpoints"):
 * `config.json` plus `model.safetensors`, or shards listed by
 * `model.safetensors.index.json`. Tensors load by HF name into a
 * {@linkcode ParameterLayout} — into a flat CPU array, or tensor by tensor
 * straight into a {@linkcode GpuVector} so a multi-GB model never needs a
 * second full copy in memory. Each tensor is read with one seek, so shards
 * are never read whole.
 *
 * The directory is always a parameter (needs `--allow-read`, and
 * `--allow-write` to export); nothing is resolved against the module's URL.
 *
 * @module
 */

import { join } from "node:path";
import { pathExists } from "../fs.ts";
import { configFromHf, configToHf, type ModelConfig } from "./config.ts";
import { type ParameterLayout, parameterLayout, tensorViews } from "./layout.ts";
import {
  decodeTensor,
  parseSafetensorsHeader,
  type SafetensorsEntry,
  safetensorsHeaderLength,
  type Tensor,
  writeSafetensors,
} from "./safetensors.ts";
import type { GpuVector } from "../gpu/vector.ts";

/**
 * The file names of a Hugging Face checkpoint directory: its config, its
 * single weights file, and the index of sharded weights.
 *
 * @example
 * ```ts
 * import { CONFIG_FILE, INDEX_FILE, WEIGHTS_FILE } from "./hf_checkpoint.ts";
 * console.log(CONFIG_FILE, WEIGHTS_FILE, INDEX_FILE);
 * // prints: config.json model.safetensors model.safetensors.index.json
 * ```
 */
export const CONFIG_FILE = "config.json";
/**
 * The single weights file (see {@linkcode CONFIG_FILE}).
 *
 * @example
 * ```ts
 * import { WEIGHTS_FILE } from "./hf_checkpoint.ts";
 * console.log(WEIGHTS_FILE); // model.safetensors
 * ```
 */
export const WEIGHTS_FILE = "model.safetensors";
/**
 * The shard index, mapping tensor names to shard files (see {@linkcode CONFIG_FILE}).
 *
 * @example
 * ```ts
 * import { INDEX_FILE } from "./hf_checkpoint.ts";
 * console.log(INDEX_FILE); // model.safetensors.index.json
 * ```
 */
export const INDEX_FILE = "model.safetensors.index.json";

/** Buffers some checkpoints store that are not parameters (recomputed by the model). */
const NON_PARAMETER = /\.rotary_emb\.inv_freq$/;

async function readJson(path: string, action: string): Promise<unknown> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (error) {
    throw new Error(`Cannot ${action}: ${path} cannot be read (${(error as Error).message})`, {
      cause: error,
    });
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new TypeError(
      `Cannot ${action}: ${path} is not valid JSON (${(error as Error).message})`,
    );
  }
}

/**
 * The model config of checkpoint directory `dir` (its `config.json`).
 *
 * @example
 * ```ts
 * import { exportCheckpoint, readCheckpointConfig } from "./hf_checkpoint.ts";
 * import { parameterLayout } from "./layout.ts";
 * import { PRESETS } from "./presets.ts";
 * const dir = await Deno.makeTempDir();
 * const layout = parameterLayout(PRESETS.ci);
 * await exportCheckpoint(dir, layout, new Float32Array(layout.length));
 * console.log((await readCheckpointConfig(dir)).hiddenSize); // 32
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function readCheckpointConfig(dir: string): Promise<ModelConfig> {
  const path = join(dir, CONFIG_FILE);
  return configFromHf(await readJson(path, `load checkpoint ${dir}`), path);
}

/** Where each tensor of a checkpoint is: file path and header entry. */
interface Located {
  readonly path: string;
  readonly dataStart: number;
  readonly entry: SafetensorsEntry;
}

async function readExactly(
  file: Deno.FsFile,
  position: number,
  length: number,
): Promise<Uint8Array> {
  await file.seek(position, Deno.SeekMode.Start);
  const out = new Uint8Array(length);
  let filled = 0;
  while (filled < length) {
    const n = await file.read(out.subarray(filled));
    if (n === null) break;
    filled += n;
  }
  if (filled < length) {
    throw new RangeError(`unexpected end of file after ${position + filled} bytes`);
  }
  return out;
}

async function indexFile(path: string): Promise<Located[]> {
  const file = await Deno.open(path, { read: true });
  try {
    const size = (await file.stat()).size;
    const prefix = await readExactly(file, 0, Math.min(8, size));
    const n = safetensorsHeaderLength(prefix, size, path);
    const head = new Uint8Array(8 + n);
    head.set(prefix);
    head.set(await readExactly(file, 8, n), 8);
    const header = parseSafetensorsHeader(head, size, path);
    return header.entries.map((entry) => ({ path, dataStart: header.dataStart, entry }));
  } finally {
    file.close();
  }
}

/** The weight files of `dir` (single file or shards), validated. */
async function weightFiles(dir: string): Promise<{ files: string[]; map: Map<string, string> }> {
  const action = `load checkpoint ${dir}`;
  const indexPath = join(dir, INDEX_FILE);
  if (await pathExists(indexPath)) {
    const index = await readJson(indexPath, action) as { weight_map?: unknown };
    const map = index?.weight_map;
    if (typeof map !== "object" || map === null || Array.isArray(map)) {
      throw new TypeError(`Cannot ${action}: ${INDEX_FILE} has no "weight_map" object`);
    }
    const entries = Object.entries(map as Record<string, unknown>);
    for (const [name, file] of entries) {
      if (typeof file !== "string" || file.includes("/") || file.includes("\\") || file === "..") {
        throw new TypeError(
          `Cannot ${action}: ${INDEX_FILE} maps "${name}" to ${JSON.stringify(file)}, ` +
            "expected a file name in the directory",
        );
      }
    }
    const byName = new Map(entries as [string, string][]);
    return { files: [...new Set(byName.values())], map: byName };
  }
  if (await pathExists(join(dir, WEIGHTS_FILE))) return { files: [WEIGHTS_FILE], map: new Map() };
  throw new Error(
    `Cannot ${action}: it has neither ${WEIGHTS_FILE} nor ${INDEX_FILE} ` +
      "(PyTorch .bin weights must be converted to safetensors first)",
  );
}

/** Options for {@linkcode loadCheckpoint}. */
export interface LoadOptions {
  /**
   * The layout to load into (its config must equal the checkpoint's);
   * defaults to `parameterLayout(config)`, one unbounded chunk.
   */
  layout?: ParameterLayout;
  /**
   * Write each tensor straight into this vector (laid out by `layout`)
   * instead of returning a CPU array.
   */
  into?: GpuVector;
}

/** What {@linkcode loadCheckpoint} found. */
export interface LoadedCheckpoint {
  /** The checkpoint's config. */
  readonly config: ModelConfig;
  /** The layout the values follow. */
  readonly layout: ParameterLayout;
  /** The flat parameters (`layout.length`), or `null` when loaded `into` a GPU vector. */
  readonly data: Float32Array | null;
  /** Stored tensors that are not parameters and were skipped (RoPE buffers, a tied `lm_head`). */
  readonly ignored: readonly string[];
}

/**
 * Loads checkpoint directory `dir` by HF tensor name. F32, F16 and BF16 are
 * converted to f32. A missing, extra or mis-shaped tensor is an error that
 * names it, e.g. `Cannot load checkpoint D: tensor "model.norm.weight" has
 * shape [16], expected [32]`.
 *
 * @example
 * ```ts
 * import { exportCheckpoint, loadCheckpoint } from "./hf_checkpoint.ts";
 * import { parameterLayout } from "./layout.ts";
 * import { PRESETS } from "./presets.ts";
 * const dir = await Deno.makeTempDir();
 * const layout = parameterLayout(PRESETS.ci);
 * await exportCheckpoint(dir, layout, new Float32Array(layout.length).fill(0.5));
 * const loaded = await loadCheckpoint(dir);
 * console.log(loaded.data![0], loaded.layout.numParameters); // 0.5 39776
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function loadCheckpoint(
  dir: string,
  options: LoadOptions = {},
): Promise<LoadedCheckpoint> {
  const action = `load checkpoint ${dir}`;
  const config = await readCheckpointConfig(dir);
  const layout = options.layout ?? parameterLayout(config);
  const differs = (Object.keys(config) as (keyof ModelConfig)[])
    .find((field) => layout.config[field] !== config[field]);
  if (differs) {
    throw new TypeError(
      `Cannot ${action}: its ${differs} is ${config[differs]}, the layout's is ` +
        layout.config[differs],
    );
  }
  const views = options.into ? tensorViews(options.into, layout) : null;
  const data = options.into ? null : new Float32Array(layout.length);

  const { files, map } = await weightFiles(dir);
  const located = new Map<string, Located>();
  for (const file of files) {
    const path = join(dir, file);
    if (!(await pathExists(path))) {
      throw new Error(`Cannot ${action}: ${INDEX_FILE} lists ${file}, which does not exist`);
    }
    for (const found of await indexFile(path)) {
      const listed = map.get(found.entry.name);
      if (map.size > 0 && listed !== undefined && listed !== file) continue;
      if (located.has(found.entry.name)) {
        throw new TypeError(`Cannot ${action}: tensor "${found.entry.name}" is stored twice`);
      }
      located.set(found.entry.name, found);
    }
  }
  const wanted = new Set(layout.tensors.map((t) => t.name));
  const ignored: string[] = [];
  for (const name of located.keys()) {
    if (wanted.has(name)) continue;
    if (NON_PARAMETER.test(name) || (name === "lm_head.weight" && config.tieEmbeddings)) {
      ignored.push(name);
      continue;
    }
    throw new TypeError(`Cannot ${action}: tensor "${name}" is not a parameter of this model`);
  }
  for (const name of map.keys()) {
    if (!located.has(name)) {
      throw new TypeError(
        `Cannot ${action}: ${INDEX_FILE} lists "${name}" in ${map.get(name)}, which lacks it`,
      );
    }
  }

  const open = new Map<string, Deno.FsFile>();
  try {
    for (const slot of layout.tensors) {
      const found = located.get(slot.name);
      if (!found) throw new TypeError(`Cannot ${action}: tensor "${slot.name}" is missing`);
      const { entry } = found;
      if (
        entry.shape.length !== slot.shape.length || entry.shape.some((d, i) => d !== slot.shape[i])
      ) {
        throw new TypeError(
          `Cannot ${action}: tensor "${slot.name}" has shape [${entry.shape.join(", ")}], ` +
            `expected [${slot.shape.join(", ")}]`,
        );
      }
      let file = open.get(found.path);
      if (!file) open.set(found.path, file = await Deno.open(found.path, { read: true }));
      let values: Float32Array;
      try {
        const raw = await readExactly(file, found.dataStart + entry.begin, entry.end - entry.begin);
        values = decodeTensor(entry, raw, found.path);
      } catch (error) {
        throw new Error(`Cannot ${action}: tensor "${slot.name}": ${(error as Error).message}`, {
          cause: error,
        });
      }
      if (data) {
        data.set(values, slot.offset);
      } else {
        const view = views!.get(slot.name)!;
        options.into!.gpu.write(view.binding.buffer, values, view.binding.offset);
      }
    }
  } finally {
    for (const file of open.values()) file.close();
  }
  return { config, layout, data, ignored };
}

/** Options for {@linkcode exportCheckpoint}. */
export interface ExportOptions {
  /** Extra `config.json` fields (e.g. `bos_token_id`, `eos_token_id`). */
  configExtra?: Record<string, unknown>;
  /** Extra safetensors `__metadata__` strings. */
  metadata?: Record<string, string>;
}

/**
 * Writes `config.json` and an F32 `model.safetensors` (HF names, tied
 * embeddings stored once as HF does) into `dir`, creating it if needed.
 * `values` is the flat vector (CPU or GPU) laid out by `layout`. The file is
 * built in memory, so this is meant for models of up to a few GB.
 *
 * @example
 * ```ts
 * import { exportCheckpoint } from "./hf_checkpoint.ts";
 * import { parameterLayout } from "./layout.ts";
 * import { PRESETS } from "./presets.ts";
 * const dir = await Deno.makeTempDir();
 * const layout = parameterLayout(PRESETS.ci);
 * await exportCheckpoint(dir, layout, new Float32Array(layout.length));
 * console.log([...Deno.readDirSync(dir)].map((e) => e.name).sort()); // ["config.json", "model.safetensors"]
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function exportCheckpoint(
  dir: string,
  layout: ParameterLayout,
  values: Float32Array | GpuVector,
  options: ExportOptions = {},
): Promise<void> {
  const flat = values instanceof Float32Array ? values : await values.read();
  if (flat.length !== layout.length) {
    throw new TypeError(
      `Cannot export checkpoint ${dir}: got ${flat.length} values, the layout has ${layout.length}`,
    );
  }
  const tensors: [string, Tensor][] = layout.tensors.map((slot) => [
    slot.name,
    { shape: slot.shape, data: flat.subarray(slot.offset, slot.offset + slot.numel) },
  ]);
  await Deno.mkdir(dir, { recursive: true });
  const config = configToHf(layout.config, options.configExtra);
  await Deno.writeTextFile(join(dir, CONFIG_FILE), JSON.stringify(config, null, 2) + "\n");
  await Deno.writeFile(join(dir, WEIGHTS_FILE), writeSafetensors(tensors, options.metadata));
}
