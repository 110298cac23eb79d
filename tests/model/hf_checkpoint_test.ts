import assert from "node:assert/strict";
import { join } from "node:path";
import { Gpu, type ModelConfig, PRESETS, RandomStream } from "../../mod.ts";
import {
  configToHf,
  createParameters,
  exportCheckpoint,
  initParameters,
  loadCheckpoint,
  parameterLayout,
  readCheckpointConfig,
  readSafetensors,
  readTensor,
  sameConfig,
  type Tensor,
  writeSafetensors,
} from "../../engine.ts";

/** A safetensors file with tensors stored as F16 (values must be exact in f16) or BF16. */
function halfFile(tensors: [string, number[], Float32Array][], dtype: "F16" | "BF16"): Uint8Array {
  const header: Record<string, unknown> = {};
  let offset = 0;
  for (const [name, shape, data] of tensors) {
    header[name] = { dtype, shape, data_offsets: [offset, offset + 2 * data.length] };
    offset += 2 * data.length;
  }
  const json = new TextEncoder().encode(JSON.stringify(header));
  const out = new Uint8Array(8 + json.length + offset);
  const view = new DataView(out.buffer);
  view.setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  let at = 8 + json.length;
  for (const [, , data] of tensors) {
    for (const value of data) {
      view.setUint16(at, dtype === "BF16" ? bf16Bits(value) : f16Bits(value), true);
      at += 2;
    }
  }
  return out;
}

/** f32 → bf16 bits (the values used here are exact in bf16). */
function bf16Bits(value: number): number {
  const bits = new Uint32Array(new Float32Array([value]).buffer)[0]!;
  assert.equal(bits & 0xffff, 0, `${value} is not exact in bf16`);
  return bits >>> 16;
}

/** f32 → f16 bits for normal numbers that are exact in f16 (and zero). */
function f16Bits(value: number): number {
  if (value === 0) return Object.is(value, -0) ? 0x8000 : 0;
  const sign = value < 0 ? 0x8000 : 0;
  const a = Math.abs(value);
  const exponent = Math.floor(Math.log2(a));
  const mantissa = a / 2 ** exponent * 1024 - 1024;
  assert.ok(Number.isInteger(mantissa) && exponent >= -14 && exponent <= 15, `${value} not exact`);
  return sign | ((exponent + 15) << 10) | mantissa;
}

/** Values k/256 for small k: exact in f16 and bf16. */
function exactValues(n: number, salt: number): Float32Array {
  return Float32Array.from({ length: n }, (_, i) => (((i * 7 + salt) % 61) - 30) / 256);
}

