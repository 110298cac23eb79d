/**
 * What extending ferret-repro needs, beside its public API (`mod.ts`):
 * the contract a federated algorithm implements (src/fl/types.ts), the
 * algorithms as classes with their upload and broadcast messages and
 * building blocks, client sampling and weights, local training, the
 * ledger's sizes, partitioners, data internals, and declaring a table or
 * figure of one's own. Importable by URL like `mod.ts`.
 *
 * @example
 * ```ts
 * import { aggregationWeights, sampleClients } from "./extend.ts";
 * console.log(sampleClients(7, 1, 10, { fraction: 0.3 }).length, aggregationWeights([1, 3], "samples")); // 3 [ 0.25, 0.75 ]
 * ```
 *
 * @module
 */

// The algorithm contract: what the simulator hands an algorithm and what it returns (src/fl/types.ts).
export {
  type Aggregation,
  type ClientOutcome,
  type ClientWork,
  type MessageSize,
  type Phase,
  type RoundInfo,
  type RunStreams,
} from "./src/fl/types.ts";

// The algorithms as classes, their messages and building blocks (src/fl/algorithms).
export {
  type ClientUpdate,
  ClientUpdates,
  UpdateSlots,
} from "./src/fl/algorithms/client_update.ts";
export {
  type AveragedUpdate,
  ModelAverage,
  ModelAveraging,
  type ModelUpdate,
} from "./src/fl/algorithms/model_average.ts";
export {
  ClientRebuild,
  FerretBase,
  type FerretCommonOptions,
  type FerretCommonSettings,
  type FerretPrepared,
} from "./src/fl/algorithms/ferret_shared.ts";
export {
  type AlgorithmProperties,
  FEDAVG,
  FEDKSEED,
  FEDZO,
  FERRET,
  TABLE1_ALGORITHMS,
} from "./src/fl/algorithms/properties.ts";
export {
  FedKSeed,
  type FedKSeedOptions,
  type FedKSeedSettings,
  type KSeedBroadcast,
  type KSeedClientRecord,
  type KSeedUpload,
  seedProbabilities,
  type SeedSampling,
} from "./src/fl/algorithms/fed_kseed.ts";
export {
  FedZo,
  type FedZoOptions,
  type FedZoSettings,
  type FiniteDifference,
  type ZoClientRecord,
} from "./src/fl/algorithms/fed_zo.ts";
export { FedAvg, type FedAvgOptions } from "./src/fl/algorithms/fed_avg.ts";
export { type PeftOptions } from "./src/fl/algorithms/peft.ts";
export {
  FerretPaper,
  type FerretPaperOptions,
  freshSeed,
  paperCoordinates,
  paperCounts,
  type PaperDownload,
  type PaperMessage,
  paperReconstruct,
} from "./src/fl/algorithms/ferret_paper.ts";
export {
  aggregatePool,
  type Anneal,
  clippedCoefficient,
  FerretOfficial,
  type FerretOfficialOptions,
  type FixedAllocation,
  officialChoice,
  officialCoordinates,
  type OfficialDownload,
  type OfficialMessage,
  SeedPool,
  serverLearningRate,
} from "./src/fl/algorithms/ferret_official.ts";
export {
  LEAST_SQUARES_LIMIT,
  leastSquaresCoordinates,
} from "./src/fl/algorithms/ferret_least_squares.ts";

// Partitioners of a dataset over clients (src/fl/partition).
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

// Federation pieces: sampling, weights, local training, ledger, run checkpoints, configuration (src/fl).
export {
  type CommunicationSize,
  type Direction,
  paperCommunication,
  type Totals,
  type Transfer,
} from "./src/fl/ledger.ts";
export {
  aggregationWeights,
  clientsPerRound,
  keptWeights,
  type Participation,
  sampleClients,
  type Weighting,
} from "./src/fl/sampling.ts";
export { type LocalOptimizer, localOrder, type LocalResult, LocalTrainer } from "./src/fl/local.ts";
export { decodeCheckpoint, encodeCheckpoint, type RunCheckpoint } from "./src/fl/run_checkpoint.ts";
export { type FinalEvaluation } from "./src/fl/simulator.ts";
export { adapterFor, type LocalSteps } from "./src/fl/algorithm_config.ts";

// Data in detail: tokenising and packing, templates, loaders' options, the suites' generators (src/data).
export { type DatasetStats, exampleBytes, federatedDataset } from "./src/data/example.ts";
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
export { SUITE_NAMES } from "./src/data/suites/builtin.ts";
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
export { type NaturalInstructionsOptions } from "./src/data/loaders/natural_instructions.ts";
export { type DollyOptions, splitDollyRows } from "./src/data/loaders/dolly.ts";
export {
  ASSEMBLY,
  CODE_LANGUAGES,
  type CodeAlpacaOptions,
  inferCodeLanguage,
  splitCodeAlpacaRows,
} from "./src/data/loaders/code_alpaca.ts";
export { type Gsm8kOptions } from "./src/data/loaders/gsm8k.ts";

// Declaring an experiment: tables, figures, cells, checks, the runner's stores, plots (src/experiment).
export {
  type ArtifactOptions,
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
  MemoryArtifacts,
  MemoryCache,
  missingCells,
  type ProgressEvent,
  type RunOptions,
  ScaleUnavailableError,
  shardOf,
  type WorkClaims,
} from "./src/experiment/runner.ts";
export { figureSvg } from "./src/experiment/plot.ts";
export {
  type Hypothesis,
  meanStd,
  pairedCheck,
  type PairedInterval,
  pairedInterval,
  type Verdict,
  verdict,
} from "./src/experiment/stats.ts";
