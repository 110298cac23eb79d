import assert from "node:assert/strict";
import { Gpu } from "../../src/gpu/gpu.ts";
import { generate } from "../../src/model/generate.ts";
import type { AdapterOptions } from "../../src/model/peft/adapter.ts";
import { LoraAdapter, loraNames } from "../../src/model/peft/lora.ts";
import { PROMPT_NAME } from "../../src/model/peft/prompt.ts";
import { PRESETS } from "../../src/model/presets.ts";
import { Transformer } from "../../src/model/transformer.ts";
import { sgdStep } from "../../src/optim/sgd.ts";
import { RandomStream } from "../../src/random/stream.ts";
import { randomSequence, scaledParameters } from "./_fixtures.ts";
import { type ReferenceAdapter, referenceLogits, referenceLoss } from "./_reference_model.ts";

const config = PRESETS.ci;

async function testModel(
  gpu: Gpu,
  adapter: AdapterOptions | undefined,
  options: { maxTokens?: number; randomAdapter?: number } = {},
): Promise<Transformer> {
  const probe = await Transformer.create(gpu, config, { maxTokens: 4 });
  const parameters = scaledParameters(probe.params.layout);
  const model = await Transformer.create(gpu, config, {
    maxTokens: options.maxTokens ?? 16,
    parameters,
    ...(adapter ? { adapter } : {}),
  });
  if (options.randomAdapter && model.adapter) {
    // Every adapter tensor non-zero (a fresh LoRA's B = 0 would hide dA).
    const stream = new RandomStream(8, "tests/model/adapter");
    const layout = model.adapter.params.layout;
    const flat = new Float32Array(layout.length);
    for (const slot of layout.tensors) {
      for (let i = 0; i < slot.numel; i++) {
        flat[slot.offset + i] = options.randomAdapter * stream.normal();
      }
    }
    model.adapter.params.vector.write(flat);
  }
  return model;
}

/** The adapter as the reference model takes it, values read back from the GPU. */
async function referenceAdapter(
  model: Transformer,
  options: AdapterOptions,
): Promise<ReferenceAdapter> {
  const adapter = model.adapter!;
  const layout = adapter.params.layout;
  const theta = Float64Array.from(await adapter.params.vector.read());
  if (adapter.kind === "lora") {
    const { rank, alpha, targets } = adapter.settings;
    return { kind: "lora", layout, theta, rank, alpha, targets };
  }
  return { kind: options.kind as "prompt" | "prefix", layout, theta, tokens: adapter.length };
}

const ADAPTERS: readonly AdapterOptions[] = [
  // Rank 3 (not a multiple of 4) on every projection: all LoRA paths, padded operands.
  { kind: "lora", rank: 3, alpha: 6, targets: ["q", "k", "v", "o"], seed: 1 },
  { kind: "prompt", tokens: 3, seed: 1 },
  { kind: "prefix", tokens: 3, seed: 1 },
];

