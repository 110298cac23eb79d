/**
 * The engine behind ferret-repro's public API (`mod.ts`): the GPU context
 * and vectors, every WGSL-backed operation with its plain TypeScript
 * reference, random bases and their fused projection and reconstruction,
 * model internals, optimisers, pre-training and the Monte Carlo checks of
 * the theorems. Importable by URL like `mod.ts`.
 *
 * @example
 * ```ts
 * import { axpy, GpuVector } from "./engine.ts";
 * import { Gpu } from "./mod.ts";
 * const gpu = await Gpu.create();
 * const x = GpuVector.from(gpu, new Float32Array([1, 2, 3]));
 * const y = GpuVector.from(gpu, new Float32Array([1, 1, 1]));
 * await axpy(2, x, y);
 * console.log(await y.read()); // Float32Array(3) [ 3, 5, 7 ]
 * gpu.destroy();
 * ```
 *
 * @module
 */

// GPU context, buffers, vectors and vector ops, pipelines, timing (src/gpu).
export {
  acquireDevice,
  type Backend,
  BACKENDS,
  type DeviceInfo,
  type DeviceOptions,
  GpuError,
  NoAdapterError,
} from "./src/gpu/device.ts";
export { type Binding, type Dispatch, type Timing } from "./src/gpu/gpu.ts";
export { type Grid, workgroupGrid } from "./src/gpu/dispatch.ts";
export { type Constants, type Kernel, PipelineCache } from "./src/gpu/pipelines.ts";
export {
  type Chunk,
  defaultChunkElements,
  GpuVector,
  type Segment,
  type VectorOptions,
} from "./src/gpu/vector.ts";
export { axpy, axpyReference } from "./src/gpu/axpy.ts";
export { unrollWgsl } from "./src/gpu/wgsl_unroll.ts";
export { BlockNorms, segmentSumSquaresReference, totalNorm } from "./src/gpu/segment_norms.ts";

// Philox and the basis distributions in detail (src/random).
export { fnv1a32 } from "./src/random/stream.ts";
export { erf, erfc, fourthMoment, kurtosis, rho } from "./src/random/moments.ts";
export {
  basisElements,
  basisKurtosis,
  type BasisParams,
  basisParams,
  basisVariance,
  DISTRIBUTIONS,
  type Seed,
  seedKey,
} from "./src/random/basis.ts";
export { basisElementsGpu, philoxWordsGpu } from "./src/random/basis_gpu.ts";

// Blocks, allocation rules, fused projection and reconstruction (src/projection).
export {
  BasisPlan,
  type Objective,
  type PlanOptions,
  type ProjectOptions,
  type ReconstructOptions,
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

// Model kernels and their TypeScript references (src/model/ops).
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
  attentionDecode,
  type AttentionDecodeBuffers,
  attentionDecodeReference,
  type DecodeShape,
  kvScatter,
  type KvScatterBuffers,
  kvScatterReference,
} from "./src/model/ops/decode.ts";
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
export {
  biasAdd,
  biasAddReference,
  biasGrad,
  biasGradReference,
  type BiasShape,
} from "./src/model/ops/bias.ts";
export {
  matmul,
  type MatmulForm,
  type MatmulModels,
  matmulReference,
  type MatmulShape,
} from "./src/model/ops/matmul.ts";
export { type ModelRows } from "./src/model/ops/_common.ts";

// PEFT adapters: LoRA, soft prompts, P-tuning prefixes (src/model/peft).
export {
  type Adapter,
  type AdapterModels,
  TRAIN_MODES,
  type TrainMode,
} from "./src/model/peft/adapter.ts";
export {
  initLora,
  LORA_TARGETS,
  LoraAdapter,
  type LoraModels,
  loraNames,
  type LoraOptions,
  type LoraProjection,
  type LoraSettings,
  type LoraTarget,
  loraTensorShapes,
} from "./src/model/peft/lora.ts";
export { PROMPT_NAME, PromptAdapter, type PromptOptions } from "./src/model/peft/prompt.ts";
export { PrefixAdapter, prefixNames, type PrefixOptions } from "./src/model/peft/prefix.ts";

// Model internals: configuration, parameter layout, passes, activations, safetensors, checkpoints (src/model).
export {
  configFromHf,
  configToHf,
  headDim,
  parameterCount,
  sameConfig,
  validateConfig,
} from "./src/model/config.ts";
export { preset, type PresetName } from "./src/model/presets.ts";
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
  type HfTokenizerOptions,
  TOKENIZER_CONFIG_FILE,
  TOKENIZER_FILE,
} from "./src/model/hf_tokenizer.ts";
export { BPE_TOKENIZER_CONFIG, type BpeOptions, trainBpe } from "./src/model/bpe.ts";
export { type TransformerOptions } from "./src/model/transformer.ts";
export { type PackedMember, packSequences, type StepRow } from "./src/model/pack.ts";
export {
  argmaxReference,
  type GenerateOptions,
  GENERATION_CACHE_BYTES,
} from "./src/model/generate.ts";
export { type Activations, type LayerActivations } from "./src/model/activations.ts";
export {
  batchRefusal,
  type BatchTrainable,
  ModelBatch,
  type ModelBatchOptions,
} from "./src/model/model_batch.ts";
export {
  type ForwardOptions,
  type KvCache,
  type PassContext,
  type RowCache,
  type Tensors,
} from "./src/model/passes.ts";

// Optimisers and gradient norms (src/optim).
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

// Pre-training of the stand-in models (src/pretrain).
export {
  type CorpusOptions,
  type CorpusTextOptions,
  pretrain,
  PRETRAIN_CORPUS_SEED,
  pretrainCorpus,
  type PretrainOptions,
  pretrainSchedule,
  pretrainTexts,
} from "./src/pretrain/pretrain.ts";
export { type SuiteTokenizerOptions, trainSuiteTokenizer } from "./src/pretrain/suite_tokenizer.ts";

// Metrics in detail (src/metrics).
export {
  meanRougeL,
  type RougeLScore,
  rougeLScore,
  rougeSentences,
} from "./src/metrics/rouge_l.ts";
export { finalAnswer, finalAnswerScore, meanExactMatch } from "./src/metrics/exact_match.ts";
export { type EvalLoss, evalLoss, meanResponseLoss } from "./src/metrics/loss.ts";

// Monte Carlo checks of the theorems (src/theory).
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

// The toolkit version.
export { VERSION } from "./src/version.ts";
