/**
 * Round benchmark (`deno task bench:round`, also part of `deno task bench`):
 * tokens/s of one federated round of local training and of greedy
 * generation on the default-scale stand-ins (`tiny`, `small` of
 * experiments/_models.ts), with the identical model, start parameters and
 * data in PyTorch (CPU, as many threads as cores) side by side in the same
 * run. Writes results/bench/round.json and results/bench/round.md.
 *
 * A round: {@linkcode CLIENTS} clients from the same start model, each
 * {@linkcode STEPS} SGD steps of {@linkcode N_ACCUM} sequences of
 * {@linkcode TOKENS} tokens (gradient accumulation, batch size 1), each on
 * its own data. Ours: the clients as one batch of models (src/model/model_batch.ts,
 * `LocalTrainer.trainBatch`), as the federation trains them, and one after
 * another (`LocalTrainer.train`, the trainable vector reset before each client). PyTorch: sequentially as the
 * official Ferret code does, and batched (the clients' weights stacked,
 * batched matmuls). Generation: both batched over all prompts with a KV
 * cache (ours: `generateBatch` in src/model/generate.ts).
 *
 * PyTorch is only the measuring stick: Debian's python3-torch run by
 * /usr/bin/python3 (tests/bench/round_torch.py). Without it the PyTorch
 * fields are null.
 */
import { Buffer } from "node:buffer";
import { standIns } from "../../experiments/_models.ts";
import { localOrder, type LocalResult, LocalTrainer } from "../../src/fl/local.ts";
import { Gpu } from "../../src/gpu/gpu.ts";
import type { GpuVector } from "../../src/gpu/vector.ts";
import type { ModelConfig } from "../../src/model/config.ts";
import { generateBatch } from "../../src/model/generate.ts";
import { readTensor } from "../../src/model/layout.ts";
import { ModelBatch } from "../../src/model/model_batch.ts";
import { type Sequence, Transformer } from "../../src/model/transformer.ts";
import { RandomStream } from "../../src/random/stream.ts";
import { recordingMicroseconds } from "./_recording.ts";

/** Timed rounds per side after a warm-up; the best is reported (a shared machine only slows). */
const ROUNDS = 3;
const CLIENTS = 8;
const STEPS = 4;
const N_ACCUM = 2;
const TOKENS = 64;
const LR = 0.01;
const PROMPTS = 96;
const PROMPT_TOKENS = 24;
const NEW_TOKENS = 64;
/** Further timed generation rounds of ours only while within this many seconds. */
const GENERATION_BUDGET_S = 75;
const TRAIN_MODELS = ["tiny", "small"] as const;
const GENERATION_MODELS = ["tiny"] as const;
const THREADS = navigator.hardwareConcurrency;
const SEED = 0;

const STAND_INS = new Map(standIns("default").map((s) => [s.name, s.config]));

function configOf(name: string): ModelConfig {
  const config = STAND_INS.get(name);
  if (!config) throw new RangeError(`Cannot find stand-in "${name}" in experiments/_models.ts`);
  return config;
}

/** Client `c`'s sequences: enough for its steps, random bytes with next-byte targets. */
function clientData(client: number): Sequence[] {
  const stream = new RandomStream(SEED, `bench/round/data/${client}`);
  return Array.from({ length: STEPS * N_ACCUM }, () => {
    const bytes = Int32Array.from({ length: TOKENS + 1 }, () => stream.int(256));
    return { tokens: bytes.slice(0, TOKENS), targets: bytes.slice(1) };
  });
}

const orderStream = (client: number) => new RandomStream(SEED, `bench/round/order/${client}`);

function promptsOf(): number[][] {
  const stream = new RandomStream(SEED, "bench/round/prompts");
  return Array.from(
    { length: PROMPTS },
    () => Array.from({ length: PROMPT_TOKENS }, () => stream.int(256)),
  );
}

