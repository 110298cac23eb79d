/**
 * Engine benchmark (`deno task bench`): training tokens/s (forward +
 * backward + SGD, batch size 1) and greedy generation tokens/s for each
 * model preset, with the identical model in PyTorch (CPU, same threads as
 * cores) side by side in the same run, and the ratios. Writes
 * results/bench/engine.json and results/bench/engine.md.
 *
 * PyTorch is only the measuring stick: Debian's python3-torch run by
 * /usr/bin/python3 (with libopenblas0-pthread for a fair BLAS). Without it
 * the PyTorch columns are left empty. Both sides run {@linkcode ROUNDS}
 * times and report their best round.
 */
import { Gpu } from "../../src/gpu/gpu.ts";
import type { ModelConfig } from "../../src/model/config.ts";
import { generate } from "../../src/model/generate.ts";
import { PRESETS } from "../../src/model/presets.ts";
import { type Sequence, Transformer } from "../../src/model/transformer.ts";
import { sgdStep } from "../../src/optim/sgd.ts";
import { matmul, type MatmulForm } from "../../src/model/ops/matmul.ts";
import { recordingMicroseconds } from "./_recording.ts";

/**
 * Rounds per side: the best of each is reported, because other work on a
 * shared machine only ever slows a run down (PyTorch's threads most).
 */
const ROUNDS = 3;
const CASES = [
  { preset: "ci", tokens: 64, steps: 20, newTokens: 32 },
  { preset: "default", tokens: 128, steps: 8, newTokens: 32 },
] as const;
const THREADS = navigator.hardwareConcurrency;

function sequenceOf(tokens: number): Sequence {
  return {
    tokens: Int32Array.from({ length: tokens }, (_, i) => (i * 7) % 256),
    targets: Int32Array.from({ length: tokens }, (_, i) => (i * 7 + 1) % 256),
  };
}

async function ours(gpu: Gpu, config: ModelConfig, c: (typeof CASES)[number]) {
  const model = await Transformer.create(gpu, config, { maxTokens: c.tokens, seed: 0 });
  const sequence = sequenceOf(c.tokens);
  const step = async () => {
    await model.recordLossAndGrad([sequence]);
    await sgdStep(model.params.vector, model.grads.vector, { lr: 0.01 });
    return (await model.readStepLosses(1))[0]!;
  };
  for (let i = 0; i < 2; i++) await step();
  let start = performance.now();
  for (let i = 0; i < c.steps; i++) await step();
  const train = (c.tokens * c.steps) / ((performance.now() - start) / 1000);
  const prompt = Array.from({ length: 8 }, (_, i) => i);
  await generate(model, prompt, { maxNewTokens: 4 });
  start = performance.now();
  const out = await generate(model, prompt, { maxNewTokens: c.newTokens, checkEvery: c.newTokens });
  const generation = out.length / ((performance.now() - start) / 1000);
  return { train, generation };
}

function torchJob() {
  return {
    threads: THREADS,
    configs: CASES.map((c) => {
      const m = PRESETS[c.preset];
      return {
        name: c.preset,
        hidden: m.hiddenSize,
        layers: m.numLayers,
        heads: m.numHeads,
        kv_heads: m.numKvHeads,
        intermediate: m.intermediateSize,
        vocab: m.vocabSize,
        max_positions: m.maxPositions,
        rope_theta: m.ropeTheta,
        eps: m.rmsNormEps,
        tokens: c.tokens,
        steps: c.steps,
        new_tokens: c.newTokens,
      };
    }),
  };
}

interface TorchResult {
  torch: string;
  threads: number;
  blas: string;
  matmul1024_gflops: number;
  configs: Record<string, { train_tokens_per_s: number; generate_tokens_per_s: number }>;
}

