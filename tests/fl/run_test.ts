import assert from "node:assert/strict";
import { builtinSuite } from "../../src/data/suites/builtin.ts";
import { fedAvg } from "../../src/fl/algorithms/fed_avg.ts";
import { evaluateModel, federatedRun } from "../../src/fl/run.ts";
import { Gpu } from "../../src/gpu/gpu.ts";
import { PRESETS } from "../../src/model/presets.ts";
import { ByteTokenizer } from "../../src/model/tokenizer.ts";
import { Transformer } from "../../src/model/transformer.ts";

Deno.test("evaluateModel scores the base model on the examples a run is scored on", async () => {
  const gpu = await Gpu.create();
  try {
    const config = { ...PRESETS.ci, maxPositions: 256 };
    const dataset = builtinSuite("gsm8k-like", "smoke", 0);
    const evaluation = { lossExamples: 3, rougeExamples: 2, maxNewTokens: 6 };
    const tokenizer = new ByteTokenizer();
    const base = await evaluateModel({
      dataset,
      model: await Transformer.create(gpu, config, { maxTokens: 192 }),
      tokenizer,
      evaluation,
    });
    const run = await federatedRun({
      dataset,
      model: await Transformer.create(gpu, config, { maxTokens: 192 }),
      tokenizer,
      algorithm: fedAvg({ local: { steps: 1, optimizer: { kind: "sgd", lr: 0.1 } } }),
      rounds: 1,
      seed: 0,
      evaluation,
    });
    // The same model, examples and computation as the run's loss before round 1.
    assert.equal(base.evalLoss, run.evalLoss[0]);
    assert.ok(base.rougeL >= 0 && base.rougeL <= 100);
    // GSM8K-like references end in "#### <number>": exact match is scored (a percentage).
    for (const score of [base.exactMatch, run.exactMatch]) {
      assert.ok(typeof score === "number" && score >= 0 && score <= 100, `${score}`);
    }
    assert.equal(base.samples.length, 2);
    assert.ok(
      base.samples.every((s) => typeof s.generation === "string" && s.reference.length > 0),
    );
  } finally {
    gpu.destroy();
  }
});

Deno.test("lossEvery skips the eval losses in between, and nothing else changes", async () => {
  const gpu = await Gpu.create();
  try {
    const config = { ...PRESETS.ci, maxPositions: 256 };
    const dataset = builtinSuite("gsm8k-like", "smoke", 0);
    const tokenizer = new ByteTokenizer();
    const run = async (lossEvery?: number) =>
      federatedRun({
        dataset,
        model: await Transformer.create(gpu, config, { maxTokens: 192, seed: 4 }),
        tokenizer,
        algorithm: fedAvg({ local: { steps: 1, optimizer: { kind: "sgd", lr: 0.1 } } }),
        rounds: 4,
        seed: 2,
        evaluation: {
          lossExamples: 3,
          rougeExamples: 2,
          maxNewTokens: 4,
          ...(lossEvery ? { lossEvery } : {}),
        },
      });
    const every = await run();
    const sparse = await run(3);
    assert.ok(every.evalLoss.every(Number.isFinite), `${every.evalLoss}`);
    // Before round 1, at round 3 and after the last round (4); NaN in between.
    const measured = [0, 3, 4];
    sparse.evalLoss.forEach((loss, r) => {
      if (measured.includes(r)) assert.equal(loss, every.evalLoss[r], `round ${r}`);
      else assert.ok(Number.isNaN(loss), `round ${r}: ${loss}`);
    });
    assert.deepEqual(sparse.trainLoss, every.trainLoss);
    // The suite's 3 clients, every one sampled, train as one batch of models.
    assert.equal(every.clientsPerBatch, 3);
    assert.equal(sparse.rougeL, every.rougeL);
    assert.deepEqual(sparse.samples, every.samples);
    await assert.rejects(() => run(0.5), RangeError);
  } finally {
    gpu.destroy();
  }
});