function torchConfig(config: ModelConfig) {
  return {
    hidden: config.hiddenSize,
    layers: config.numLayers,
    heads: config.numHeads,
    kv_heads: config.numKvHeads,
    intermediate: config.intermediateSize,
    vocab: config.vocabSize,
    max_positions: config.maxPositions,
    rope_theta: config.ropeTheta,
    eps: config.rmsNormEps,
  };
}

/** The model's parameters by HF name, as base64 of little-endian f32 (for PyTorch). */
async function parametersBase64(model: Transformer): Promise<Record<string, string>> {
  const flat = await model.params.vector.read();
  const layout = model.params.layout;
  return Object.fromEntries(
    layout.tensors.map((t) => {
      const values = readTensor(flat, layout, t.name);
      return [
        t.name,
        Buffer.from(values.buffer, values.byteOffset, values.byteLength).toString("base64"),
      ];
    }),
  );
}

/** One round of local training: every client from `start`, one after another. */
async function oursRound(
  model: Transformer,
  start: GpuVector,
  trainer: LocalTrainer,
  data: Sequence[][],
): Promise<{ seconds: number; losses: number[][] }> {
  const t0 = performance.now();
  const results: LocalResult[] = [];
  for (let client = 0; client < CLIENTS; client++) {
    start.copyTo(model.trainable.params.vector);
    // Each client ends with one readback of its losses, so its GPU work is done.
    results.push(await trainer.train(model, data[client]!, orderStream(client)));
  }
  const seconds = (performance.now() - t0) / 1000;
  return { seconds, losses: results.map((r) => [...r.losses]) };
}

/** One round as the federation runs it: every client in one batch of models (src/model/model_batch.ts). */
async function oursBatchedRound(
  batch: ModelBatch,
  start: GpuVector,
  trainer: LocalTrainer,
  data: Sequence[][],
): Promise<{ seconds: number; losses: number[][] }> {
  const t0 = performance.now();
  data.forEach((_, client) => batch.load(client, start));
  // One readback of every client's losses at the end, so the GPU work is done.
  const results = await trainer.trainBatch(batch, data, data.map((_, c) => orderStream(c)));
  const seconds = (performance.now() - t0) / 1000;
  return { seconds, losses: results.map((r) => [...r.losses]) };
}

interface TrainCase {
  model: string;
  /** Best seconds of a round with the clients as one batch of models. */
  seconds: number;
  losses: number[][];
  /** Best seconds of a round with one client after another. */
  sequentialSeconds: number;
  sequentialLosses: number[][];
  job: unknown;
}

async function oursTraining(gpu: Gpu, name: string): Promise<TrainCase> {
  // Room for a step's sequences in one packed pass (src/model/pack.ts).
  const model = await Transformer.create(gpu, configOf(name), {
    maxTokens: N_ACCUM * TOKENS,
    seed: SEED,
  });
  const start = model.trainable.params.vector.like("start");
  model.trainable.params.vector.copyTo(start);
  const trainer = new LocalTrainer({
    steps: STEPS,
    nAccum: N_ACCUM,
    optimizer: { kind: "sgd", lr: LR },
  });
  const data = Array.from({ length: CLIENTS }, (_, c) => clientData(c));
  const job = {
    model: name,
    config: torchConfig(model.config),
    parameters: await parametersBase64(model),
    lr: LR,
    n_accum: N_ACCUM,
    sequences: data.map((sequences) =>
      sequences.map((s) => [Array.from(s.tokens), Array.from(s.targets)])
    ),
    order: data.map((sequences, c) => localOrder(sequences.length, STEPS, N_ACCUM, orderStream(c))),
  };
  const batch = ModelBatch.create(gpu, model.config, {
    count: CLIENTS,
    maxTokens: N_ACCUM * TOKENS,
  });
  const best = async (round: () => Promise<{ seconds: number; losses: number[][] }>) => {
    await round(); // warm-up: pipelines, bind groups
    let fastest = { seconds: Infinity, losses: [] as number[][] };
    for (let r = 0; r < ROUNDS; r++) {
      const result = await round();
      if (result.seconds < fastest.seconds) fastest = result;
    }
    return fastest;
  };
  const sequential = await best(() => oursRound(model, start, trainer, data));
  const batched = await best(() => oursBatchedRound(batch, start, trainer, data));
  batch.destroy();
  trainer.destroy();
  start.destroy();
  model.destroy();
  return {
    model: name,
    ...batched,
    sequentialSeconds: sequential.seconds,
    sequentialLosses: sequential.losses,
    job,
  };
}