async function pytorch(): Promise<TorchResult | null> {
  try {
    const child = new Deno.Command("/usr/bin/python3", {
      args: [new URL("./engine_torch.py", import.meta.url).pathname],
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const writer = child.stdin.getWriter();
    await writer.write(new TextEncoder().encode(JSON.stringify(torchJob())));
    await writer.close();
    const output = await child.output();
    if (!output.success) {
      console.error(
        `PyTorch side skipped: ${
          new TextDecoder().decode(output.stderr).trim().split("\n").at(-1)
        }`,
      );
      return null;
    }
    return JSON.parse(new TextDecoder().decode(output.stdout));
  } catch (error) {
    console.error(`PyTorch side skipped: ${error}`);
    return null;
  }
}

/**
 * GFLOP/s of one matmul form and shape on `device`: best of 3 timed batches, each of at least
 * 0.5 GFLOP so that wall-clock timing (devices without timestamp queries) is not dominated by
 * Deno's polling.
 */
async function matmulRate(device: Gpu, form: MatmulForm, m: number, n: number, k: number) {
  const [outRows, outCols] = form === "xwt" ? [m, n] : form === "dyw" ? [m, k] : [n, k];
  const [aRows, aCols] = form === "xwt" ? [m, k] : [m, n];
  const [bRows, bCols] = form === "dytx" ? [m, k] : [n, k];
  const fill = (rows: number, cols: number) =>
    device.upload(
      Float32Array.from({ length: rows * cols }, (_, i) => ((i * 7919) % 13) / 13 - 0.5),
    );
  const out = device.buffer(outRows * outCols * 4);
  const a = fill(aRows, aCols);
  const b = fill(bRows, bCols);
  const run = () => matmul(device, out, a, b, { form, m, n, k });
  await run();
  await device.sync();
  const reps = Math.max(3, Math.ceil(5e8 / (2 * m * n * k)));
  let best = Infinity;
  for (let r = 0; r < 3; r++) {
    const t = await device.time(async () => {
      for (let i = 0; i < reps; i++) await run();
    });
    best = Math.min(best, t.seconds / reps);
  }
  for (const buffer of [out, a, b]) buffer.destroy();
  return (2 * m * n * k) / best / 1e9;
}

const gpu = await Gpu.create();
const portable = await Gpu.create({ portable: true });
const FORMS: MatmulForm[] = ["xwt", "dyw", "dytx"];
const D = PRESETS.default;
const SHAPES = [
  { shape: "1024³", m: 1024, n: 1024, k: 1024 },
  { shape: "default q/o projection (128 tokens)", m: 128, n: D.hiddenSize, k: D.hiddenSize },
  { shape: "default MLP up/gate (128 tokens)", m: 128, n: D.intermediateSize, k: D.hiddenSize },
  { shape: "default LM head (128 tokens)", m: 128, n: D.vocabSize, k: D.hiddenSize },
];
const matmulRows = [];
for (const s of SHAPES) {
  for (const form of FORMS) {
    matmulRows.push({
      ...s,
      form,
      fast: await matmulRate(gpu, form, s.m, s.n, s.k),
      portable: await matmulRate(portable, form, s.m, s.n, s.k),
    });
  }
}
portable.destroy();
const rows = [];
for (const c of CASES) {
  let best = { train: 0, generation: 0 };
  for (let round = 0; round < ROUNDS; round++) {
    const r = await ours(gpu, PRESETS[c.preset], c);
    best = {
      train: Math.max(best.train, r.train),
      generation: Math.max(best.generation, r.generation),
    };
  }
  rows.push({ ...c, ...best });
}
let torch: TorchResult | null = null;
for (let round = 0; round < ROUNDS; round++) {
  const r = await pytorch();
  if (!r) break;
  if (!torch) {
    torch = r;
    continue;
  }
  torch.matmul1024_gflops = Math.max(torch.matmul1024_gflops, r.matmul1024_gflops);
  for (const [name, t] of Object.entries(r.configs)) {
    const kept = torch.configs[name]!;
    kept.train_tokens_per_s = Math.max(kept.train_tokens_per_s, t.train_tokens_per_s);
    kept.generate_tokens_per_s = Math.max(kept.generate_tokens_per_s, t.generate_tokens_per_s);
  }
}
const recordingUsPerDispatch = await recordingMicroseconds(gpu, ROUNDS);
const report = {
  command: "deno task bench (tests/bench/engine_bench.ts)",
  recordingUsPerDispatch,
  matmulGflops: matmulRows,
  adapter: gpu.info,
  cpuThreads: THREADS,
  bestOfRounds: ROUNDS,
  pytorch: torch
    ? {
      version: torch.torch,
      threads: torch.threads,
      blas: torch.blas,
      matmul1024Gflops: torch.matmul1024_gflops,
    }
    : null,
  presets: rows.map((r) => {
    const t = torch?.configs[r.preset];
    return {
      preset: r.preset,
      tokensPerSequence: r.tokens,
      trainTokensPerSecond: r.train,
      generateTokensPerSecond: r.generation,
      pytorchTrainTokensPerSecond: t?.train_tokens_per_s ?? null,
      pytorchGenerateTokensPerSecond: t?.generate_tokens_per_s ?? null,
      trainRatio: t ? r.train / t.train_tokens_per_s : null,
      generateRatio: t ? r.generation / t.generate_tokens_per_s : null,
    };
  }),
};
const fmt = (x: number | null) => (x === null ? "—" : x >= 100 ? x.toFixed(0) : x.toFixed(2));
const markdown = [
  "# Engine benchmark",
  "",
  `Adapter: ${gpu.info.description} (subgroups: ${gpu.info.subgroups}); ${THREADS} CPU threads. ` +
  (torch
    ? `PyTorch ${torch.torch} CPU, ${torch.threads} threads, ${torch.blas} BLAS (1024³ matmul ${
      torch.matmul1024_gflops.toFixed(0)
    } GFLOP/s).`
    : "PyTorch not available in this run."),
  "",
  "| Preset | Tokens/sequence | Train tokens/s (ours) | PyTorch | Ratio | Generate tokens/s (ours) | PyTorch | Ratio |",
  "|:--|--:|--:|--:|--:|--:|--:|--:|",
  ...report.presets.map((p) =>
    `| ${p.preset} | ${p.tokensPerSequence} | ${fmt(p.trainTokensPerSecond)} | ${
      fmt(p.pytorchTrainTokensPerSecond)
    } | ` +
    `${fmt(p.trainRatio)} | ${fmt(p.generateTokensPerSecond)} | ${
      fmt(p.pytorchGenerateTokensPerSecond)
    } | ${fmt(p.generateRatio)} |`
  ),
  "",
  "Training: forward + backward + SGD update, batch size 1, one loss readback per step. " +
  "Generation: greedy, KV cache, from an 8-token prompt. " +
  `Each figure is the best of ${ROUNDS} rounds per side (the machine may be shared). ` +
  "Produced by `deno task bench`.",
  "",
  "| Matmul shape | Form | GFLOP/s (subgroups path) | GFLOP/s (portable path) |",
  "|:--|:--|--:|--:|",
  ...matmulRows.map((r) => `| ${r.shape} | ${r.form} | ${fmt(r.fast)} | ${fmt(r.portable)} |`),
  "",
  "Matmul: best of 3 timed batches per form and shape; the subgroups path on this adapter's " +
  "default device, the portable path on a device created without optional features.",
  "",
  `Recording one dispatch costs ${recordingUsPerDispatch.toFixed(1)} µs of JavaScript ` +
  "(an axpy with its uniform: pipeline lookup, cached bind groups, uniform arena).",
  "",
].join("\n");
console.log(markdown);
const out = new URL("../../results/bench/", import.meta.url);
await Deno.mkdir(out, { recursive: true });
await Deno.writeTextFile(new URL("engine.json", out), JSON.stringify(report, null, 2) + "\n");
await Deno.writeTextFile(new URL("engine.md", out), markdown);

// deno bench's own timing of one training step of the default preset.
const model = await Transformer.create(gpu, PRESETS.default, { maxTokens: 128 });
const sequence = sequenceOf(128);
Deno.bench("train step, default preset, 128 tokens", async () => {
  await model.lossAndGrad([sequence]);
  await sgdStep(model.params.vector, model.grads.vector, { lr: 0.01 });
});
