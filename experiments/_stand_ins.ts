/**
 * Where the stand-in models below paper scale come from: the suites'
 * subword tokenizer and the pre-trained weights.
 *
 * The recipe ({@linkcode pretrainStandIn}) is deterministic. At default
 * scale its results are committed as checkpoint directories,
 * `stand-ins/default/<stem>/` of this repository (the CLI passes the folder
 * as the `standInDir` resource; `config.json`, `model.safetensors`,
 * `tokenizer.json`, `tokenizer_config.json`, `pretrain.json`), so that an
 * experiment loads them the way it loads a real checkpoint instead of
 * spending ten minutes pre-training first; `deno task stand-ins` writes them
 * and `deno task reproduce pretrain` pre-trains afresh and checks that it
 * gets the committed weights byte for byte. Where nothing is committed (the
 * smoke scale, or a recipe changed and not yet re-committed) a stand-in is
 * pre-trained on first use and cached in the artifact store, as before.
 *
 * @module
 */

import { createHash } from "node:crypto";
import { join } from "node:path";
import type { CellContext } from "../src/experiment/define.ts";
import type { ModelConfig } from "../src/model/config.ts";
import type { Gpu } from "../src/gpu/gpu.ts";
import { BPE_TOKENIZER_CONFIG } from "../src/model/bpe.ts";
import { exportCheckpoint, loadCheckpoint } from "../src/model/hf_checkpoint.ts";
import { HfTokenizer, TOKENIZER_CONFIG_FILE, TOKENIZER_FILE } from "../src/model/hf_tokenizer.ts";
import { pathExists } from "../src/fs.ts";
import { parameterLayout } from "../src/model/layout.ts";
import { Transformer } from "../src/model/transformer.ts";
import { pretrain, PRETRAIN_CORPUS_SEED, pretrainCorpus } from "../src/pretrain/pretrain.ts";
import { trainSuiteTokenizer } from "../src/pretrain/suite_tokenizer.ts";
import { heldOutTasks } from "./_data.ts";

/** A scale with stand-ins. */
export type StandInScale = "smoke" | "default";

/** A tiny model the toolkit pre-trains itself. */
export interface StandIn {
  /** Artifact name stem. */
  readonly name: string;
  /** Architecture. */
  readonly config: ModelConfig;
  /** AdamW pre-training steps of 4 rows × 128 tokens. */
  readonly pretrainSteps: number;
}

/**
 * The built-in suites' subword tokenizer at each scale below `paper`: its
 * vocabulary size and how many draws of the suites it and the pre-training
 * corpus are made from (src/pretrain/suite_tokenizer.ts). At default scale
 * the corpus holds 1.22 M tokens; the tokenizer makes the suites' examples
 * 2.3–3.3× shorter than bytes.
 */
export const SUITE_TOKENIZERS: Readonly<
  Record<StandInScale, { readonly vocabSize: number; readonly draws: number }>
> = {
  smoke: { vocabSize: 320, draws: 1 },
  default: { vocabSize: 1024, draws: 16 },
};

/** The pre-training recipe's fixed settings (AdamW, warm-up then cosine decay). */
const RECIPE = {
  rowTokens: { smoke: 32, default: 128 },
  rowsPerStep: 4,
  lr: 3e-3,
  seed: 0,
} as const;

/** Rows of held-out text a stand-in's held-out loss is measured on. */
const HELD_OUT_ROWS = 64;

/** What pre-training a stand-in reported: the loss curve and how long it took. */
export interface PretrainReport {
  /** Parameters of the stand-in. */
  readonly parameters: number;
  /** [step, mean loss] pairs read back every 25 steps. */
  readonly losses: readonly (readonly [number, number])[];
  /** Wall seconds of pre-training. */
  readonly seconds: number;
}

/** A pre-trained stand-in: its weights, tokenizer and pre-training report. */
export interface PretrainedStandIn {
  /** The parameters in the layout's order. */
  readonly parameters: Float32Array;
  /** The suites' tokenizer it was trained with. */
  readonly tokenizer: HfTokenizer;
  /** How pre-training went. */
  readonly report: PretrainReport;
}

/**
 * A stand-in's name plus a digest of everything its weights depend on
 * (architecture, tokenizer, recipe), e.g. `tiny-3f2a…`: the name of its
 * artifacts and of its committed directory, and part of every run's
 * identity, so a changed recipe never meets stale weights.
 */