interface GenerationCase {
  model: string;
  seconds: number;
  rounds: number;
  tokens: number;
  ids: number[][];
  job: unknown;
}

async function oursGeneration(gpu: Gpu, name: string): Promise<GenerationCase> {
  // As many rows as positions: every prompt decodes in one group, prompts pack into few
  // passes (the parameters depend on the seed only).
  const config = configOf(name);
  const model = await Transformer.create(gpu, config, {
    maxTokens: Math.max(config.maxPositions, PROMPTS),
    seed: SEED,
  });
  const prompts = promptsOf();
  const job = {
    model: name,
    config: torchConfig(model.config),
    parameters: await parametersBase64(model),
    prompts,
    new_tokens: NEW_TOKENS,
  };
  // No EOS: every prompt gets all its tokens, read back once.
  const options = { maxNewTokens: NEW_TOKENS };
  await generateBatch(model, prompts, options); // warm-up
  let best = Infinity;
  let ids: number[][] = [];
  let rounds = 0;
  const began = performance.now();
  do {
    const t0 = performance.now();
    ids = await generateBatch(model, prompts, options);
    best = Math.min(best, (performance.now() - t0) / 1000);
    rounds++;
  } while (
    rounds < ROUNDS && (performance.now() - began) / 1000 + best <= GENERATION_BUDGET_S
  );
  model.destroy();
  const tokens = ids.reduce((n, out) => n + out.length, 0);
  return { model: name, seconds: best, rounds, tokens, ids, job };
}

interface TorchResult {
  torch: string;
  threads: number;
  blas: string;
  cases: Record<string, {
    sequential_seconds: number;
    batched_seconds: number;
    sequential_losses: number[][];
    batched_losses: number[][];
  }>;
  generation: Record<string, { seconds: number; ids: number[][] }>;
}

