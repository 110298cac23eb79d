/**
 * ferret-repro: the paper "Ferret: Federated Full-Parameter Tuning at Scale
 * for Large Language Models" (ICML 2025) reproduced on one engine whose math
 * runs as WGSL compute kernels through WebGPU.
 *
 * This module is the public API a person reads, grouped by what users do:
 * reproduce an experiment, run a federation, the algorithms, models and
 * tokenizers, data, metrics, shared randomness. Two sub-entry modules hold
 * the rest, importable by URL the same way:
 *
 * - `engine.ts`: the engine (GPU context, vectors, kernels, model ops and
 *   their references, projection, optimisers, theorem checks);
 * - `extend.ts`: what extending the toolkit needs (the algorithm contract,
 *   algorithm classes and messages, partitioners, data internals, declaring
 *   an experiment).
 *
 * @example
 * ```ts
 * import { builtinSuite, ByteTokenizer, federatedRun, ferret, Gpu, PRESETS, Transformer } from "./mod.ts";
 * const gpu = await Gpu.create();
 * const model = await Transformer.create(gpu, { ...PRESETS.ci, maxPositions: 256 }, { maxTokens: 192 });
 * const local = { steps: 2, optimizer: { kind: "sgd" as const, lr: 0.05 } };
 * const algorithm = ferret({ mode: "official", K: 8, globalLr: 2, local });
 * const dataset = builtinSuite("gsm8k-like", "smoke", 0);
 * const tokenizer = new ByteTokenizer();
 * const run = await federatedRun({ dataset, model, tokenizer, algorithm, rounds: 2, seed: 0 });
 * console.log(run.evalLoss.length, run.perClient > 0); // 3 true
 * gpu.destroy();
 * ```
 *
 * @module
 */

// Reproduce an experiment: the registry of every table and figure, the runner, and the reports (`deno task reproduce` is the command line over these).
export { EXPERIMENTS, findExperiment } from "./experiments/mod.ts";
export { type ExperimentRun, runExperiment } from "./src/experiment/runner.ts";
export { type Experiment } from "./src/experiment/define.ts";
export { toCsv } from "./src/experiment/csv.ts";
export { toMarkdown } from "./src/experiment/markdown.ts";

// Run a federation: one federated fine-tuning run on a dataset, or the simulator underneath it, with its records, checkpoints and communication ledger (paper.md §5).
export {
  federatedRun,
  type FederatedRunOptions,
  type RunEvaluation,
  type RunSummary,
} from "./src/fl/run.ts";
export {
  DivergenceError,
  type RoundRecord,
  simulate,
  type SimulationOptions,
  type SimulationResult,
} from "./src/fl/simulator.ts";
export { type ClientData } from "./src/fl/types.ts";
export { type CheckpointStore, MemoryCheckpointStore } from "./src/fl/run_checkpoint.ts";
export { CommunicationLedger } from "./src/fl/ledger.ts";

// The algorithms of the paper's tables (paper.md §1, §6, §7), one configuration type for all, and the contract a new algorithm implements.
export { ferret, type FerretOptions } from "./src/fl/algorithms/ferret.ts";
export { ferretPaper } from "./src/fl/algorithms/ferret_paper.ts";
export { ferretOfficial } from "./src/fl/algorithms/ferret_official.ts";
export { fedAvg } from "./src/fl/algorithms/fed_avg.ts";
export { fedZo } from "./src/fl/algorithms/fed_zo.ts";
export { fedKSeed } from "./src/fl/algorithms/fed_kseed.ts";
export { fedIt, fedItSgd, fedPrompt, fedPTuning } from "./src/fl/algorithms/peft.ts";
export { type AlgorithmConfig, createAlgorithm } from "./src/fl/algorithm_config.ts";
export { type LocalTrainingOptions } from "./src/fl/local.ts";
export { type FederatedAlgorithm } from "./src/fl/types.ts";

// Models, checkpoints and tokenizers: the LLaMA-style decoder on WGSL kernels, its presets, Hugging Face checkpoints and tokenizers, greedy generation.
export { Gpu } from "./src/gpu/gpu.ts";
export { type Sequence, Transformer } from "./src/model/transformer.ts";
export { type ModelConfig } from "./src/model/config.ts";
export { PRESETS } from "./src/model/presets.ts";
export { type AdapterOptions } from "./src/model/peft/adapter.ts";
export { loadTransformer, saveTransformer } from "./src/model/pretrained.ts";
export { generate, generateBatch } from "./src/model/generate.ts";
export { ByteTokenizer, type Tokenizer } from "./src/model/tokenizer.ts";
export { HfTokenizer } from "./src/model/hf_tokenizer.ts";

// Data: the built-in suites (nothing to download) and loaders for the real datasets' own files (paper.md §5).
export { builtinSuite, type SuiteName } from "./src/data/suites/builtin.ts";
export { type Example, type FederatedDataset } from "./src/data/example.ts";
export { loadNaturalInstructions } from "./src/data/loaders/natural_instructions.ts";
export { loadDolly } from "./src/data/loaders/dolly.ts";
export { loadCodeAlpaca } from "./src/data/loaders/code_alpaca.ts";
export { loadGsm8k } from "./src/data/loaders/gsm8k.ts";

// Metrics (paper.md §5.1).
export { rougeL } from "./src/metrics/rouge_l.ts";
export { exactMatch } from "./src/metrics/exact_match.ts";

// Shared randomness: the counter-based generator and the random bases every client can rebuild from a seed (DESIGN.md §4).
export { RandomStream } from "./src/random/stream.ts";
export { philox4x32 } from "./src/random/philox.ts";
export { basisVector, type Distribution } from "./src/random/basis.ts";