export function standInStem(base: StandIn, scale: StandInScale): string {
  const identity = {
    config: base.config,
    steps: base.pretrainSteps,
    tokenizer: SUITE_TOKENIZERS[scale],
    recipe: { ...RECIPE, rowTokens: RECIPE.rowTokens[scale] },
    corpus: CORPUS,
  };
  return `${base.name}-${digest(identity)}`;
}

/** What the corpus (and the tokenizer trained on it) is made of, beyond its size and seed. */
const CORPUS = {
  seed: PRETRAIN_CORPUS_SEED,
  splits: "train+test",
  exclude: "NI-like held-out tasks",
} as const;

/** The first 12 hex digits of the SHA-256 of a value's JSON. */
function digest(value: unknown): string {
  return createHash("sha256").update(JSON.stringify(value)).digest("hex").slice(0, 12);
}

/** The committed checkpoint directory of a stem under `root` (it may not exist). */
export function committedDirectory(root: string, scale: StandInScale, stem: string): string {
  return join(root, scale, stem);
}

/** Trains the suites' tokenizer of `scale` (held-out NI-like tasks left out), as tokenizer.json. */
export function trainStandInTokenizer(scale: StandInScale): Record<string, unknown> {
  const { vocabSize, draws } = SUITE_TOKENIZERS[scale];
  return trainSuiteTokenizer({ scale, vocabSize, draws, exclude: heldOutTasks(scale) });
}

/**
 * `tokenizer` if its vocabulary is the stand-ins' embedding rows: every id
 * they emit must decode.
 */
function checkedVocabulary(tokenizer: HfTokenizer, scale: StandInScale): HfTokenizer {
  const { vocabSize } = SUITE_TOKENIZERS[scale];
  if (tokenizer.vocabSize !== vocabSize) {
    throw new RangeError(
      `Cannot use the ${scale}-scale suite tokenizer: its corpus gave ${tokenizer.vocabSize} ids, ` +
        `the stand-ins expect ${vocabSize}`,
    );
  }
  return tokenizer;
}

/**
 * The recipe: pre-trains `base` from its seeded initialisation on the
 * corpus of `scale` (one pass at default scale), AdamW with warm-up and
 * cosine decay. Deterministic on a given device.
 */
export async function pretrainStandIn(
  gpu: Gpu,
  base: StandIn,
  scale: StandInScale,
  tokenizer: HfTokenizer,
  onStep?: (step: number, loss: number) => void,
): Promise<{ values: Float32Array; report: PretrainReport }> {
  const rowTokens = RECIPE.rowTokens[scale];
  const model = await Transformer.create(gpu, base.config, { maxTokens: rowTokens, seed: 0 });
  try {
    const rows = pretrainCorpus(tokenizer, {
      scale,
      rowTokens,
      draws: SUITE_TOKENIZERS[scale].draws,
      exclude: heldOutTasks(scale),
    });
    const t0 = performance.now();
    const losses = await pretrain(model, rows, {
      steps: base.pretrainSteps,
      rowsPerStep: RECIPE.rowsPerStep,
      lr: RECIPE.lr,
      seed: RECIPE.seed,
      reportEvery: 25,
      ...(onStep ? { onStep } : {}),
    });
    const seconds = (performance.now() - t0) / 1000;
    const values = await model.params.vector.read();
    return { values, report: { parameters: values.length, losses, seconds } };
  } finally {
    model.destroy();
  }
}

/** Committed stand-ins read so far, by directory: every run of a table loads the same few. */
const committedReads = new Map<string, Promise<PretrainedStandIn | null>>();

/**
 * Reads the stand-in committed under `root` as a checkpoint directory (the
 * tokenizer through {@linkcode HfTokenizer.load}, as a real checkpoint's),
 * or null when there is none. Read once per directory and process.
 */
export function readCommittedStandIn(
  root: string | undefined,
  base: StandIn,
  scale: StandInScale,
): Promise<PretrainedStandIn | null> {
  if (root === undefined) return Promise.resolve(null);
  const dir = committedDirectory(root, scale, standInStem(base, scale));
  let read = committedReads.get(dir);
  if (!read) {
    read = (async () => {
      if (!(await pathExists(dir))) return null;
      const { data } = await loadCheckpoint(dir, { layout: parameterLayout(base.config) });
      const tokenizer = checkedVocabulary(await HfTokenizer.load(dir), scale);
      const report = JSON.parse(await Deno.readTextFile(join(dir, PRETRAIN_REPORT_FILE)));
      return { parameters: data!, tokenizer, report };
    })();
    committedReads.set(dir, read);
  }
  return read;
}

