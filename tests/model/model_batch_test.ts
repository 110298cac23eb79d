/**
 * Several models trained as one batch (src/model/model_batch.ts) against
 * each model trained on its own: the same losses and parameters, bit for
 * bit (every kernel computes a model's share exactly as a lone pass), with
 * packed and plain rows mixed in one pass, models whose steps need more
 * passes than others, SGD and Adam, a diverging client among finite ones,
 * and LoRA adapters and soft prompts over a frozen base.
 */
import assert from "node:assert/strict";
import { Gpu } from "../../src/gpu/gpu.ts";
import { LocalTrainer, type LocalTrainingOptions } from "../../src/fl/local.ts";
import { batchRefusal, ModelBatch, type ModelBatchOptions } from "../../src/model/model_batch.ts";
import type { AdapterOptions } from "../../src/model/peft/adapter.ts";
import { PRESETS } from "../../src/model/presets.ts";
import { type Sequence, Transformer } from "../../src/model/transformer.ts";
import { RandomStream } from "../../src/random/stream.ts";
import { assertSameBits } from "./ops/_helpers.ts";

const CONFIG = PRESETS.ci;
const MAX_TOKENS = 24;

function sequence(stream: RandomStream, T: number): Sequence {
  const V = CONFIG.vocabSize;
  return {
    tokens: Int32Array.from({ length: T }, () => stream.int(V)),
    targets: Int32Array.from({ length: T }, (_, t) => (t < 3 ? -100 : stream.int(V))),
  };
}

/**
 * Client c's sequences: lengths from 5 to 23 tokens, so a step of 2 packs into one row
 * (weighted) or needs two (plain rows), differently per client.
 */
function clientData(c: number, n: number): Sequence[] {
  const stream = new RandomStream(40 + c, "tests/model/model_batch");
  return Array.from({ length: n }, () => sequence(stream, 5 + stream.int(19)));
}

/** Model that starts with a NaN weight (its loss is not finite from the first step). */
let poisoned = -1;

/** Start parameters of model b: the seeded init of seed b. */
async function start(gpu: Gpu, b: number): Promise<Float32Array> {
  const model = await Transformer.create(gpu, CONFIG, { maxTokens: MAX_TOKENS, seed: b });
  const values = await model.params.vector.read();
  model.destroy();
  if (b === poisoned) values[values.length - 1] = NaN;
  return values;
}

/** Parameters equal bit for bit, where a padding row's exact zero may carry either sign. */
const ANY_ZERO = { anyZeroSign: true } as const;

/** Each client on its own Transformer: losses and trained parameters. */
async function alone(
  gpu: Gpu,
  options: LocalTrainingOptions,
  clients: readonly Sequence[][],
): Promise<{ losses: number[][]; finite: boolean[]; params: Float32Array[] }> {
  const out = { losses: [] as number[][], finite: [] as boolean[], params: [] as Float32Array[] };
  const trainer = new LocalTrainer(options);
  for (const [b, sequences] of clients.entries()) {
    const model = await Transformer.create(gpu, CONFIG, {
      maxTokens: MAX_TOKENS,
      parameters: await start(gpu, b),
    });
    const result = await trainer.train(model, sequences, new RandomStream(b, "order"));
    out.losses.push([...result.losses]);
    out.finite.push(result.finite);
    out.params.push(await model.params.vector.read());
    model.destroy();
  }
  trainer.destroy();
  return out;
}

/** The clients as one batch (of `capacity` ≥ clients models). */
async function together(
  gpu: Gpu,
  options: LocalTrainingOptions,
  clients: readonly Sequence[][],
  capacity = clients.length,
): Promise<{ losses: number[][]; finite: boolean[]; params: Float32Array[] }> {
  const batch = ModelBatch.create(gpu, CONFIG, { count: capacity, maxTokens: MAX_TOKENS });
  const scratch = await Transformer.create(gpu, CONFIG, { maxTokens: MAX_TOKENS });
  const vector = scratch.params.vector;
  for (let b = 0; b < clients.length; b++) {
    vector.write(await start(gpu, b));
    batch.load(b, vector);
  }
  const trainer = new LocalTrainer(options);
  const results = await trainer.trainBatch(
    batch,
    clients,
    clients.map((_, b) => new RandomStream(b, "order")),
  );
  const params: Float32Array[] = [];
  for (let b = 0; b < clients.length; b++) {
    batch.store(b, vector);
    params.push(await vector.read());
  }
  trainer.destroy();
  scratch.destroy();
  batch.destroy();
  return {
    losses: results.map((r) => [...r.losses]),
    finite: results.map((r) => r.finite),
    params,
  };
}

