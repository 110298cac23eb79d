import assert from "node:assert/strict";
import { parseReproduceArgs, UsageError } from "../../src/cli/args.ts";
import { selectExperiments } from "../../src/cli/reproduce.ts";
import { EXPERIMENTS } from "../../experiments/mod.ts";

Deno.test("arguments: defaults and every option", () => {
  assert.deepEqual(parseReproduceArgs(["table1"]), {
    ids: ["table1"],
    list: false,
    help: false,
    scale: "default",
    out: "results",
    cacheDir: ".cache",
    listMissing: false,
    plan: false,
    force: false,
  });
  const all = parseReproduceArgs([
    "a",
    "b",
    "--scale",
    "smoke",
    "--seeds",
    "3,1",
    "--out",
    "out/",
    "--cache-dir",
    "c",
    "--force",
    "--backend",
    "gl",
    "--shard",
    "1/3",
    "--list-missing",
    "--plan",
    "--device-memory",
    "80",
  ]);
  assert.deepEqual(all.ids, ["a", "b"]);
  assert.equal(all.scale, "smoke");
  assert.deepEqual(all.seeds, [3, 1]);
  assert.equal(all.out, "out");
  assert.equal(all.backend, "gl");
  assert.equal(all.force, true);
  assert.deepEqual(all.shard, { index: 1, count: 3 });
  assert.equal(all.listMissing, true);
  assert.equal(all.plan, true);
  assert.equal(all.deviceMemory, 80 * 2 ** 30);
});

Deno.test("arguments: bad values are refused with the reason", () => {
  const cases: [string[], RegExp][] = [
    [["x", "--scale", "huge"], /--scale "huge": expected one of smoke, default, paper/],
    [["x", "--seeds", "1,a"], /"a" is not an integer/],
    [["x", "--seeds", "1,1"], /repeated/],
    [["x", "--seeds=-3"], /"-3" is not an integer/],
    [["x", "--seeds", "4294967296"], /not an integer 0/],
    [["x", "--backend", "cuda"], /--backend "cuda"/],
    [["x", "--frobnicate"], /frobnicate/],
    [["x", "--out", ""], /--out/],
  ];
  for (const [argv, message] of cases) {
    assert.throws(() => parseReproduceArgs(argv), (e: Error) => {
      assert.ok(e instanceof UsageError, `${argv.join(" ")}: ${e}`);
      assert.match(e.message, message);
      return true;
    });
  }
});

Deno.test("experiment selection: all, unknown ids named with the valid ones", () => {
  assert.equal(selectExperiments(["all"]).length, EXPERIMENTS.length);
  assert.deepEqual(selectExperiments(["table1"]).map((e) => e.id), ["table1"]);
  assert.throws(
    () => selectExperiments(["tabel1"]),
    (e: Error) => /Did you mean table1\?/.test(e.message) && /Valid ids: .*table1/.test(e.message),
  );
  assert.throws(() => selectExperiments([]), UsageError);
});
