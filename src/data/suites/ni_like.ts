/**
 * The NI-like built-in suite. It mirrors Natural Instructions' structure
 * (paper.md §5.1): many instruction tasks, each with its own instruction
 * text, inputs and reference outputs; one training task per client; a
 * disjoint set of held-out test tasks for global evaluation. Tasks come from
 * parameterised families (letter games, arithmetic, list operations,
 * classification, extraction, string building; see ni_tasks.ts); the
 * selection interleaves families so small scales still cover most of them,
 * and test tasks are new parameterisations or phrasings of families seen in
 * training.
 *
 * What it cannot mirror: real NI tasks are written in natural language by
 * people, span 76 task types and many domains, and its test tasks come from
 * task categories never seen in training; here every task is a short,
 * synthetic, exactly checkable string or number problem.
 *
 * @module
 */

import { RandomStream } from "../../random/stream.ts";
import { type Example, type FederatedDataset, federatedDataset } from "../example.ts";
import type { TemplateId } from "../templates.ts";
import { niLikeTaskPool, type TaskSpec } from "./ni_tasks.ts";
import type { NiLikeSizes } from "./sizes.ts";
import { between } from "./words.ts";

/**
 * The tasks chosen for a run: `train` and `test` are disjoint.
 *
 * @example
 * ```ts
 * import { niLikeTaskSplit } from "./ni_like.ts";
 * const { train, test } = niLikeTaskSplit(5, 2, 1);
 * console.log(train.length, test.length); // 5 2
 * ```
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
  const families = [...new Set(pool.map((t) => t.family))];
  const queues = rng.shuffle(families).map((f) => rng.shuffle(pool.filter((t) => t.family === f)));
  const interleaved: TaskSpec[] = [];
  for (let round = 0; interleaved.length < pool.length; round++) {
    for (const q of queues) if (round < q.length) interleaved.push(q[round]!);
  }
  const chosen = rng.shuffle(interleaved.slice(0, trainTasks + testTasks));
  return { test: chosen.slice(0, testTasks), train: chosen.slice(testTasks) };
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
