import assert from "node:assert/strict";
import { parseShard, UsageError } from "../../src/cli/args.ts";
import { reproduceCommand } from "../../src/cli/launch.ts";

Deno.test("the launcher grants the reproduction exactly the folders its arguments name", () => {
  const args = reproduceCommand(
    ["table3", "--out", "/tmp/o/", "--cache-dir", "shared/cache", "--data-dir", "/data"],
    "/repo",
    "/home/me",
  );
  const flags = args.filter((a) => a.startsWith("--allow"));
  assert.deepEqual(flags, [
    "--allow-read=/repo,/tmp/o,/home/me/shared/cache,/data",
    "--allow-write=/tmp/o,/home/me/shared/cache",
    "--allow-env=DENO_WEBGPU_BACKEND,XDG_RUNTIME_DIR,NO_COLOR,SLURM_ARRAY_TASK_ID," +
    "SLURM_ARRAY_TASK_MIN,SLURM_ARRAY_TASK_COUNT,JOB_COMPLETION_INDEX",
    `--allow-run=${Deno.execPath()}`,
  ]);
  assert.deepEqual(args.slice(-7), [
    "table3",
    "--out",
    "/tmp/o/",
    "--cache-dir",
    "shared/cache",
    "--data-dir",
    "/data",
  ]);
  assert.equal(args[5], "/repo/src/cli/reproduce.ts");
  // Defaults: results/ and .cache/ of the repository.
  const plain = reproduceCommand(["table1"], "/repo", "/repo");
  assert.ok(plain.includes("--allow-write=/repo/results,/repo/.cache"));
  // Bad arguments: nothing to write; the reproduction reports them.
  assert.ok(
    !reproduceCommand(["--scale", "huge"], "/repo", "/repo").some((a) =>
      a.startsWith("--allow-write")
    ),
  );
});

Deno.test("--shard: I/N, and the schedulers' own variables", () => {
  assert.deepEqual(parseShard("0/1", {}), { index: 0, count: 1 });
  assert.deepEqual(parseShard("3/4", {}), { index: 3, count: 4 });
  const slurm = {
    SLURM_ARRAY_TASK_ID: "12",
    SLURM_ARRAY_TASK_MIN: "10",
    SLURM_ARRAY_TASK_COUNT: "4",
  };
  assert.deepEqual(parseShard("auto", slurm), { index: 2, count: 4 });
  assert.deepEqual(parseShard("auto/8", slurm), { index: 2, count: 8 });
  assert.deepEqual(parseShard("auto/5", { JOB_COMPLETION_INDEX: "4" }), { index: 4, count: 5 });
  for (
    const [text, env, reason] of [
      ["4/4", {}, /does not exist/],
      ["1", {}, /N is not set/],
      ["a/3", {}, /I is a/],
      ["auto", { JOB_COMPLETION_INDEX: "1" }, /no scheduler variable/],
      ["auto", { SLURM_ARRAY_TASK_ID: "1" }, /SLURM_ARRAY_TASK_COUNT is not set/],
      ["1/2/3", {}, /expected I\/N/],
    ] as const
  ) {
    assert.throws(() => parseShard(text, env), (e: unknown) => {
      assert.ok(e instanceof UsageError);
      assert.match(e.message, reason);
      return true;
    });
  }
});