for (const options of ADAPTERS) {
  Deno.test(`peft ${options.kind}: loss, gradient, frozen training and generation match the reference`, async (t) => {
    const gpu = await Gpu.create();
    try {
      const model = await testModel(gpu, options, { randomAdapter: 0.4, maxTokens: 24 });
      assert.equal(model.train, options.kind);
      const theta = Float64Array.from(await model.params.vector.read());
      const layout = model.params.layout;
      const stream = new RandomStream(3, `tests/model/peft/${options.kind}`);

      await t.step("(a) the loss matches the double-precision reference", async () => {
        const reference = await referenceAdapter(model, options);
        for (const T of [1, 5, 16]) {
          const sequence = randomSequence(stream, T, config.vocabSize);
          if (T === 1) sequence.targets[0] = 7;
          const got = await model.loss([sequence]);
          const want = referenceLoss(config, layout, theta, sequence, reference);
          assert.ok(Math.abs(got - want) < 2e-4 * Math.abs(want), `T=${T}: ${got} vs ${want}`);
        }
      });

      await t.step("(a′) a gradient step reports the loss the evaluation gives", async () => {
        // A soft prompt's rows come before the tokens: the step's per-sequence means must skip
        // them, not the sequence's last tokens.
        const batch = [
          randomSequence(stream, 11, config.vocabSize),
          randomSequence(stream, 6, config.vocabSize),
        ];
        assert.equal(await model.lossAndGrad(batch), await model.loss(batch));
      });

      await t.step("(b) every adapter tensor's gradient matches central differences", async () => {
        const batch = [
          randomSequence(stream, 7, config.vocabSize),
          randomSequence(stream, 9, config.vocabSize),
        ];
        await model.lossAndGrad(batch);
        const adapter = model.adapter!;
        const grads = await adapter.grads.vector.read();
        const reference = await referenceAdapter(model, options);
        const loss = () =>
          batch.reduce((sum, s) => sum + referenceLoss(config, layout, theta, s, reference), 0) /
          batch.length;
        const h = 1e-5;
        const failures: string[] = [];
        const values = reference.theta;
        for (const slot of adapter.params.layout.tensors) {
          const g = grads.subarray(slot.offset, slot.offset + slot.numel);
          let largest = 0;
          for (let i = 1; i < g.length; i++) {
            if (Math.abs(g[i]!) > Math.abs(g[largest]!)) largest = i;
          }
          const scale = Math.abs(g[largest]!);
          assert.ok(scale > 1e-6, `${slot.name}: zero gradient`);
          for (const i of [largest, stream.int(slot.numel), stream.int(slot.numel)]) {
            const j = slot.offset + i;
            const saved = values[j]!;
            values[j] = saved + h;
            const up = loss();
            values[j] = saved - h;
            const down = loss();
            values[j] = saved;
            const numeric = (up - down) / (2 * h);
            // f32 GPU arithmetic against an f64 derivative: 1e-3 of the tensor's largest entry.
            if (Math.abs(g[i]! - numeric) > 1e-3 * scale + 1e-6) {
              failures.push(`${slot.name}[${i}]: ${g[i]} vs ${numeric}`);
            }
          }
        }
        assert.deepEqual(failures, []);
      });

      await t.step("(c) training the adapter leaves the model bit-identical", async () => {
        const sequence = randomSequence(stream, 12, config.vocabSize);
        // The model's gradient vector, filled once in full mode, must stay as it is.
        model.train = "full";
        await model.lossAndGrad([sequence]);
        const modelGrads = await model.grads.vector.read();
        model.train = options.kind;
        const before = await model.params.vector.read();
        const adapterBefore = await model.adapter!.params.vector.read();
        const first = await model.loss([sequence]);
        for (let step = 0; step < 5; step++) {
          await model.recordLossAndGrad([sequence]);
          await sgdStep(model.trainable.params.vector, model.trainable.grads.vector, { lr: 0.05 });
        }
        const last = await model.loss([sequence]);
        const after = await model.params.vector.read();
        assert.ok(before.every((v, i) => Object.is(v, after[i])), "model parameters changed");
        const gradsAfter = await model.grads.vector.read();
        assert.ok(
          modelGrads.every((v, i) => Object.is(v, gradsAfter[i])),
          "model gradients changed",
        );
        const adapterAfter = await model.adapter!.params.vector.read();
        assert.ok(adapterAfter.some((v, i) => v !== adapterBefore[i]), "adapter unchanged");
        assert.ok(last < first, `loss ${first} → ${last}`);
      });

      await t.step("(e) generation equals greedy decoding by full reference passes", async () => {
        const reference = await referenceAdapter(model, options);
        const prompt = [256, 10, 20, 30];
        const got = await generate(model, prompt, { maxNewTokens: 6, checkEvery: 4 });
        const want: number[] = [];
        const ids = [...prompt];
        for (let i = 0; i < 6; i++) {
          const T = ids.length;
          const sequence = { tokens: Int32Array.from(ids), targets: new Int32Array(T).fill(-100) };
          const logits = referenceLogits(config, layout, theta, sequence, reference).subarray(
            (T - 1) * config.vocabSize,
          );
          let best = 0;
          for (let c = 1; c < config.vocabSize; c++) if (logits[c]! > logits[best]!) best = c;
          want.push(best);
          ids.push(best);
        }
        assert.deepEqual(got, want);
      });
    } finally {
      gpu.destroy();
    }
  });
}

Deno.test("peft lora: a fresh adapter (B = 0) gives exactly the model's loss", async (t) => {
  const gpu = await Gpu.create();
  try {
    const base = await testModel(gpu, undefined);
    const lora = await testModel(gpu, { kind: "lora" });
    const stream = new RandomStream(4, "tests/model/peft/fresh");
    const sequence = randomSequence(stream, 11, config.vocabSize);
    await t.step("(d) loss and logits bit-identical", async () => {
      assert.equal(await lora.loss([sequence]), await base.loss([sequence]));
    });
    await t.step("defaults: rank 8, α 16 on q and v, A ~ U(±1/√C), B = 0", async () => {
      const adapter = lora.adapter as LoraAdapter;
      assert.deepEqual(adapter.settings.targets, ["q", "v"]);
      assert.equal(adapter.scale, 2);
      const values = await adapter.params.vector.read();
      const layout = adapter.params.layout;
      assert.equal(layout.tensors.length, 2 * config.numLayers * 2);
      const a = layout.slot(loraNames(1, "v").a);
      assert.deepEqual(a.shape, [8, config.hiddenSize]);
      const A = values.subarray(a.offset, a.offset + a.numel);
      const bound = 1 / Math.sqrt(config.hiddenSize);
      assert.ok(A.every((v) => Math.abs(v) <= bound));
      // Uniform on ±bound: mean square bound²/3, 256 draws → within 4 standard errors.
      const meanSquare = A.reduce((s, v) => s + v * v, 0) / A.length;
      const se = Math.sqrt((bound ** 4 / 5 - bound ** 4 / 9) / A.length);
      assert.ok(Math.abs(meanSquare - bound ** 2 / 3) < 4 * se, `${meanSquare}`);
      const b = layout.slot(loraNames(1, "v").b);
      assert.deepEqual(b.shape, [16, 8]);
      assert.ok(values.subarray(b.offset, b.offset + b.numel).every((v) => v === 0));
    });
    await t.step("with B = 0, dA = 0 and dB carries the gradient", async () => {
      await lora.lossAndGrad([sequence]);
      const grads = await lora.adapter!.grads.vector.read();
      const layout = lora.adapter!.params.layout;
      const a = layout.slot(loraNames(0, "q").a), b = layout.slot(loraNames(0, "q").b);
      assert.ok(grads.subarray(a.offset, a.offset + a.numel).every((v) => v === 0));
      assert.ok(grads.subarray(b.offset, b.offset + b.numel).some((v) => v !== 0));
    });
  } finally {
    gpu.destroy();
  }
});

