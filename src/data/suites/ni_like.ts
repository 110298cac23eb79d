/**
 * The NI-like built-in suite. It mirrors Natural Instructions' structure
 * (paper.md §5.1): many instruction tasks, each with its own instruction
 * text, inputs and reference outputs; one training task per client; a
 * disjoint set of held-out test tasks for global evaluation. Tasks come from
 * parameterised families (letter games, arithmetic, list operations,
 * classification, extraction, string building; see ni_tasks.ts) and each
 * task lists the components it is made of (its skill with the skill's
 * parameter, the label words it answers with, the separator of its lists).
 *
 * Held-out tasks are new combinations of components seen in training: a
 * threshold, category, parity or sentiment question answered with label
 * words that training used only for other questions, a list operation on a
 * separator that training used only for other operations (about two in
 * three test tasks are such combinations), or a new phrasing of a trained
 * skill. Every component of every test task is a component of some training
 * task (its donor), so a test task asks for generalisation to a new task,
 * not to unseen arithmetic (a Caesar shift never trained) or unseen answer
 * words. Training is then filled so that families stay interleaved and small
 * scales still cover most of them.
 *
 * What it cannot mirror: real NI tasks are written in natural language by
 * people, span 76 task types and many domains, and its test tasks come from
 * task categories never seen in training; here every task is a short,
 * synthetic, exactly checkable string or number problem, and a test task
 * only recombines a few components of training tasks, which is a much
 * narrower step than a new NI category. Tasks with a component no other
 * task has (string operations, extraction, word building, affine
 * arithmetic, starts-with, sentiment answered with its own words) are only
 * ever trained on.
 *
 * @module
 */

import { RandomStream } from "../../random/stream.ts";
import { type Example, type FederatedDataset, federatedDataset } from "../example.ts";
import type { TemplateId } from "../templates.ts";
import { niLikeTaskPool, type TaskSpec } from "./ni_tasks.ts";
import type { NiLikeSizes } from "./sizes.ts";
import { between } from "./words.ts";

/** The order-free key of a task's components: tasks with equal keys are phrasings of one task. */
function skillKey(task: TaskSpec): string {
  return [...task.skills].sort().join("|");
}

/** The pool's families, each shuffled, in a shuffled order. */
function familyQueues(pool: readonly TaskSpec[], rng: RandomStream): TaskSpec[][] {
  const families = [...new Set(pool.map((t) => t.family))];
  return rng.shuffle(families).map((f) => rng.shuffle(pool.filter((t) => t.family === f)));
}

/** One task of each family in turn, so any prefix spreads over the families. */
function roundRobin(queues: readonly (readonly TaskSpec[])[]): TaskSpec[] {
  const out: TaskSpec[] = [];
  const longest = Math.max(0, ...queues.map((q) => q.length));
  for (let round = 0; round < longest; round++) {
    for (const q of queues) if (round < q.length) out.push(q[round]!);
  }
  return out;
}

/** Tasks of `order` having each component, in that order. */
function tasksBySkill(order: readonly TaskSpec[]): Map<string, TaskSpec[]> {
  const index = new Map<string, TaskSpec[]>();
  for (const t of order) for (const s of t.skills) index.set(s, [...index.get(s) ?? [], t]);
  return index;
}

/**
 * How a task could be held out: as a `combination` when it has several
 * components and each is also found in a task that is not a phrasing of it,
 * as a `rephrasing` when every component is found only in other phrasings,
 * or not at all when some component is its alone.
 */
function heldOutKind(
  task: TaskSpec,
  bySkill: ReadonlyMap<string, readonly TaskSpec[]>,
): "combination" | "rephrasing" | null {
  const key = skillKey(task);
  const others = (s: string) => bySkill.get(s)!.filter((t) => t !== task);
  if (!task.skills.every((s) => others(s).length > 0)) return null;
  const combines = task.skills.length > 1 &&
    task.skills.every((s) => others(s).some((t) => skillKey(t) !== key));
  return combines ? "combination" : "rephrasing";
}

