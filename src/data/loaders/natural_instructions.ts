/**
 * Natural Instructions v2.8 loader with the paper's rules (paper.md §5.1):
 *
 * - tasks from `splits/default/train_tasks.txt` and `test_tasks.txt`, each
 *   read from `tasks/<name>.json` ("Definition": list of strings, first one
 *   used; "Instances": [{input, output: [..]}], first reference used);
 * - an instance is kept only if its input is shorter than 1024 characters
 *   (Python `len`, i.e. code points);
 * - a training task with fewer than 20 kept instances is skipped;
 * - 20% of each training task's kept instances (⌊0.2·n⌋) are sampled without
 *   replacement; one training task per client;
 * - per test task, if more than 20 instances are kept, max(20, ⌊0.02·n⌋) are
 *   sampled without replacement, else all are used.
 *
 * Sampling draws from a stream named per task, so each task's sample is a
 * pure function of (seed, task). Every instance is validated, sampled or
 * not; a malformed file throws `path:line: reason`. Rows left out by a rule
 * are counted in `stats.dropped`.
 *
 * @module
 */

import { RandomStream } from "../../random/stream.ts";
import { type Example, type FederatedDataset, federatedDataset } from "../example.ts";
import { DataFormatError, lineOf, parseJson, pathIn, readText, typeName } from "./read.ts";

/** Options of {@linkcode loadNaturalInstructions}; defaults are the paper's. */
export interface NaturalInstructionsOptions {
  /** Run seed (u32) for the per-task samples. */
  readonly seed: number;
  /** Keep an instance iff its input has fewer characters than this (1024). */
  readonly maxInputChars?: number;
  /** Skip a training task with fewer kept instances than this (20). */
  readonly minTrainInstances?: number;
  /** Fraction of each training task sampled (0.2). */
  readonly trainFraction?: number;
  /** Test tasks with more instances than this are subsampled (20). */
  readonly evalMin?: number;
  /** Fraction of a large test task sampled (0.02), at least `evalMin`. */
  readonly evalFraction?: number;
  /** Use only the first k training tasks of the split (all by default). */
  readonly maxTrainTasks?: number;
  /** Use only the first k test tasks of the split (all by default). */
  readonly maxTestTasks?: number;
}

/** Code points of a string (Python's `len`). */
function codePoints(s: string): number {
  let n = s.length;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        n--;
        i++;
      }
    }
  }
  return n;
}

async function readTaskList(path: string): Promise<string[]> {
  const text = await readText(path);
  return text.split("\n").map((l) => l.trim()).filter((l) => l.length > 0);
}

interface Task {
  readonly definition: string;
  readonly instances: readonly { readonly input: string; readonly output: string }[];
}

/** Reads and validates one task file. */
export async function readNaturalInstructionsTask(path: string): Promise<Task> {
  const text = await readText(path);
  const json = parseJson(text, path);
  const fail = (at: (string | number)[], reason: string): never => {
    throw new DataFormatError(path, lineOf(text, at), reason);
  };
  if (typeof json !== "object" || json === null || Array.isArray(json)) {
    return fail([], `expected a task object, got ${typeName(json)}`);
  }
  const rec = json as Record<string, unknown>;
  const def = rec["Definition"];
  if (!("Definition" in rec)) fail([], 'missing field "Definition"');
  if (!Array.isArray(def) || def.length === 0 || typeof def[0] !== "string") {
    fail(["Definition"], '"Definition" must be a non-empty list of strings');
  }
  const inst = rec["Instances"];
  if (!("Instances" in rec)) fail([], 'missing field "Instances"');
  if (!Array.isArray(inst)) return fail(["Instances"], '"Instances" must be a list');
  const instances = inst.map((item: unknown, k) => {
    const at = ["Instances", k];
    if (typeof item !== "object" || item === null || Array.isArray(item)) {
      return fail(at, `instance ${k} must be an object, got ${typeName(item)}`);
    }
    const r = item as Record<string, unknown>;
    if (typeof r["input"] !== "string") {
      fail("input" in r ? [...at, "input"] : at, `instance ${k}: "input" must be a string`);
    }
    const out = r["output"];
    if (!Array.isArray(out) || out.length === 0 || typeof out[0] !== "string") {
      fail(
        "output" in r ? [...at, "output"] : at,
        `instance ${k}: "output" must be a non-empty list of strings`,
      );
    }
    return { input: r["input"] as string, output: (out as string[])[0]! };
  });
  return { definition: (def as string[])[0]!, instances };
}