/** The pre-training report's file in a committed directory. */
const PRETRAIN_REPORT_FILE = "pretrain.json";

/**
 * Writes a pre-trained stand-in as a checkpoint directory that
 * {@linkcode readCommittedStandIn} (and any Hugging Face-style loader) reads.
 */
export async function writeStandIn(
  dir: string,
  base: StandIn,
  made: { values: Float32Array; report: PretrainReport; tokenizerJson: unknown },
): Promise<void> {
  await exportCheckpoint(dir, parameterLayout(base.config), made.values);
  await Deno.writeTextFile(join(dir, TOKENIZER_FILE), JSON.stringify(made.tokenizerJson) + "\n");
  await Deno.writeTextFile(
    join(dir, TOKENIZER_CONFIG_FILE),
    JSON.stringify(BPE_TOKENIZER_CONFIG, null, 2) + "\n",
  );
  await Deno.writeTextFile(
    join(dir, PRETRAIN_REPORT_FILE),
    JSON.stringify(made.report, null, 2) + "\n",
  );
}

/**
 * The suites' tokenizer at a scale below `paper`, trained on first use and
 * kept as the artifact `base/<scale>/tokenizer-<digest>.json`.
 */
async function cachedTokenizer(context: CellContext, scale: StandInScale): Promise<HfTokenizer> {
  const identity = digest({ tokenizer: SUITE_TOKENIZERS[scale], corpus: CORPUS });
  const bytes = await context.artifact(
    `base/${scale}/tokenizer-${identity}.json`,
    () => Promise.resolve(encode(trainStandInTokenizer(scale))),
  );
  const json = JSON.parse(new TextDecoder().decode(bytes));
  const source = `the ${scale}-scale suite tokenizer`;
  return checkedVocabulary(new HfTokenizer(json, BPE_TOKENIZER_CONFIG, {}, source), scale);
}

const encode = (value: unknown) => new TextEncoder().encode(JSON.stringify(value) + "\n");

/**
 * A pre-trained stand-in: the committed one when there is one (unless
 * `fresh`), else pre-trained by the recipe on first use and cached as
 * `base/<scale>/<stem>.f32` and `.json` in the artifact store.
 */
export async function pretrainedStandIn(
  context: CellContext,
  base: StandIn,
  scale: StandInScale,
  options: { readonly fresh?: boolean } = {},
): Promise<PretrainedStandIn> {
  if (!options.fresh) {
    const committed = await readCommittedStandIn(context.resources.standInDir, base, scale);
    if (committed) return committed;
  }
  const tokenizer = await cachedTokenizer(context, scale);
  const stem = `base/${scale}/${standInStem(base, scale)}`;
  const report = await context.artifact(`${stem}.json`, async () => {
    const made = await pretrainStandIn(
      await context.gpu(),
      base,
      scale,
      tokenizer,
      (step, loss) => context.progress({ fraction: step / base.pretrainSteps, loss }),
    );
    const { values } = made;
    await context.artifact(
      `${stem}.f32`,
      () => Promise.resolve(new Uint8Array(values.buffer, values.byteOffset, values.byteLength)),
    );
    return encode(made.report);
  }, { timed: true });
  const bytes = await context.artifact(`${stem}.f32`, () => {
    throw new Error(
      `Cannot find ${stem}.f32 beside its report: delete ${stem}.json to pre-train again`,
    );
  });
  return {
    parameters: new Float32Array(bytes.slice().buffer),
    tokenizer,
    report: JSON.parse(new TextDecoder().decode(report)),
  };
}

/**
 * A pre-trained stand-in's mean loss per token on held-out text of the
 * corpus's kind: rows of one more draw of the suites (seed
 * `PRETRAIN_CORPUS_SEED + draws`, which pre-training never saw), the same
 * rows for every stand-in, so stand-ins compare on it.
 */
export async function heldOutPretrainLoss(
  gpu: Gpu,
  base: StandIn,
  standIn: PretrainedStandIn,
  scale: StandInScale,
): Promise<number> {
  const rowTokens = RECIPE.rowTokens[scale];
  const rows = pretrainCorpus(standIn.tokenizer, {
    scale,
    rowTokens,
    seed: PRETRAIN_CORPUS_SEED + SUITE_TOKENIZERS[scale].draws,
    exclude: heldOutTasks(scale),
  }).slice(0, HELD_OUT_ROWS);
  const model = await Transformer.create(gpu, base.config, {
    maxTokens: rowTokens,
    parameters: standIn.parameters,
  });
  try {
    return await model.loss(rows);
  } finally {
    model.destroy();
  }
}