/** Held-out candidates of each kind, one family at a time, so a few already spread over families. */
function heldOutCandidates(
  queues: readonly (readonly TaskSpec[])[],
  bySkill: ReadonlyMap<string, readonly TaskSpec[]>,
): { combinations: TaskSpec[]; rephrasings: TaskSpec[] } {
  const kinds = new Map(queues.flat().map((t) => [t, heldOutKind(t, bySkill)]));
  const ofKind = (kind: "combination" | "rephrasing") =>
    roundRobin(queues.map((q) => q.filter((t) => kinds.get(t) === kind)));
  return { combinations: ofKind("combination"), rephrasings: ofKind("rephrasing") };
}

/** What the split has decided so far (sets keep their insertion order). */
interface SplitState {
  readonly test: Set<TaskSpec>;
  readonly donors: Set<TaskSpec>;
  /** Components the donors cover. */
  readonly covered: Set<string>;
  /** Component keys of combination test tasks: their other phrasings stay out of training. */
  readonly keepOut: Set<string>;
}

/**
 * Training tasks to add so that every component of `task` is covered, or
 * `null` when some component has no task left to give it. Each step takes
 * the task covering most missing components, avoiding phrasings of
 * combination test tasks (which would turn them into mere rephrasings);
 * ties go to the earlier task of the shuffled `bySkill` lists.
 */
function donorsFor(
  task: TaskSpec,
  state: SplitState,
  bySkill: ReadonlyMap<string, readonly TaskSpec[]>,
  keepOut: ReadonlySet<string>,
): TaskSpec[] | null {
  const missing = new Set(task.skills.filter((s) => !state.covered.has(s)));
  const donors: TaskSpec[] = [];
  while (missing.size > 0) {
    let best: TaskSpec | undefined;
    let bestScore = -1;
    for (const s of missing) {
      for (const t of bySkill.get(s)!) {
        if (t === task || state.test.has(t) || donors.includes(t)) continue;
        const gain = t.skills.filter((x) => missing.has(x)).length;
        // Staying off a combination's other phrasings outranks any gain (a task has few components).
        const score = (keepOut.has(skillKey(t)) ? 0 : 100) + gain;
        if (score > bestScore) [best, bestScore] = [t, score];
      }
    }
    if (!best) return null;
    donors.push(best);
    for (const s of best.skills) missing.delete(s);
  }
  return donors;
}

/**
 * Holds `task` out when it is not already a donor, is still a new
 * combination if chosen as one, and its donors fit the budget of
 * `trainTasks`; reports whether it did.
 */
function holdOut(
  task: TaskSpec,
  combination: boolean,
  state: SplitState,
  bySkill: ReadonlyMap<string, readonly TaskSpec[]>,
  trainTasks: number,
): boolean {
  if (state.donors.has(task)) return false;
  const key = skillKey(task);
  if (combination && [...state.donors].some((d) => skillKey(d) === key)) return false;
  const keepOut = combination ? new Set([...state.keepOut, key]) : state.keepOut;
  const donors = donorsFor(task, state, bySkill, keepOut);
  if (!donors || state.donors.size + donors.length > trainTasks) return false;
  state.test.add(task);
  for (const d of donors) {
    state.donors.add(d);
    for (const s of d.skills) state.covered.add(s);
  }
  if (combination) state.keepOut.add(key);
  return true;
}

/**
 * Chooses up to `testTasks` test tasks, two combinations for each
 * rephrasing while both kinds last, each with donors for all its
 * components within a budget of `trainTasks` training tasks.
 */
function chooseTestTasks(
  candidates: { combinations: readonly TaskSpec[]; rephrasings: readonly TaskSpec[] },
  bySkill: ReadonlyMap<string, readonly TaskSpec[]>,
  trainTasks: number,
  testTasks: number,
): SplitState {
  const state: SplitState = {
    test: new Set(),
    donors: new Set(),
    covered: new Set(),
    keepOut: new Set(),
  };
  const { combinations, rephrasings } = candidates;
  let [c, r] = [0, 0];
  while (state.test.size < testTasks && (c < combinations.length || r < rephrasings.length)) {
    const rephrase = state.test.size % 3 === 2 ? r < rephrasings.length : c >= combinations.length;
    if (rephrase) holdOut(rephrasings[r++]!, false, state, bySkill, trainTasks);
    else holdOut(combinations[c++]!, true, state, bySkill, trainTasks);
  }
  return state;
}

