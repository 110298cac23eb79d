import assert from "node:assert/strict";
import { join } from "node:path";
import { Gpu } from "../../src/gpu/gpu.ts";
import { BPE_TOKENIZER_CONFIG } from "../../src/model/bpe.ts";
import { loadCheckpoint } from "../../src/model/hf_checkpoint.ts";
import { HfTokenizer } from "../../src/model/hf_tokenizer.ts";
import { parameterLayout } from "../../src/model/layout.ts";
import { standIn, standIns } from "../../experiments/_models.ts";
import { STAND_IN_DIR } from "../../src/cli/stand_ins.ts";
import {
  pretrainStandIn,
  readCommittedStandIn,
  standInStem,
  trainStandInTokenizer,
  writeStandIn,
} from "../../experiments/_stand_ins.ts";

Deno.test("a stand-in's stem names it and changes with anything its weights depend on", () => {
  const tiny = standIn("llama-2-7b", "default");
  assert.match(standInStem(tiny, "default"), /^tiny-[0-9a-f]{12}$/);
  assert.equal(standInStem(tiny, "default"), standInStem({ ...tiny }, "default"));
  assert.notEqual(
    standInStem(tiny, "default"),
    standInStem({ ...tiny, pretrainSteps: 1 }, "default"),
  );
  const wider = { ...tiny, config: { ...tiny.config, intermediateSize: 177 } };
  assert.notEqual(standInStem(tiny, "default"), standInStem(wider, "default"));
  assert.notEqual(standInStem(tiny, "default"), standInStem(tiny, "smoke"));
});

Deno.test("the default-scale stand-ins are committed for the current recipe and load as checkpoints", async () => {
  for (const base of standIns("default")) {
    const committed = await readCommittedStandIn(STAND_IN_DIR, base, "default");
    assert.ok(
      committed,
      `stand-ins/default/${standInStem(base, "default")} is missing: run deno task stand-ins`,
    );
    assert.equal(committed.parameters.length, parameterLayout(base.config).length);
    assert.equal(committed.tokenizer.vocabSize, base.config.vocabSize);
    assert.ok(committed.parameters.every(Number.isFinite));
  }
});

Deno.test("pre-training a stand-in is deterministic and survives the checkpoint round trip", async () => {
  const gpu = await Gpu.create();
  const dir = await Deno.makeTempDir();
  try {
    const base = { ...standIn("llama-2-7b", "smoke"), pretrainSteps: 3 };
    const tokenizerJson = trainStandInTokenizer("smoke");
    const tokenizer = new HfTokenizer(tokenizerJson, BPE_TOKENIZER_CONFIG);
    const a = await pretrainStandIn(gpu, base, "smoke", tokenizer);
    const b = await pretrainStandIn(gpu, base, "smoke", tokenizer);
    assert.deepEqual(new Uint32Array(a.values.buffer), new Uint32Array(b.values.buffer));
    await writeStandIn(dir, base, { ...a, tokenizerJson });
    const { data } = await loadCheckpoint(dir, { layout: parameterLayout(base.config) });
    assert.deepEqual(new Uint32Array(data!.buffer), new Uint32Array(a.values.buffer));
    const loaded = await HfTokenizer.load(dir);
    assert.deepEqual(loaded.encode("Instruction: Add 7."), tokenizer.encode("Instruction: Add 7."));
    assert.equal(
      JSON.parse(await Deno.readTextFile(join(dir, "pretrain.json"))).parameters,
      data!.length,
    );
  } finally {
    gpu.destroy();
    await Deno.remove(dir, { recursive: true });
  }
});
