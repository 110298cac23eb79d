/**
 * The planner behind `deno task reproduce <ids> --plan` (most useful with
 * `--scale paper`): every federated run the selected experiments' cells
 * need, with its model, the GPU memory it takes and an estimated time,
 * and a refusal, with what would do instead, for a run that cannot fit.
 *
 * - Runs are found without running anything: the cells are walked by
 *   `planCells` (src/experiment/runner.ts), which records each run's setting.
 * - Memory is counted at the engine's dtype (f32): the parameters, the
 *   gradients (first-order methods), Adam's two moments (FedIT), the
 *   algorithm's d-vectors (the round's global model, the clients' update,
 *   the server's sum or FedKSeed's w₀), the activations of one pass of
 *   `maxTokens` tokens (allocated exactly as the engine allocates them) and
 *   the KV cache of generation. PEFT adapters' own state is not counted
 *   (orders of magnitude below the model), nor the batch of models a round
 *   trains its clients in when their updates fit `CLIENT_BATCH_BYTES`
 *   several times (src/fl/simulator.ts: models of at most 33 M parameters,
 *   none of the paper's; the stand-ins take a few MB). A run fits when its largest
 *   buffer fits one storage binding of the present adapter and, given
 *   `--device-memory`, the total fits the device.
 * - Time comes from a short calibration on the present adapter: seconds
 *   per parameter and token of one training step (forward + backward + SGD)
 *   of the `default` preset, scaled by each round's tokens, every sequence
 *   taken at `maxTokens` (an upper bound; a zeroth-order step is counted as
 *   its forward passes, a third of a training step each).
 *
 * @module
 */

import type { Gpu } from "../src/gpu/gpu.ts";
import type { Experiment, Scale } from "../src/experiment/define.ts";
import { planCells } from "../src/experiment/runner.ts";
import { clientsPerRound } from "../src/fl/sampling.ts";
import { allocateActivations } from "../src/model/activations.ts";
import { headDim, type ModelConfig } from "../src/model/config.ts";
import { readCheckpointConfig } from "../src/model/hf_checkpoint.ts";
import { parameterLayout } from "../src/model/layout.ts";
import { PRESETS } from "../src/model/presets.ts";
import { Transformer } from "../src/model/transformer.ts";
import { sgdStep } from "../src/optim/sgd.ts";
import type { FederatedSetting } from "./_federated.ts";
import { maxTokens, MODEL_DIRECTORIES, MODEL_LABELS, type PaperModel, standIn } from "./_models.ts";

/** Clients of each dataset in the paper (paper.md §5): what sets the clients per round. */
const PAPER_CLIENTS = { "ni-like": 738, "dolly-like": 200, "code-alpaca-like": 9, "gsm8k-like": 3 };

/** Bytes of one run, by what holds them. */
export interface MemoryEstimate {
  /** Each part's bytes. */
  readonly parts: Readonly<Record<string, number>>;
  /** Their sum. */
  readonly total: number;
  /** The largest single buffer (it must fit one storage binding). */
  readonly largestBuffer: number;
  /** What that buffer is. */
  readonly largestName: string;
}

/** Trainable vectors an algorithm keeps besides the model (global model, update, sum, w₀). */
function algorithmVectors(setting: FederatedSetting): number {
  const a = setting.algorithm;
  if (a.kind === "ferret") return a.mode === "paper" ? 3 : 2;
  return a.kind === "fedkseed" ? 2 : 3;
}

/**
 * The GPU bytes of `setting` on a model of `config`, passes of `tokens` tokens.
 *
 * @example
 * ```ts
 * import { runMemory } from "./plan.ts";
 * import { federatedSetting } from "./_settings.ts";
 * import { PRESETS } from "../src/model/presets.ts";
 * const setting = federatedSetting("paper", "gsm8k-like", "llama-2-7b", "fedkseed");
 * const m = runMemory(setting, PRESETS["llama-2-7b"], 1024);
 * console.log(m.parts.gradients, (m.total / 2 ** 30).toFixed(0), m.largestName); // 0 88 model.embed_tokens.weight
 * ```
 */