Deno.test("a batch of models trains each exactly as it trains alone", async (t) => {
  const gpu = await Gpu.create();
  try {
    assert.equal(batchRefusal(CONFIG), null, "the ci model can be batched");
    const clients = [0, 1, 2].map((c) => clientData(c, 6));
    const starts = await Promise.all(clients.map((_, b) => start(gpu, b)));
    const cases: [string, LocalTrainingOptions][] = [
      ["SGD", { steps: 3, nAccum: 2, optimizer: { kind: "sgd", lr: 0.05 } }],
      ["SGD with weight decay", {
        steps: 2,
        nAccum: 3,
        optimizer: { kind: "sgd", lr: 0.05, weightDecay: 0.1 },
      }],
      ["Adam", { steps: 3, nAccum: 2, optimizer: { kind: "adam", lr: 1e-3 } }],
      ["one sequence per step", { steps: 4, optimizer: { kind: "sgd", lr: 0.05 } }],
    ];
    for (const [label, options] of cases) {
      await t.step(label, async () => {
        const want = await alone(gpu, options, clients);
        // A batch holding more models than it trains leaves the others out.
        const got = await together(gpu, options, clients, 4);
        assert.deepEqual(got.losses, want.losses);
        assert.deepEqual(got.finite, [true, true, true]);
        got.params.forEach((p, b) =>
          assertSameBits(p, want.params[b]!, `${label}: model ${b}`, ANY_ZERO)
        );
        for (let b = 0; b < clients.length; b++) {
          const moved = want.params[b]!.some((v, i) => v !== (starts[b]![i]!));
          assert.ok(moved, `training moves model ${b}'s parameters`);
        }
      });
    }

    await t.step("a diverging client is reported, the others train on", async () => {
      const options: LocalTrainingOptions = {
        steps: 3,
        nAccum: 2,
        optimizer: { kind: "sgd", lr: 0.05 },
      };
      poisoned = 1;
      try {
        const want = await alone(gpu, options, clients);
        const got = await together(gpu, options, clients);
        assert.deepEqual(want.finite, [true, false, true]);
        assert.deepEqual(got.finite, want.finite);
        // A non-finite client's losses end at the step that showed it, as train reports them.
        assert.equal(want.losses[1]!.length, 1);
        assert.equal(got.losses[1]!.length, 1);
        assert.ok(Number.isNaN(got.losses[1]![0]!));
        for (const b of [0, 2]) {
          assert.deepEqual(got.losses[b], want.losses[b]);
          assertSameBits(got.params[b]!, want.params[b]!, `model ${b}`, ANY_ZERO);
        }
      } finally {
        poisoned = -1;
      }
    });

    await t.step("invalid batches are refused", async () => {
      assert.match(
        batchRefusal({ ...CONFIG, intermediateSize: 90 }) ?? "",
        /intermediate size 90 is not a multiple of 4/,
      );
      assert.match(batchRefusal({ ...CONFIG, attentionBias: true }) ?? "", /attention biases/);
      assert.throws(
        () => ModelBatch.create(gpu, CONFIG, { count: 0, maxTokens: 8 }),
        /Cannot batch 0 models/,
      );
      const batch = ModelBatch.create(gpu, CONFIG, { count: 2, maxTokens: 8 });
      try {
        await assert.rejects(
          () => batch.recordLossAndGrad([clientData(0, 2), clientData(1, 3)]),
          /every model takes the same number/,
        );
        await assert.rejects(
          () => batch.recordLossAndGrad([clientData(0, 1), clientData(1, 1), clientData(2, 1)]),
          /Cannot train 3 models in a batch of 2/,
        );
        await assert.rejects(
          () => batch.recordLossAndGrad([[sequence(new RandomStream(1, "x"), 9)]]),
          /this model takes 1 … 8/,
        );
        const trainer = new LocalTrainer({ steps: "epoch", optimizer: { kind: "sgd", lr: 0.1 } });
        await assert.rejects(
          () =>
            trainer.trainBatch(batch, [clientData(0, 1), clientData(1, 2)], [
              new RandomStream(0, "order"),
              new RandomStream(1, "order"),
            ]),
          /every client takes the same number/,
        );
        assert.throws(() => batch.load(2, batch.params), /batch holds 0 … 1/);
        assert.throws(() => batch.load(0, batch.params), /expected one model's vector/);
      } finally {
        batch.destroy();
      }
    });
  } finally {
    gpu.destroy();
  }
});

// FedIT's clients: a LoRA adapter per model over one frozen base. Each client's adapter (B not
// zero, so every LoRA gradient is live from the first step) trained on its own Transformer
// against the batch's: the same losses and adapters, bit for bit, and the base untouched.
Deno.test("a batch of adapters over a frozen base trains each exactly as alone", async (t) => {
  const gpu = await Gpu.create();
  try {
    const clients = [0, 1, 2].map((c) => clientData(c, 6));
    const base = await start(gpu, 7);
    assert.match(batchRefusal(CONFIG, { rank: 2 }) ?? "", /LoRA rank 2 is not a multiple of 4/);
    const adapterOf = (b: number, length: number) => {
      const stream = new RandomStream(b, "tests/model/model_batch/adapter");
      return Float32Array.from({ length }, () => 0.2 * (stream.uniform() - 0.5));
    };
    const lora = { rank: 4, targets: ["q", "k", "v", "o"] as const };
    const prompt = { tokens: 3 };
    const cases: [string, AdapterOptions, ModelBatchOptions, LocalTrainingOptions][] = [
      ["LoRA, Adam (FedIT)", { kind: "lora", ...lora }, { count: 4, maxTokens: MAX_TOKENS, lora }, {
        steps: 3,
        nAccum: 2,
        optimizer: { kind: "adam", lr: 1e-2 },
      }],
      [
        "LoRA, SGD (FedIT-SGD)",
        { kind: "lora", ...lora },
        { count: 4, maxTokens: MAX_TOKENS, lora },
        { steps: 2, nAccum: 3, optimizer: { kind: "sgd", lr: 0.1 } },
      ],
      [
        "soft prompt, SGD (FedPrompt)",
        { kind: "prompt", ...prompt },
        { count: 4, maxTokens: MAX_TOKENS, prompt },
        { steps: 2, nAccum: 3, optimizer: { kind: "sgd", lr: 0.5 } },
      ],
      [
        "prefix, Adam (FedPTuning)",
        { kind: "prefix", ...prompt },
        { count: 4, maxTokens: MAX_TOKENS, prefix: prompt },
        { steps: 2, nAccum: 3, optimizer: { kind: "adam", lr: 1e-2 } },
      ],
    ];
    for (const [label, adapter, batchOptions, options] of cases) {
      await t.step(label, async () => {
        const make = () =>
          Transformer.create(gpu, CONFIG, { maxTokens: MAX_TOKENS, parameters: base, adapter });
        const trainer = new LocalTrainer(options);
        const want: { losses: number[]; adapter: Float32Array }[] = [];
        for (const [b, sequences] of clients.entries()) {
          const model = await make();
          const vector = model.trainable.params.vector;
          vector.write(adapterOf(b, vector.length));
          const result = await trainer.train(model, sequences, new RandomStream(b, "order"));
          want.push({ losses: [...result.losses], adapter: await vector.read() });
          model.destroy();
        }
        const model = await make();
        const vector = model.trainable.params.vector;
        const batch = ModelBatch.create(gpu, CONFIG, batchOptions);
        batch.loadBase(model.params.vector);
        for (let b = 0; b < clients.length; b++) {
          vector.write(adapterOf(b, vector.length));
          batch.load(b, vector);
        }
        const results = await trainer.trainBatch(
          batch,
          clients,
          clients.map((_, b) => new RandomStream(b, "order")),
        );
        for (const [b, result] of results.entries()) {
          assert.deepEqual([...result.losses], want[b]!.losses, `${label}: losses of model ${b}`);
          batch.store(b, vector);
          const got = await vector.read();
          assertSameBits(got, want[b]!.adapter, `${label}: adapter ${b}`, ANY_ZERO);
          assert.ok(
            got.some((v, i) => v !== adapterOf(b, vector.length)[i]),
            `training moves adapter ${b}`,
          );
        }
        // The base weights stay frozen: every model still holds them.
        const params = await batch.params.read();
        for (let b = 0; b < batch.count; b++) {
          const mine = params.subarray(b * batch.stride, b * batch.stride + base.length);
          assertSameBits(mine, base, `${label}: base of model ${b}`);
        }
        assert.throws(() => batch.load(0, model.params.vector), /expected one model's vector/);
        batch.destroy();
        model.destroy();
        trainer.destroy();
      });
    }
    assert.throws(
      () => ModelBatch.create(gpu, CONFIG, { count: 2, maxTokens: MAX_TOKENS, lora, prompt }),
      /with a LoRA adapter and a soft prompt/,
    );
    assert.throws(
      () =>
        ModelBatch.create(gpu, CONFIG, {
          count: 2,
          maxTokens: CONFIG.maxPositions,
          prompt,
        }),
      /the soft prompt takes 3 of/,
    );
    assert.throws(
      () => ModelBatch.create(gpu, CONFIG, { count: 2, maxTokens: 8, prefix: { tokens: 0 } }),
      /Cannot batch a prefix of 0 tokens/,
    );
  } finally {
    gpu.destroy();
  }
});
