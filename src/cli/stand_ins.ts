/**
 * `deno task stand-ins`: pre-trains the default-scale stand-in models by
 * their recipe (experiments/_stand_ins.ts) and writes them as the committed
 * checkpoint directories `stand-ins/default/<stem>/`, which experiments then
 * load instead of pre-training. A stand-in whose directory exists is kept
 * (`--force` makes it again); directories of stems no stand-in has any more
 * are removed. `deno task reproduce pretrain` checks the committed weights
 * against a fresh pre-training.
 *
 * @module
 */

import { fileURLToPath } from "node:url";
import { pathExists } from "../fs.ts";
import { Gpu } from "../gpu/gpu.ts";
import { BPE_TOKENIZER_CONFIG } from "../model/bpe.ts";
import { HfTokenizer } from "../model/hf_tokenizer.ts";
import { standIns } from "../../experiments/_models.ts";
import {
  committedDirectory,
  pretrainStandIn,
  standInStem,
  trainStandInTokenizer,
  writeStandIn,
} from "../../experiments/_stand_ins.ts";

const USAGE = "usage: deno task stand-ins [--force]";

/** This repository's `stand-ins/`, where experiments look for them. */
export const STAND_IN_DIR = fileURLToPath(new URL("../../stand-ins", import.meta.url));

async function main(args: readonly string[]): Promise<void> {
  const unknown = args.filter((a) => a !== "--force");
  if (unknown.length > 0) throw new Error(`Unknown argument ${unknown[0]}\n${USAGE}`);
  const force = args.includes("--force");
  const scale = "default";
  const models = standIns(scale);
  const stems = new Set(models.map((m) => standInStem(m, scale)));
  const root = committedDirectory(STAND_IN_DIR, scale, "");
  await Deno.mkdir(root, { recursive: true });
  for await (const entry of Deno.readDir(root)) {
    if (entry.isDirectory && !stems.has(entry.name)) {
      const stale = committedDirectory(STAND_IN_DIR, scale, entry.name);
      await Deno.remove(stale, { recursive: true });
      console.log(`removed ${stale} (no stand-in has this stem any more)`);
    }
  }
  const tokenizerJson = trainStandInTokenizer(scale);
  const tokenizer = new HfTokenizer(tokenizerJson, BPE_TOKENIZER_CONFIG);
  const gpu = await Gpu.create();
  try {
    for (const base of models) {
      const dir = committedDirectory(STAND_IN_DIR, scale, standInStem(base, scale));
      if (!force && await pathExists(dir)) {
        console.log(`kept ${dir}`);
        continue;
      }
      const made = await pretrainStandIn(gpu, base, scale, tokenizer, (step, loss) => {
        if (step % 250 === 0) {
          console.log(`${base.name}: step ${step}/${base.pretrainSteps}, loss ${loss.toFixed(4)}`);
        }
      });
      await writeStandIn(dir, base, { ...made, tokenizerJson });
      console.log(`wrote ${dir} (${made.report.seconds.toFixed(0)} s of pre-training)`);
    }
  } finally {
    gpu.destroy();
  }
}

if (import.meta.main) {
  try {
    await main(Deno.args);
  } catch (error) {
    console.error(`error: ${(error as Error).message}`);
    Deno.exit(1);
  }
}