export function runMemory(
  setting: FederatedSetting,
  config: ModelConfig,
  tokens: number,
): MemoryEstimate {
  const layout = parameterLayout(config);
  const d = layout.length * 4;
  const kind = setting.algorithm.kind;
  const firstOrder = kind !== "fedkseed" && kind !== "fedzo";
  const peft = kind === "fedit" || kind === "fedit-sgd" || kind === "fedprompt" ||
    kind === "fedptuning";
  const adam = kind === "fedit" ||
    ("optimizer" in setting.algorithm && setting.algorithm.optimizer === "adam");
  // The activations exactly as the engine allocates them, counted instead of allocated.
  let activations = 0;
  let largest = { bytes: 0, name: "" };
  const counter = {
    buffer: (bytes: number, label: string) => {
      const size = Math.max(16, Math.ceil(bytes / 16) * 16);
      activations += size;
      if (size > largest.bytes) largest = { bytes: size, name: label };
      return {} as GPUBuffer;
    },
  } as unknown as Gpu;
  allocateActivations(counter, config, tokens);
  for (const t of layout.tensors) {
    if (t.numel * 4 > largest.bytes) largest = { bytes: t.numel * 4, name: t.name };
  }
  const parts = {
    parameters: d,
    gradients: firstOrder && !peft ? d : 0,
    optimiser: adam && !peft ? 2 * d : 0,
    algorithm: peft ? 0 : algorithmVectors(setting) * d,
    activations,
    kvCache: 2 * config.numLayers * config.maxPositions * config.numKvHeads * headDim(config) * 4,
  };
  return {
    parts,
    total: Object.values(parts).reduce((a, b) => a + b, 0),
    largestBuffer: largest.bytes,
    largestName: largest.name,
  };
}

/**
 * Seconds per parameter and token of one training step (forward, backward,
 * SGD) of the `default` preset on `gpu`: best of 3 after a warm-up.
 */
export async function calibrate(gpu: Gpu): Promise<number> {
  const config = PRESETS.default;
  const T = 128;
  const model = await Transformer.create(gpu, config, { maxTokens: T });
  try {
    const sequence = {
      tokens: Int32Array.from({ length: T }, (_, i) => (i * 7) % config.vocabSize),
      targets: Int32Array.from({ length: T }, (_, i) => (i * 7 + 1) % config.vocabSize),
    };
    const step = async () => {
      await model.recordLossAndGrad([sequence]);
      await sgdStep(model.params.vector, model.grads.vector, { lr: 1e-3 });
      await gpu.sync();
    };
    await step();
    let best = Infinity;
    for (let i = 0; i < 3; i++) {
      const start = performance.now();
      await step();
      best = Math.min(best, (performance.now() - start) / 1000);
    }
    return best / (model.params.layout.numParameters * T);
  } finally {
    model.destroy();
  }
}

/** Seconds of one round's local training, every sequence `tokens` long (null: data-dependent). */
export function roundSeconds(
  setting: FederatedSetting,
  parameters: number,
  tokens: number,
  perParameterToken: number,
): number | null {
  const clients = clientsPerRound(PAPER_CLIENTS[setting.dataset], { fraction: setting.fraction });
  const a = setting.algorithm;
  let steps: number;
  // A zeroth-order step is two forward passes (FedKSeed's central difference; FedZO's L(w) and
  // L(w + εu)), each a third of a training step.
  if (a.kind === "fedkseed" || a.kind === "fedzo") steps = (a.steps * 2) / 3;
  else if (setting.local.steps === "epoch") return null;
  else steps = setting.local.steps * setting.local.nAccum;
  return clients * steps * tokens * parameters * perParameterToken;
}

/** What the planner needs besides the experiments. */
export interface PlanOptions {
  /** The scale (the plan means most at `paper`). */
  readonly scale: Scale;
  /** Seeds instead of the experiments' own. */
  readonly seeds?: readonly number[];
  /** Where the checkpoints are (configs of models without a preset). */
  readonly modelDir?: string;
  /** The device's memory in bytes, when known. */
  readonly deviceMemory?: number;
  /** The GPU to calibrate on and whose binding limit applies. */
  readonly gpu: Gpu;
}

async function modelConfig(model: PaperModel, options: PlanOptions): Promise<ModelConfig | null> {
  if (options.scale !== "paper") return standIn(model, options.scale).config;
  if (model in PRESETS) return PRESETS[model as keyof typeof PRESETS];
  if (!options.modelDir) return null;
  return await readCheckpointConfig(`${options.modelDir}/${MODEL_DIRECTORIES[model]}`);
}

const gib = (bytes: number) => `${(bytes / 2 ** 30).toFixed(bytes < 2 ** 30 ? 3 : 1)} GiB`;
const duration = (s: number) =>
  s < 120
    ? `${s.toFixed(1)} s`
    : s < 7200
    ? `${(s / 60).toFixed(1)} min`
    : `${(s / 3600).toFixed(1)} h`;

/**
 * The plan of `experiments` as Markdown, and how many runs cannot fit on
 * the present adapter (or on `deviceMemory`).
 */