async function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "ckpt_test_" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("checkpoints", async (t) => {
  const layout = parameterLayout(PRESETS.ci);
  const flat = initParameters(layout, new RandomStream(5, "test/checkpoint"));

  await t.step("export then load is bit-exact", async () => {
    await withDir(async (dir) => {
      await exportCheckpoint(dir, layout, flat, { configExtra: { bos_token_id: 256 } });
      const json = JSON.parse(await Deno.readTextFile(join(dir, "config.json")));
      assert.equal(json.bos_token_id, 256);
      assert.equal(json.num_key_value_heads, 2);
      assert.ok(sameConfig(await readCheckpointConfig(dir), PRESETS.ci));
      const loaded = await loadCheckpoint(dir);
      assert.deepEqual(loaded.ignored, []);
      assert.ok(sameConfig(loaded.config, PRESETS.ci));
      assert.deepEqual(new Uint32Array(loaded.data!.buffer), new Uint32Array(flat.buffer));
      // The file itself is a plain HF safetensors file with HF names.
      const file = readSafetensors(await Deno.readFile(join(dir, "model.safetensors")));
      assert.deepEqual([...file.tensors.keys()], layout.tensors.map((s) => s.name));
      assert.equal(file.metadata.format, "pt");
      // Loading into a chunked layout moves tensors but keeps their values.
      const chunked = parameterLayout(PRESETS.ci, { chunkElements: 12288 });
      const again = await loadCheckpoint(dir, { layout: chunked });
      for (const slot of layout.tensors) {
        assert.deepEqual(
          readTensor(again.data!, chunked, slot.name),
          readTensor(flat, layout, slot.name),
        );
      }
    });
  });

  await t.step("load straight into a chunked GPU vector, export from it", async () => {
    const gpu = await Gpu.create();
    try {
      await withDir(async (dir) => {
        await exportCheckpoint(dir, layout, flat);
        const params = createParameters(gpu, PRESETS.ci, { chunkElements: 12288 });
        const loaded = await loadCheckpoint(dir, { layout: params.layout, into: params.vector });
        assert.equal(loaded.data, null);
        const back = await params.vector.read();
        for (const slot of layout.tensors) {
          assert.deepEqual(
            readTensor(back, params.layout, slot.name),
            readTensor(flat, layout, slot.name),
          );
        }
        const out = join(dir, "out");
        await exportCheckpoint(out, params.layout, params.vector);
        const reloaded = await loadCheckpoint(out);
        assert.deepEqual(reloaded.data, flat);
      });
    } finally {
      gpu.destroy();
    }
  });

  await t.step("tied embeddings: stored once, a stored lm_head is ignored", async () => {
    const tied: ModelConfig = { ...PRESETS.ci, tieEmbeddings: true };
    const tiedLayout = parameterLayout(tied);
    const values = initParameters(tiedLayout, new RandomStream(5, "test/tied"));
    await withDir(async (dir) => {
      await exportCheckpoint(dir, tiedLayout, values);
      const file = readSafetensors(await Deno.readFile(join(dir, "model.safetensors")));
      assert.ok(!file.tensors.has("lm_head.weight"));
      assert.equal(
        JSON.parse(await Deno.readTextFile(join(dir, "config.json"))).tie_word_embeddings,
        true,
      );
      assert.deepEqual((await loadCheckpoint(dir)).data, values);
      const withHead = new Map(file.tensors);
      withHead.set("lm_head.weight", file.tensors.get("model.embed_tokens.weight")!);
      await Deno.writeFile(join(dir, "model.safetensors"), writeSafetensors(withHead));
      const loaded = await loadCheckpoint(dir);
      assert.deepEqual(loaded.ignored, ["lm_head.weight"]);
      assert.deepEqual(loaded.data, values);
    });
  });

  await t.step("sharded F16/BF16 checkpoint with an index", async () => {
    await withDir(async (dir) => {
      await Deno.writeTextFile(join(dir, "config.json"), JSON.stringify(configToHf(PRESETS.ci)));
      const expected = new Float32Array(layout.length);
      const shards: [string, number[], Float32Array][][] = [[], []];
      const weightMap: Record<string, string> = {};
      layout.tensors.forEach((slot, i) => {
        const values = slot.kind === "norm"
          ? new Float32Array(slot.numel).fill(1)
          : exactValues(slot.numel, i);
        expected.set(values, slot.offset);
        const shard = slot.layer === 1 || slot.name === "lm_head.weight" ? 1 : 0;
        shards[shard]!.push([slot.name, [...slot.shape], values]);
        weightMap[slot.name] = `model-0000${shard + 1}-of-00002.safetensors`;
      });
      // An older checkpoint's RoPE buffer, which is not a parameter.
      shards[0]!.push(["model.layers.0.self_attn.rotary_emb.inv_freq", [4], exactValues(4, 0)]);
      weightMap["model.layers.0.self_attn.rotary_emb.inv_freq"] =
        "model-00001-of-00002.safetensors";
      await Deno.writeFile(
        join(dir, "model-00001-of-00002.safetensors"),
        halfFile(shards[0]!, "F16"),
      );
      await Deno.writeFile(
        join(dir, "model-00002-of-00002.safetensors"),
        halfFile(shards[1]!, "BF16"),
      );
      await Deno.writeTextFile(
        join(dir, "model.safetensors.index.json"),
        JSON.stringify({ metadata: { total_size: 0 }, weight_map: weightMap }),
      );
      const loaded = await loadCheckpoint(dir);
      assert.deepEqual(loaded.ignored, ["model.layers.0.self_attn.rotary_emb.inv_freq"]);
      assert.deepEqual(loaded.data, expected);

      // The index naming a shard that does not exist.
      weightMap["model.norm.weight"] = "model-00003-of-00002.safetensors";
      await Deno.writeTextFile(
        join(dir, "model.safetensors.index.json"),
        JSON.stringify({ weight_map: weightMap }),
      );
      await assert.rejects(
        () => loadCheckpoint(dir),
        /lists model-00003-of-00002\.safetensors, which does not exist/,
      );
      weightMap["model.norm.weight"] = "../escape.safetensors";
      await Deno.writeTextFile(
        join(dir, "model.safetensors.index.json"),
        JSON.stringify({ weight_map: weightMap }),
      );
      await assert.rejects(() => loadCheckpoint(dir), /expected a file name in the directory/);
      // The index pointing at the wrong shard for a tensor.
      weightMap["model.norm.weight"] = "model-00002-of-00002.safetensors";
      await Deno.writeTextFile(
        join(dir, "model.safetensors.index.json"),
        JSON.stringify({ weight_map: weightMap }),
      );
      await assert.rejects(
        () => loadCheckpoint(dir),
        /lists "model\.norm\.weight" in model-00002-of-00002\.safetensors, which lacks it/,
      );
    });
  });

  await t.step("errors name the checkpoint and the tensor", async () => {
    await withDir(async (dir) => {
      await assert.rejects(
        () => loadCheckpoint(dir),
        new RegExp(`^Error: Cannot load checkpoint ${dir}: .*config\\.json cannot be read`),
      );
      await exportCheckpoint(dir, layout, flat);
      const file = readSafetensors(await Deno.readFile(join(dir, "model.safetensors")));
      const rewrite = (tensors: Map<string, Tensor>) =>
        Deno.writeFile(join(dir, "model.safetensors"), writeSafetensors(tensors));

      const wrongShape = new Map<string, Tensor>(file.tensors);
      wrongShape.set("model.layers.0.self_attn.q_proj.weight", {
        shape: [16, 64],
        data: file.tensors.get("model.layers.0.self_attn.q_proj.weight")!.data,
      });
      await rewrite(wrongShape);
      await assert.rejects(() => loadCheckpoint(dir), {
        name: "TypeError",
        message: `Cannot load checkpoint ${dir}: tensor "model.layers.0.self_attn.q_proj.weight" ` +
          "has shape [16, 64], expected [32, 32]",
      });

      const missing = new Map<string, Tensor>(file.tensors);
      missing.delete("model.layers.1.mlp.up_proj.weight");
      await rewrite(missing);
      await assert.rejects(() => loadCheckpoint(dir), {
        message:
          `Cannot load checkpoint ${dir}: tensor "model.layers.1.mlp.up_proj.weight" is missing`,
      });

      const extra = new Map<string, Tensor>(file.tensors);
      extra.set("model.layers.0.self_attn.q_proj.bias", {
        shape: [32],
        data: new Float32Array(32),
      });
      await rewrite(extra);
      await assert.rejects(
        () => loadCheckpoint(dir),
        /tensor "model\.layers\.0\.self_attn\.q_proj\.bias" is not a parameter of this model/,
      );

      await rewrite(file.tensors);
      await assert.rejects(
        () => loadCheckpoint(dir, { layout: parameterLayout(PRESETS.default) }),
        new RegExp(`Cannot load checkpoint ${dir}: its hiddenSize is 32, the layout's is 256`),
      );

      // A truncated weights file.
      const bytes = await Deno.readFile(join(dir, "model.safetensors"));
      await Deno.writeFile(join(dir, "model.safetensors"), bytes.subarray(0, bytes.length - 4));
      await assert.rejects(() => loadCheckpoint(dir), /outside the data section/);

      await Deno.remove(join(dir, "model.safetensors"));
      await assert.rejects(
        () => loadCheckpoint(dir),
        new RegExp(`Cannot load checkpoint ${dir}: it has neither model\\.safetensors nor`),
      );
      await assert.rejects(
        () => exportCheckpoint(dir, layout, new Float32Array(3)),
        /got 3 values, the layout has 39968/,
      );
    });
  });
});
