import assert from "node:assert/strict";
import { niLikeSuite, niLikeTaskSplit } from "../../../src/data/suites/ni_like.ts";
import { niLikeTaskPool, type TaskSpec } from "../../../src/data/suites/ni_tasks.ts";
import { NI_LIKE_SIZES } from "../../../src/data/suites/sizes.ts";

const SCALES = ["smoke", "default", "paper"] as const;
const SEEDS = [0, 1, 2, 7, 123, 4_000_000_000];

const names = (tasks: readonly TaskSpec[]) => tasks.map((t) => t.name);
const skillKey = (t: TaskSpec) => [...t.skills].sort().join("|");

Deno.test("every task lists its components, and phrasings of one task share them", () => {
  const pool = niLikeTaskPool();
  assert.ok(pool.every((t) => t.skills.length > 0 && new Set(t.skills).size === t.skills.length));
  const byBase = new Map<string, TaskSpec[]>();
  for (const t of pool.filter((t) => /_v\d$/.test(t.name))) {
    const base = t.name.replace(/_v\d$/, "");
    byBase.set(base, [...byBase.get(base) ?? [], t]);
  }
  assert.ok(byBase.size > 100);
  for (const [base, phrasings] of byBase) {
    assert.equal(phrasings.length, 2, base);
    assert.deepEqual(phrasings[0]!.skills, phrasings[1]!.skills, base);
    assert.notEqual(phrasings[0]!.instruction, phrasings[1]!.instruction, base);
  }
  // A task answered with label words names them as a component.
  const task = (name: string) => pool.find((t) => t.name === name)!;
  assert.deepEqual(task("greater_30_yes_no").skills, ["threshold 30", "labels yes/no"]);
  assert.deepEqual(task("list_sort_up_comma").skills, ["list sort_up", "sep comma"]);
  assert.deepEqual(task("caesar_21_v1").skills, ["caesar 21"]);
});

Deno.test("every component of a test task is a component of a training task", async (t) => {
  for (const scale of SCALES) {
    await t.step(scale, () => {
      const { trainTasks, testTasks } = NI_LIKE_SIZES[scale];
      for (const seed of SEEDS) {
        const { train, test } = niLikeTaskSplit(trainTasks, testTasks, seed);
        assert.equal(train.length, trainTasks);
        assert.equal(test.length, testTasks);
        const seen = new Set(train.flatMap((x) => x.skills));
        for (const task of test) {
          const missing = task.skills.filter((s) => !seen.has(s));
          assert.deepEqual(missing, [], `seed ${seed}: ${task.name} needs ${missing.join(", ")}`);
        }
      }
    });
  }
});

Deno.test("training and test tasks are disjoint, and no test instruction is a training one", () => {
  for (const scale of SCALES) {
    const { trainTasks, testTasks } = NI_LIKE_SIZES[scale];
    for (const seed of SEEDS) {
      const { train, test } = niLikeTaskSplit(trainTasks, testTasks, seed);
      const all = [...names(train), ...names(test)];
      assert.equal(new Set(all).size, all.length, `${scale} seed ${seed}`);
      const instructions = new Set(train.map((x) => x.instruction));
      assert.ok(test.every((x) => !instructions.has(x.instruction)), `${scale} seed ${seed}`);
    }
  }
});

Deno.test("the split is a pure function of (trainTasks, testTasks, seed)", () => {
  const split = (seed: number) => {
    const { train, test } = niLikeTaskSplit(48, 12, seed);
    return JSON.stringify([names(train), names(test)]);
  };
  assert.equal(split(3), split(3));
  assert.notEqual(split(3), split(4));
  const suite = (seed: number) => JSON.stringify(niLikeSuite(NI_LIKE_SIZES.smoke, seed));
  assert.equal(suite(5), suite(5));
});

Deno.test("held-out tasks mostly combine components and spread over families", () => {
  for (const seed of SEEDS) {
    const { train, test } = niLikeTaskSplit(48, 12, seed);
    const trainedKeys = new Set(train.map(skillKey));
    // A new combination: no phrasing of it trains, so its components come from several tasks.
    const combinations = test.filter((x) => !trainedKeys.has(skillKey(x)));
    assert.ok(combinations.length >= 6, `seed ${seed}: ${names(combinations)}`);
    assert.ok(combinations.every((x) => x.skills.length >= 2));
    assert.ok(new Set(test.map((x) => x.family)).size >= 6, `seed ${seed}`);
  }
});

Deno.test("the suite's clients and test examples follow the split", () => {
  const sizes = NI_LIKE_SIZES.default;
  const ds = niLikeSuite(sizes, 2);
  const { train, test } = niLikeTaskSplit(sizes.trainTasks, sizes.testTasks, 2);
  assert.deepEqual(ds.clientLabels, names(train));
  assert.deepEqual([...new Set(ds.test.map((e) => e.label))], names(test));
});

Deno.test("an impossible split fails with a RangeError", () => {
  const pool = niLikeTaskPool().length;
  assert.throws(() => niLikeTaskSplit(pool, 1, 0), RangeError);
  // Test tasks need training tasks to take their components from.
  assert.throws(() => niLikeTaskSplit(0, 1, 0), /Cannot choose 1 NI-like test tasks/);
  assert.throws(() => niLikeTaskSplit(2, 40, 0), RangeError);
  assert.deepEqual(niLikeTaskSplit(3, 0, 0).test, []);
});