export async function planExperiments(
  experiments: readonly Experiment[],
  options: PlanOptions,
): Promise<{ text: string; refused: number }> {
  const runs = new Map<string, { setting: FederatedSetting; users: Set<string> }>();
  const gpuCells: string[] = [];
  for (const experiment of experiments) {
    const plans = await planCells(experiment, {
      scale: options.scale,
      ...(options.seeds ? { seeds: options.seeds } : {}),
    });
    for (const plan of plans) {
      for (const { name, plan: setting } of plan.work) {
        // Work without a plan (a base model's evaluation: forward passes only) is not listed.
        if (setting === null) continue;
        const entry = runs.get(name) ?? { setting: setting as FederatedSetting, users: new Set() };
        entry.users.add(experiment.id);
        runs.set(name, entry);
      }
      if (plan.gpu && plan.work.length === 0) gpuCells.push(`${experiment.id}/${plan.row}`);
    }
  }
  const perParameterToken = await calibrate(options.gpu);
  const binding = options.gpu.info.maxStorageBufferBindingSize;
  const tokens = maxTokens(options.scale);
  const lines = [
    `# Plan: ${experiments.map((e) => e.id).join(", ")} at scale ${options.scale}`,
    "",
    `${runs.size} federated run(s); passes of up to ${tokens} tokens; f32. Adapter: ` +
    `${options.gpu.info.description}, largest storage binding ${gib(binding)}` +
    (options.deviceMemory ? `, device memory ${gib(options.deviceMemory)} (--device-memory)` : "") +
    `. Calibration: ${(perParameterToken * 1e9).toFixed(3)} ns per parameter and token of a ` +
    "training step.",
    "",
    "| Run | Used by | Model | Algorithm | Rounds | GPU memory | Largest buffer | Time per round (≤) | Fits |",
    "|:--|:--|:--|:--|--:|--:|--:|--:|:--|",
  ];
  const refusals: string[] = [];
  for (const [name, { setting, users }] of runs) {
    const config = await modelConfig(setting.model, options);
    const run = name.replace(/^runs\/[^/]+\//, "").slice(0, 10);
    const label = MODEL_LABELS[setting.model] + (options.scale === "paper" ? "" : " (stand-in)");
    const algorithm = setting.algorithm.kind +
      (setting.algorithm.kind === "ferret" ? ` (${setting.algorithm.mode})` : "");
    if (!config) {
      lines.push(
        `| ${run} | ${[...users].join(", ")} | ${label} | ${algorithm} | ${setting.rounds} | ` +
          `? | ? | ? | unknown: pass --model-dir with ${
            MODEL_DIRECTORIES[setting.model]
          }/config.json |`,
      );
      continue;
    }
    const memory = runMemory(setting, config, tokens);
    const parameters = parameterLayout(config).numParameters;
    const seconds = roundSeconds(setting, parameters, tokens, perParameterToken);
    const problems: string[] = [];
    if (memory.largestBuffer > binding) {
      const fix = /^(model\.|lm_head)/.test(memory.largestName)
        ? "a device with larger storage bindings (a tensor is bound whole)"
        : "shorter sequences (fewer tokens per pass), or a device with larger bindings";
      const size = gib(memory.largestBuffer);
      problems.push(
        `its ${memory.largestName} buffer takes ${size}, over this adapter's ${gib(binding)} ` +
          `storage binding: ${fix}`,
      );
    }
    if (options.deviceMemory && memory.total > options.deviceMemory) {
      problems.push(
        `it needs ${gib(memory.total)}, more than the ${gib(options.deviceMemory)} given: a ` +
          `device with ≥ ${gib(memory.total)}, or a PEFT or zeroth-order method without gradients`,
      );
    }
    if (problems.length > 0) {
      refusals.push(`- ${run} (${label}, ${algorithm}): ${problems.join("; ")}`);
    }
    lines.push(
      `| ${run} | ${[...users].join(", ")} | ${label} | ${algorithm} | ${setting.rounds} | ` +
        `${gib(memory.total)} | ${gib(memory.largestBuffer)} (${memory.largestName}) | ` +
        `${seconds === null ? "one epoch: data-dependent" : duration(seconds)} | ` +
        `${problems.length === 0 ? "yes" : "**refused**"} |`,
    );
  }
  if (gpuCells.length > 0) {
    lines.push("", `Cells with GPU work of their own (not planned): ${gpuCells.join(", ")}.`);
  }
  if (refusals.length > 0) lines.push("", "Refused:", "", ...refusals);
  return { text: lines.join("\n") + "\n", refused: refusals.length };
}