/**
 * The tasks chosen for a run: `train` and `test` are disjoint, and every
 * component of a test task is a component of some training task. Test tasks
 * are chosen first (spread over families, combinations of components
 * preferred), then a donor for each of their components, then training is
 * filled from a family-interleaved order; other phrasings of a combination
 * test task are used only when nothing else is left. A pure function of its
 * arguments.
 *
 * @example
 * ```ts
 * import { niLikeTaskSplit } from "./ni_like.ts";
 * const { train, test } = niLikeTaskSplit(5, 2, 1);
 * const seen = new Set(train.flatMap((t) => t.skills));
 * console.log(train.length, test.length); // 5 2
 * console.log(test.every((t) => t.skills.every((s) => seen.has(s)))); // true
 * ```
 *
 * @throws {RangeError} when the pool has too few tasks, or too few test
 * tasks can have all their components covered by `trainTasks` tasks.
 */
export function niLikeTaskSplit(
  trainTasks: number,
  testTasks: number,
  seed: number,
): { train: TaskSpec[]; test: TaskSpec[] } {
  const pool = niLikeTaskPool();
  if (trainTasks + testTasks > pool.length) {
    throw new RangeError(
      `Cannot choose ${trainTasks} + ${testTasks} NI-like tasks: the pool has ${pool.length}`,
    );
  }
  const rng = new RandomStream(seed, "data/ni-like/tasks");
  const queues = familyQueues(pool, rng);
  const interleaved = roundRobin(queues);
  const bySkill = tasksBySkill(interleaved);
  const candidates = heldOutCandidates(queues, bySkill);
  const state = chooseTestTasks(candidates, bySkill, trainTasks, testTasks);
  if (state.test.size < testTasks) {
    throw new RangeError(
      `Cannot choose ${testTasks} NI-like test tasks whose components ${trainTasks} training ` +
        `tasks cover: only ${state.test.size} fit`,
    );
  }
  const rest = interleaved.filter((t) => !state.test.has(t) && !state.donors.has(t));
  const fill = [
    ...rest.filter((t) => !state.keepOut.has(skillKey(t))),
    ...rest.filter((t) => state.keepOut.has(skillKey(t))),
  ];
  const train = [...state.donors, ...fill].slice(0, trainTasks);
  return { train: rng.shuffle(train), test: [...state.test] };
}

function instances(task: TaskSpec, count: number, seed: number, split: string): Example[] {
  const rng = new RandomStream(seed, `data/ni-like/${split}/${task.name}`);
  return Array.from({ length: count }, () => {
    const { input, output } = task.generate(rng);
    return { instruction: task.instruction, input, output, label: task.name };
  });
}

/**
 * Builds the NI-like suite.
 *
 * @example
 * ```ts
 * import { niLikeSuite } from "./ni_like.ts";
 * import { NI_LIKE_SIZES } from "./sizes.ts";
 * const ds = niLikeSuite(NI_LIKE_SIZES.smoke, 1);
 * console.log(ds.clients.length, ds.test.length); // 6 12
 * ```
 */
export function niLikeSuite(
  sizes: NiLikeSizes,
  seed: number,
  template: TemplateId = "compact",
): FederatedDataset {
  const { train, test } = niLikeTaskSplit(sizes.trainTasks, sizes.testTasks, seed);
  const counts = new RandomStream(seed, "data/ni-like/counts");
  return federatedDataset({
    name: "ni-like",
    clients: train.map((t) =>
      instances(t, between(counts, sizes.minPerTask, sizes.maxPerTask), seed, "train")
    ),
    clientLabels: train.map((t) => t.name),
    test: test.flatMap((t) => instances(t, sizes.perTestTask, seed, "test")),
    template,
  });
}
