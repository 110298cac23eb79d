/**
 * ferret-repro: a WebGPU toolkit that reproduces "Ferret: Federated
 * Full-Parameter Tuning at Scale for Large Language Models" (ICML 2025).
 *
 * @example
 * ```ts
 * import { axpy, Gpu, GpuVector } from "./mod.ts";
 * const gpu = await Gpu.create();
 * const x = GpuVector.from(gpu, new Float32Array([1, 2]));
 * const y = GpuVector.from(gpu, new Float32Array([3, 4]));
 * await axpy(0.5, x, y);
 * console.log(await y.read()); // Float32Array [3.5, 5]
 * gpu.destroy();
 * ```
 *
 * @module
 */

export {
  acquireDevice,
  type Backend,
  BACKENDS,
  type DeviceInfo,
  type DeviceOptions,
  GpuError,
  NoAdapterError,
} from "./src/gpu/device.ts";
export { type Binding, type Dispatch, Gpu, type Timing } from "./src/gpu/gpu.ts";
export { type Grid, workgroupGrid } from "./src/gpu/dispatch.ts";
export { type Constants, type Kernel, PipelineCache } from "./src/gpu/pipelines.ts";
export {
  type Chunk,
  defaultChunkElements,
  GpuVector,
  type VectorOptions,
} from "./src/gpu/vector.ts";
export { axpy, axpyReference } from "./src/gpu/axpy.ts";
export { philox4x32 } from "./src/random/philox.ts";
export { fnv1a32, RandomStream } from "./src/random/stream.ts";
export { ByteTokenizer, type Tokenizer } from "./src/model/tokenizer.ts";
export {
  type Axis,
  type Cell,
  type CellContext,
  type CellOutcome,
  type CellResult,
  type CellValue,
  type Check,
  type Column,
  defineFigure,
  defineTable,
  type Experiment,
  type ExperimentCommon,
  type FigureSpec,
  type Panel,
  type PaperValue,
  type Point,
  type Progress,
  type Requirement,
  type Resources,
  type Row,
  type Scale,
  type ScalePreset,
  SCALES,
  type Stat,
  type TableData,
  type TableSpec,
} from "./src/experiment/define.ts";
export {
  type ArtifactStore,
  type CachedCell,
  type CellCache,
  type ExperimentRun,
  MemoryArtifacts,
  MemoryCache,
  type ProgressEvent,
  runExperiment,
  type RunOptions,
  ScaleUnavailableError,
} from "./src/experiment/runner.ts";
export { VERSION } from "./src/version.ts";
export {
  configFromHf,
  configToHf,
  headDim,
  type ModelConfig,
  parameterCount,
  sameConfig,
  validateConfig,
} from "./src/model/config.ts";
export { preset, type PresetName, PRESETS } from "./src/model/presets.ts";
export {
  createParameters,
  type CreateParametersOptions,
  type LayoutOptions,
  type ParameterLayout,
  parameterLayout,
  type Parameters,
  readTensor,
  TENSOR_ALIGNMENT,
  type TensorKind,
  type TensorShape,
  tensorShapes,
  type TensorSlot,
  type TensorView,
  tensorViews,
  writeTensor,
} from "./src/model/layout.ts";
export { type InitOptions, initParameters } from "./src/model/init.ts";
export {
  decodeTensor,
  parseSafetensorsHeader,
  readSafetensors,
  type SafetensorsEntry,
  type SafetensorsHeader,
  safetensorsHeaderLength,
  type Tensor,
  writeSafetensors,
} from "./src/model/safetensors.ts";
export {
  CONFIG_FILE,
  exportCheckpoint,
  type ExportOptions,
  INDEX_FILE,
  loadCheckpoint,
  type LoadedCheckpoint,
  type LoadOptions,
  readCheckpointConfig,
  WEIGHTS_FILE,
} from "./src/model/hf_checkpoint.ts";
export {
  HfTokenizer,
  type HfTokenizerOptions,
  TOKENIZER_CONFIG_FILE,
  TOKENIZER_FILE,
} from "./src/model/hf_tokenizer.ts";
export {
  embeddingBackward,
  embeddingBackwardReference,
  embeddingForward,
  embeddingForwardReference,
  type EmbeddingShape,
} from "./src/model/ops/embedding.ts";
export {
  rmsnormBackward,
  rmsnormBackwardReference,
  rmsnormForward,
  rmsnormForwardReference,
  type RmsNormShape,
} from "./src/model/ops/rmsnorm.ts";
export {
  ropeBackward,
  ropeBackwardReference,
  type RopeBuffers,
  ropeForward,
  ropeForwardReference,
  type RopeReferenceOptions,
  type RopeShape,
  ropeTable,
  type RopeTableOptions,
  ropeTableReference,
} from "./src/model/ops/rope.ts";
export {
  attentionBackward,
  type AttentionBackwardBuffers,
  type AttentionBackwardOptions,
  attentionBackwardReference,
  attentionForward,
  type AttentionForwardBuffers,
  attentionForwardReference,
  type AttentionPath,
  attentionPath,
  type AttentionReferenceOptions,
  type AttentionShape,
  MAX_HEAD_DIM,
} from "./src/model/ops/attention.ts";
export {
  swigluBackward,
  swigluBackwardReference,
  swigluForward,
  swigluForwardReference,
  type SwigluShape,
} from "./src/model/ops/swiglu.ts";
export {
  residualAccumulate,
  residualAccumulateReference,
  residualBackward,
  residualForward,
  residualForwardReference,
  type ResidualShape,
} from "./src/model/ops/residual.ts";
export {
  crossEntropyBackward,
  crossEntropyBackwardReference,
  crossEntropyForward,
  crossEntropyForwardReference,
  crossEntropyMean,
  crossEntropyMeanReference,
  type CrossEntropyShape,
  IGNORE_INDEX,
} from "./src/model/ops/cross_entropy.ts";
export { type SgdOptions, sgdReference, sgdStep } from "./src/optim/sgd.ts";
export {
  type AdamOptions,
  adamReference,
  type AdamState,
  adamStep,
  createAdamState,
} from "./src/optim/adam.ts";
export {
  clipByNorm,
  clipByNormReference,
  clipGradNorm,
  gradNorm,
  gradNormReference,
} from "./src/optim/grad_norm.ts";
export {
  type DatasetStats,
  type Example,
  exampleBytes,
  type FederatedDataset,
  federatedDataset,
} from "./src/data/example.ts";
export {
  printedTemplate,
  type PromptTemplate,
  renderPrompt,
  type TemplateId,
  TEMPLATES,
} from "./src/data/templates.ts";
export {
  accumulationSteps,
  type PackedRow,
  packStep,
  promptTokens,
  type TokenizedExample,
  tokenizeExample,
} from "./src/data/batch.ts";
export { builtinSuite, SUITE_NAMES, type SuiteName } from "./src/data/suites/builtin.ts";
export {
  CODE_ALPACA_LIKE_SIZES,
  type CodeAlpacaLikeSizes,
  DOLLY_LIKE_SIZES,
  type DollyLikeSizes,
  GSM8K_LIKE_SIZES,
  type Gsm8kLikeSizes,
  NI_LIKE_SIZES,
  type NiLikeSizes,
  type SuiteScale,
} from "./src/data/suites/sizes.ts";
export { niLikeSuite, niLikeTaskSplit } from "./src/data/suites/ni_like.ts";
export { niLikeTaskPool, type TaskSpec } from "./src/data/suites/ni_tasks.ts";
export { DOLLY_CATEGORIES, dollyLikeSuite } from "./src/data/suites/dolly_like.ts";
export { codeAlpacaLikeSuite } from "./src/data/suites/code_alpaca_like.ts";
export { type CodeTask, codeTask } from "./src/data/suites/code_tasks.ts";
export { gsm8kLikeSuite } from "./src/data/suites/gsm8k_like.ts";
export { DataFormatError } from "./src/data/loaders/read.ts";
export {
  loadNaturalInstructions,
  type NaturalInstructionsOptions,
} from "./src/data/loaders/natural_instructions.ts";
export { type DollyOptions, loadDolly, splitDollyRows } from "./src/data/loaders/dolly.ts";
export {
  ASSEMBLY,
  CODE_LANGUAGES,
  type CodeAlpacaOptions,
  inferCodeLanguage,
  loadCodeAlpaca,
  splitCodeAlpacaRows,
} from "./src/data/loaders/code_alpaca.ts";
export { type Gsm8kOptions, loadGsm8k } from "./src/data/loaders/gsm8k.ts";
export {
  type DirichletOptions,
  type DirichletPartition,
  dirichletPartition,
} from "./src/fl/partition/dirichlet.ts";
export { iidPartition } from "./src/fl/partition/iid.ts";
export {
  applyPartition,
  type AttributePartition,
  partitionByAttribute,
  partitionOneTaskPerClient,
} from "./src/fl/partition/by_attribute.ts";
export { type PartitionStats, partitionStats } from "./src/fl/partition/stats.ts";
export {
  meanRougeL,
  rougeL,
  type RougeLScore,
  rougeLScore,
  rougeSentences,
} from "./src/metrics/rouge_l.ts";
export { exactMatch, finalAnswer, meanExactMatch } from "./src/metrics/exact_match.ts";
export { type EvalLoss, evalLoss, meanResponseLoss } from "./src/metrics/loss.ts";
export {
  matmul,
  type MatmulForm,
  matmulReference,
  type MatmulShape,
} from "./src/model/ops/matmul.ts";
export { type Sequence, Transformer, type TransformerOptions } from "./src/model/transformer.ts";
export { argmaxReference, generate, type GenerateOptions } from "./src/model/generate.ts";
// Shared randomness and fused projection (src/random/, src/projection/, src/theory/).
export { erf, erfc, fourthMoment, kurtosis, rho } from "./src/random/moments.ts";
export {
  basisElements,
  basisKurtosis,
  type BasisParams,
  basisParams,
  basisVariance,
  basisVector,
  type Distribution,
  DISTRIBUTIONS,
  type Seed,
  seedKey,
} from "./src/random/basis.ts";
export { basisElementsGpu, philoxWordsGpu } from "./src/random/basis_gpu.ts";
export {
  BasisPlan,
  type Objective,
  type PlanOptions,
  type ProjectOptions,
  type ReconstructOptions,
  type Segment,
  type Tile,
} from "./src/projection/plan.ts";
export { projectReference, reconstructReference } from "./src/projection/reference.ts";
export {
  type Block,
  GROUPING_RULES,
  type GroupingRule,
  groupTensors,
  type TensorInfo,
} from "./src/projection/blocks.ts";
export {
  allocateBases,
  ALLOCATION_RULES,
  type AllocationRule,
  blockMse,
  largestRemainder,
  officialAllocation,
} from "./src/projection/allocation.ts";
export { choleskySolve, leastSquaresReconstruction } from "./src/projection/least_squares.ts";
export {
  type Scaling,
  type Theorem1Options,
  type Theorem1Row,
  theorem1Row,
} from "./src/theory/unbiasedness.ts";
export {
  exactErrorLaw,
  theorem2BoundEq16,
  theorem2BoundMax,
  type Theorem2Options,
  type Theorem2Row,
  theorem2Row,
} from "./src/theory/reconstruction_error.ts";
export {
  SIN2_BETA,
  type Theorem3Options,
  type Theorem3Row,
  theorem3Row,
} from "./src/theory/zo_connection.ts";
export { type Theorem4GapRow, theorem4GapRow } from "./src/theory/second_moment.ts";
export { equalBlocks, type Proposition1Row, proposition1Row } from "./src/theory/block_speedup.ts";
export {
  PROPOSITION2_RULES,
  type Proposition2Row,
  proposition2Row,
} from "./src/theory/allocation_error.ts";
export { figure7Cosines, type Figure7Result } from "./src/theory/cosine_vs_bases.ts";
export { figure8a, figure8b, figure8c } from "./src/theory/cosine_sweeps.ts";
export { predictedCosine } from "./src/theory/cosine.ts";
// PEFT baselines' trainable subsets: LoRA, soft prompts, P-tuning prefixes (src/model/peft/).
export {
  type Adapter,
  type AdapterOptions,
  TRAIN_MODES,
  type TrainMode,
} from "./src/model/peft/adapter.ts";
export {
  initLora,
  LORA_TARGETS,
  LoraAdapter,
  loraNames,
  type LoraOptions,
  type LoraProjection,
  type LoraSettings,
  type LoraTarget,
  loraTensorShapes,
} from "./src/model/peft/lora.ts";
export { PROMPT_NAME, PromptAdapter, type PromptOptions } from "./src/model/peft/prompt.ts";
export { PrefixAdapter, prefixNames, type PrefixOptions } from "./src/model/peft/prefix.ts";
export {
  CommunicationLedger,
  type CommunicationSize,
  type Direction,
  paperCommunication,
  type Totals,
  type Transfer,
} from "./src/fl/ledger.ts";
export type {
  Aggregation,
  ClientData,
  ClientOutcome,
  ClientWork,
  FederatedAlgorithm,
  MessageSize,
  Phase,
  RoundInfo,
  RunStreams,
} from "./src/fl/types.ts";
export {
  type AlgorithmProperties,
  FEDAVG,
  FEDKSEED,
  FEDZO,
  FERRET,
  TABLE1_ALGORITHMS,
} from "./src/fl/algorithms/properties.ts";
export { loadTransformer, saveTransformer } from "./src/model/pretrained.ts";
// Zeroth-order federated baselines (paper.md §6).
export {
  FedKSeed,
  fedKSeed,
  type FedKSeedOptions,
  type FedKSeedSettings,
  type KSeedClientRecord,
  seedProbabilities,
  type SeedSampling,
} from "./src/fl/algorithms/fed_kseed.ts";
export {
  FedZo,
  fedZo,
  type FedZoOptions,
  type FedZoSettings,
  type FiniteDifference,
  type ZoClientRecord,
} from "./src/fl/algorithms/fed_zo.ts";
export {
  type CorpusOptions,
  pretrain,
  PRETRAIN_CORPUS_SEED,
  pretrainCorpus,
  type PretrainOptions,
  pretrainSchedule,
} from "./src/pretrain/pretrain.ts";
// Federation simulator and first-order algorithms (paper.md §1, §5–7).
export {
  aggregationWeights,
  clientsPerRound,
  keptWeights,
  type Participation,
  sampleClients,
  type Weighting,
} from "./src/fl/sampling.ts";
export {
  type LocalOptimizer,
  localOrder,
  type LocalResult,
  LocalTrainer,
  type LocalTrainingOptions,
} from "./src/fl/local.ts";
export {
  type CheckpointStore,
  decodeCheckpoint,
  encodeCheckpoint,
  MemoryCheckpointStore,
  type RunCheckpoint,
} from "./src/fl/run_checkpoint.ts";
export {
  DivergenceError,
  type FinalEvaluation,
  type RoundRecord,
  simulate,
  type SimulationOptions,
  type SimulationResult,
} from "./src/fl/simulator.ts";
export { BlockNorms, segmentSumSquaresReference, totalNorm } from "./src/gpu/segment_norms.ts";
export { FedAvg, fedAvg, type FedAvgOptions } from "./src/fl/algorithms/fed_avg.ts";
export {
  fedIt,
  fedItSgd,
  fedPrompt,
  fedPTuning,
  type PeftOptions,
} from "./src/fl/algorithms/peft.ts";
export { ferret, type FerretOptions } from "./src/fl/algorithms/ferret.ts";
export {
  FerretPaper,
  ferretPaper,
  type FerretPaperOptions,
  freshSeed,
  paperCounts,
  type PaperDownload,
  type PaperMessage,
} from "./src/fl/algorithms/ferret_paper.ts";
export {
  type Anneal,
  clippedCoefficient,
  FerretOfficial,
  ferretOfficial,
  type FerretOfficialOptions,
  officialChoice,
  type OfficialDownload,
  type OfficialMessage,
  serverLearningRate,
} from "./src/fl/algorithms/ferret_official.ts";
export {
  LEAST_SQUARES_LIMIT,
  leastSquaresCoordinates,
} from "./src/fl/algorithms/ferret_least_squares.ts";
export type { Activations, LayerActivations } from "./src/model/activations.ts";
export type { ForwardOptions, KvCache, PassContext, Tensors } from "./src/model/passes.ts";