Deno.test("peft: modes, initialisations and refusals", async (t) => {
  const gpu = await Gpu.create();
  try {
    await t.step("a prompt initialised from ids copies their embedding rows", async () => {
      const model = await testModel(gpu, { kind: "prompt", tokens: 5, initIds: [7, 200] });
      const embedding = await model.params.vector.read();
      const prompt = await model.adapter!.params.vector.read();
      const C = config.hiddenSize;
      const wte = model.params.layout.slot("model.embed_tokens.weight");
      const slot = model.adapter!.params.layout.slot(PROMPT_NAME);
      [7, 200, 7, 200, 7].forEach((id, row) => {
        const want = embedding.subarray(wte.offset + id * C, wte.offset + (id + 1) * C);
        const got = prompt.subarray(slot.offset + row * C, slot.offset + (row + 1) * C);
        assert.deepEqual(got, want);
      });
    });
    await t.step("full mode with an adapter attached trains the model, adapter fixed", async () => {
      const options: AdapterOptions = { kind: "prompt", tokens: 2 };
      const model = await testModel(gpu, options, { randomAdapter: 0.4 });
      model.train = "full";
      const stream = new RandomStream(6, "tests/model/peft/full");
      const sequence = randomSequence(stream, 6, config.vocabSize);
      await model.lossAndGrad([sequence]);
      const grads = await model.grads.vector.read();
      const adapterGrads = await model.adapter!.grads.vector.read();
      assert.ok(adapterGrads.every((v) => v === 0));
      // The embedding gradient of one used token against central differences.
      const theta = Float64Array.from(await model.params.vector.read());
      const reference = await referenceAdapter(model, options);
      const slot = model.params.layout.slot("model.embed_tokens.weight");
      const j = slot.offset + sequence.tokens[3]! * config.hiddenSize + 5;
      const h = 1e-5;
      const saved = theta[j]!;
      theta[j] = saved + h;
      const up = referenceLoss(config, model.params.layout, theta, sequence, reference);
      theta[j] = saved - h;
      const down = referenceLoss(config, model.params.layout, theta, sequence, reference);
      const numeric = (up - down) / (2 * h);
      assert.ok(
        Math.abs(grads[j]! - numeric) < 1e-3 * Math.abs(numeric) + 1e-5,
        `${grads[j]} vs ${numeric}`,
      );
    });
    await t.step("bad modes and packed rows are refused", async () => {
      const plain = await testModel(gpu, undefined, { maxTokens: 8 });
      assert.throws(() => (plain.train = "lora"), TypeError);
      const prefix = await testModel(gpu, { kind: "prefix", tokens: 2 }, { maxTokens: 8 });
      assert.throws(() => (prefix.train = "prompt"), TypeError);
      assert.equal(prefix.trainable.params, prefix.adapter!.params);
      const packed = {
        ...randomSequence(new RandomStream(7, "tests/model/peft/packed"), 6, config.vocabSize),
        segments: new Int32Array([0, 0, 0, 1, 1, 1]),
      };
      await assert.rejects(() => prefix.loss([packed]), TypeError);
      await assert.rejects(
        () => prefix.loss([randomSequence(new RandomStream(1, "x"), 9, config.vocabSize)]),
        RangeError,
      );
      assert.throws(
        () =>
          Transformer.create(gpu, config, {
            maxTokens: 63,
            adapter: { kind: "prompt", tokens: 2 },
          }),
        RangeError,
      );
      assert.throws(() => LoraAdapter.layout(config, { targets: [] }), TypeError);
      assert.throws(() => LoraAdapter.layout(config, { rank: 0 }), RangeError);
    });
  } finally {
    gpu.destroy();
  }
});
