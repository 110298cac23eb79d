import assert from "node:assert/strict";
import { Gpu } from "../../src/gpu/gpu.ts";
import { builtinSuite } from "../../src/data/suites/builtin.ts";
import { PRESETS } from "../../src/model/presets.ts";
import {
  pretrain,
  PRETRAIN_CORPUS_SEED,
  pretrainCorpus,
  pretrainSchedule,
} from "../../src/pretrain/pretrain.ts";
import { ByteTokenizer } from "../../src/model/tokenizer.ts";
import { Transformer } from "../../src/model/transformer.ts";

const tokenizer = new ByteTokenizer();

Deno.test("the pre-training corpus: next-token rows, deterministic, template-free, disjoint from run seeds", () => {
  const rows = pretrainCorpus(tokenizer, { scale: "smoke", rowTokens: 48 });
  assert.ok(rows.length > 10);
  for (const row of rows) {
    assert.equal(row.tokens.length, 48);
    for (let t = 0; t + 1 < 48; t++) assert.equal(row.targets[t], row.tokens[t + 1]);
  }
  assert.deepEqual(pretrainCorpus(tokenizer, { scale: "smoke", rowTokens: 48 }), rows);
  const text = tokenizer.decode(rows.flatMap((r) => [...r.tokens]));
  assert.ok(!text.includes("### Response"), "the corpus must not contain the prompt template");
  // None of the fine-tuning suite's (run seed 0) answers appears verbatim as a corpus line.
  const fineTune = builtinSuite("gsm8k-like", "smoke", 0).test.map((e) => e.output);
  const lines = new Set(text.split("\n"));
  assert.ok(fineTune.filter((o) => lines.has(o)).length < fineTune.length / 4);
  assert.notEqual(PRETRAIN_CORPUS_SEED, 0);
});

Deno.test("the schedule warms up linearly and decays to 10% of the peak", () => {
  assert.ok(pretrainSchedule(0, 100, 1) < pretrainSchedule(4, 100, 1));
  assert.equal(pretrainSchedule(4, 100, 1), 1);
  assert.ok(Math.abs(pretrainSchedule(100, 100, 1) - 0.1) < 1e-12);
});

Deno.test("pre-training lowers the loss of the ci model", async () => {
  const gpu = await Gpu.create();
  try {
    const rows = pretrainCorpus(tokenizer, { scale: "smoke", rowTokens: 32 });
    const model = await Transformer.create(gpu, PRESETS.ci, { maxTokens: 32, seed: 0 });
    const before = await model.loss(rows.slice(0, 8));
    const losses = await pretrain(model, rows, { steps: 40, rowsPerStep: 2, lr: 1e-2, seed: 0 });
    assert.equal(losses.length, 4);
    const after = await model.loss(rows.slice(0, 8));
    assert.ok(after < before - 1, `loss ${before} → ${after}`);
  } finally {
    gpu.destroy();
  }
});