async function pytorch(job: unknown): Promise<TorchResult | null> {
  try {
    const child = new Deno.Command("/usr/bin/python3", {
      args: [new URL("./round_torch.py", import.meta.url).pathname],
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const output = child.output();
    const writer = child.stdin.getWriter();
    try {
      await writer.write(new TextEncoder().encode(JSON.stringify(job)));
      await writer.close();
    } catch {
      // The child exited early (no torch): its stderr says why.
    }
    const result = await output;
    if (!result.success) {
      console.error(
        `PyTorch side skipped: ${
          new TextDecoder().decode(result.stderr).trim().split("\n").at(-1)
        }`,
      );
      return null;
    }
    return JSON.parse(new TextDecoder().decode(result.stdout));
  } catch (error) {
    console.error(`PyTorch side skipped: ${error}`);
    return null;
  }
}

/** Largest |a − b| over two clients × steps loss tables. */
function maxDifference(a: number[][], b: number[][]): number {
  return Math.max(...a.flatMap((row, i) => row.map((x, j) => Math.abs(x - b[i]![j]!))));
}

const gpu = await Gpu.create();
// On the fresh device, and again after the round and generation work: the cost grows with use.
const recordingUsPerDispatch = await recordingMicroseconds(gpu, ROUNDS);
const training: TrainCase[] = [];
for (const name of TRAIN_MODELS) training.push(await oursTraining(gpu, name));
const generations: GenerationCase[] = [];
for (const name of GENERATION_MODELS) generations.push(await oursGeneration(gpu, name));
const recordingUsAfterWork = await recordingMicroseconds(gpu, ROUNDS);
const torch = await pytorch({
  threads: THREADS,
  rounds: ROUNDS,
  cases: training.map((c) => c.job),
  generation: generations.map((g) => g.job),
});

const roundTokens = CLIENTS * STEPS * N_ACCUM * TOKENS;
const cases = training.map((c) => {
  const t = torch?.cases[c.model];
  const ours = roundTokens / c.seconds;
  const sequential = t ? roundTokens / t.sequential_seconds : null;
  const batched = t ? roundTokens / t.batched_seconds : null;
  return {
    model: c.model,
    clients: CLIENTS,
    steps: STEPS,
    n_accum: N_ACCUM,
    tokens_per_sequence: TOKENS,
    ours_tokens_per_s: ours,
    pytorch_sequential_tokens_per_s: sequential,
    pytorch_batched_tokens_per_s: batched,
    ratio_to_sequential: sequential ? ours / sequential : null,
    ratio_to_batched: batched ? ours / batched : null,
    ours_one_at_a_time_tokens_per_s: roundTokens / c.sequentialSeconds,
    ours_seconds: c.seconds,
    ours_one_at_a_time_seconds: c.sequentialSeconds,
    ours_batch_equals_one_at_a_time:
      JSON.stringify(c.losses) === JSON.stringify(c.sequentialLosses),
    pytorch_sequential_seconds: t?.sequential_seconds ?? null,
    pytorch_batched_seconds: t?.batched_seconds ?? null,
    max_loss_difference_sequential: t ? maxDifference(c.losses, t.sequential_losses) : null,
    max_loss_difference_batched: t ? maxDifference(c.losses, t.batched_losses) : null,
  };
});
const generation = generations.map((g) => {
  const t = torch?.generation[g.model];
  const ours = g.tokens / g.seconds;
  const theirs = t ? (PROMPTS * NEW_TOKENS) / t.seconds : null;
  const same = t ? g.ids.filter((ids, i) => ids.join() === t.ids[i]!.join()).length : null;
  return {
    model: g.model,
    prompts: PROMPTS,
    prompt_tokens: PROMPT_TOKENS,
    new_tokens: NEW_TOKENS,
    ours_tokens_per_s: ours,
    pytorch_tokens_per_s: theirs,
    ratio: theirs ? ours / theirs : null,
    ours_seconds: g.seconds,
    ours_rounds: g.rounds,
    pytorch_seconds: t?.seconds ?? null,
    prompts_with_identical_output: same,
  };
});
const report = {
  cases,
  generation,
  recording_us_per_dispatch: recordingUsPerDispatch,
  recording_us_per_dispatch_after_work: recordingUsAfterWork,
  command: "deno task bench:round (tests/bench/round_bench.ts)",
  adapter: gpu.info,
  cpu_threads: THREADS,
  best_of_rounds: ROUNDS,
  lr: LR,
  pytorch: torch ? { version: torch.torch, threads: torch.threads, blas: torch.blas } : null,
};

const fmt = (x: number | null) => (x === null ? "—" : x >= 100 ? x.toFixed(0) : x.toFixed(2));
const loss = (x: number | null) => (x === null ? "—" : x.toExponential(1));
const generationRounds = generations.map((g) => `${g.rounds} (${g.model})`).join(", ");
const markdown = [
  "# Round benchmark",
  "",
  `Adapter: ${gpu.info.description} (subgroups: ${gpu.info.subgroups}); ${THREADS} CPU threads. ` +
  (torch
    ? `PyTorch ${torch.torch} CPU, ${torch.threads} threads, ${torch.blas} BLAS.`
    : "PyTorch not available in this run."),
  "",
  `## One round of local training (${CLIENTS} clients × ${STEPS} SGD steps × ${N_ACCUM} ` +
  `sequences × ${TOKENS} tokens = ${roundTokens} tokens)`,
  "",
  "| Model | Ours tokens/s | Ours, one client at a time | PyTorch sequential | PyTorch batched | Ours / sequential | Ours / batched | Max loss difference (seq. / batched) |",
  "|:--|--:|--:|--:|--:|--:|--:|--:|",
  ...cases.map((c) =>
    `| ${c.model} | ${fmt(c.ours_tokens_per_s)} | ${fmt(c.ours_one_at_a_time_tokens_per_s)} | ` +
    `${fmt(c.pytorch_sequential_tokens_per_s)} | ` +
    `${fmt(c.pytorch_batched_tokens_per_s)} | ${fmt(c.ratio_to_sequential)} | ` +
    `${fmt(c.ratio_to_batched)} | ${loss(c.max_loss_difference_sequential)} / ` +
    `${loss(c.max_loss_difference_batched)} |`
  ),
  "",
  "Every client starts from the same model. Ours trains the clients as the federation does: " +
  "as one batch of models (`ModelBatch`, `LocalTrainer.trainBatch`: one dispatch per kernel " +
  "for all clients, each client's step packed into one row with per-token loss weights, one " +
  "loss readback per round); one client at a time (`LocalTrainer.train` on a `Transformer`, " +
  "the trainable vector reset with `copyTo` before each client, one loss readback per client) " +
  "for comparison — the two give the same losses bit for bit " +
  `(${
    cases.every((c) => c.ours_batch_equals_one_at_a_time)
      ? "checked in this run"
      : "NOT in this run"
  }). ` +
  "PyTorch runs the identical model from the same start parameters on the same data and " +
  "order: sequentially as the official Ferret code does (batch size 1, loss / n_accum, SGD " +
  "every n_accum sequences), and batched (the clients' weights stacked on a leading axis, " +
  "one batched forward and backward per micro-batch for all clients). The last column is the " +
  "largest difference of a step's mean loss from ours. " +
  `Each figure is the best of ${ROUNDS} rounds after a warm-up.`,
  "",
  `## Greedy generation (${PROMPTS} prompts of ${PROMPT_TOKENS} tokens, ${NEW_TOKENS} new tokens each)`,
  "",
  "| Model | Ours tokens/s | PyTorch batched | Ours / PyTorch | Prompts with identical output |",
  "|:--|--:|--:|--:|--:|",
  ...generation.map((g) =>
    `| ${g.model} | ${fmt(g.ours_tokens_per_s)} | ${fmt(g.pytorch_tokens_per_s)} | ` +
    `${fmt(g.ratio)} | ${g.prompts_with_identical_output ?? "—"} / ${g.prompts} |`
  ),
  "",
  "Both decode all prompts as one batch with a KV cache (ours: `generateBatch`, each prompt's " +
  "forward pass filling its own cache region, then one pass per token for all sequences, no EOS " +
  "stop, one readback). Tokens/s counts generated tokens. " +
  `Ours is the best of ${generationRounds} timed rounds after a warm-up (a further round only ` +
  `while within ${GENERATION_BUDGET_S} s), PyTorch the best of ${ROUNDS}.`,
  "",
  `Recording one dispatch costs ${recordingUsPerDispatch.toFixed(1)} µs of JavaScript ` +
  "(an axpy with its uniform) on the fresh device, and " +
  `${recordingUsAfterWork.toFixed(1)} µs on the same device after the rounds and the ` +
  "generation above. Produced by `deno task bench:round`.",
  "",
].join("\n");
console.log(markdown);
const out = new URL("../../results/bench/", import.meta.url);
await Deno.mkdir(out, { recursive: true });
await Deno.writeTextFile(new URL("round.json", out), JSON.stringify(report, null, 2) + "\n");
await Deno.writeTextFile(new URL("round.md", out), markdown);

// deno bench's own timing of one client's local training on the tiny stand-in.
const model = await Transformer.create(gpu, configOf("tiny"), {
  maxTokens: N_ACCUM * TOKENS,
  seed: SEED,
});
const trainer = new LocalTrainer({
  steps: STEPS,
  nAccum: N_ACCUM,
  optimizer: { kind: "sgd", lr: LR },
});
const data = clientData(0);
Deno.bench({
  name: `one client's local training, tiny, ${STEPS} steps × ${N_ACCUM} × ${TOKENS} tokens`,
  n: 20,
  warmup: 2,
  fn: async () => {
    await trainer.train(model, data, orderStream(0));
  },
});