/**
 * Loads NI v2.8 from `dir` (the folder holding `splits/` and `tasks/`).
 *
 * @example
 * ```ts
 * import { loadNaturalInstructions } from "./natural_instructions.ts";
 * const dir = await Deno.makeTempDir();
 * await Deno.mkdir(`${dir}/splits/default`, { recursive: true });
 * await Deno.mkdir(`${dir}/tasks`);
 * await Deno.writeTextFile(`${dir}/splits/default/train_tasks.txt`, "t1\n");
 * await Deno.writeTextFile(`${dir}/splits/default/test_tasks.txt`, "t2\n");
 * const task = (n: number) => JSON.stringify({
 *   Definition: ["Copy the input."],
 *   Instances: Array.from({ length: n }, (_, i) => ({ input: `x${i}`, output: [`x${i}`] })),
 * });
 * await Deno.writeTextFile(`${dir}/tasks/t1.json`, task(30));
 * await Deno.writeTextFile(`${dir}/tasks/t2.json`, task(5));
 * const ds = await loadNaturalInstructions(dir, { seed: 1 });
 * console.log(ds.stats.samplesPerClient, ds.test.length); // [6] 5
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function loadNaturalInstructions(
  dir: string,
  options: NaturalInstructionsOptions,
): Promise<FederatedDataset> {
  const maxInput = options.maxInputChars ?? 1024;
  const minTrain = options.minTrainInstances ?? 20;
  const trainFraction = options.trainFraction ?? 0.2;
  const evalMin = options.evalMin ?? 20;
  const evalFraction = options.evalFraction ?? 0.02;
  const splits = pathIn(dir, "splits", "default");
  let trainNames = await readTaskList(pathIn(splits, "train_tasks.txt"));
  let testNames = await readTaskList(pathIn(splits, "test_tasks.txt"));
  if (options.maxTrainTasks !== undefined) trainNames = trainNames.slice(0, options.maxTrainTasks);
  if (options.maxTestTasks !== undefined) testNames = testNames.slice(0, options.maxTestTasks);
  const dropped: Record<string, number> = {
    "instance input ≥ 1024 characters": 0,
    "training task with < 20 instances": 0,
    "training instance not in the 20% sample": 0,
    "test instance not in the evaluation sample": 0,
  };
  const keep = (task: Task) => {
    const kept = task.instances.filter((x) => codePoints(x.input) < maxInput);
    dropped["instance input ≥ 1024 characters"]! += task.instances.length - kept.length;
    return kept;
  };
  const clients: Example[][] = [];
  const clientLabels: string[] = [];
  for (const name of trainNames) {
    const task = await readNaturalInstructionsTask(pathIn(dir, "tasks", `${name}.json`));
    const kept = keep(task);
    if (kept.length < minTrain) {
      dropped["training task with < 20 instances"]!++;
      continue;
    }
    const k = Math.floor(kept.length * trainFraction);
    const pick = new RandomStream(options.seed, `data/ni/train/${name}`).sample(kept.length, k);
    dropped["training instance not in the 20% sample"]! += kept.length - k;
    clients.push(pick.map((i) => toExample(task.definition, kept[i]!, name)));
    clientLabels.push(name);
  }
  const test: Example[] = [];
  for (const name of testNames) {
    const task = await readNaturalInstructionsTask(pathIn(dir, "tasks", `${name}.json`));
    const kept = keep(task);
    let chosen = kept;
    if (kept.length > evalMin) {
      const k = Math.max(evalMin, Math.floor(evalFraction * kept.length));
      const pick = new RandomStream(options.seed, `data/ni/test/${name}`).sample(kept.length, k);
      chosen = pick.map((i) => kept[i]!);
    }
    dropped["test instance not in the evaluation sample"]! += kept.length - chosen.length;
    for (const x of chosen) test.push(toExample(task.definition, x, name));
  }
  return federatedDataset({
    name: "natural-instructions",
    clients,
    clientLabels,
    test,
    template: "ni",
    dropped,
  });
}

function toExample(
  definition: string,
  x: { readonly input: string; readonly output: string },
  task: string,
): Example {
  return { instruction: definition, input: x.input, output: x.output, label: task };
}
