import assert from "node:assert/strict";
import { MemoryCache, runExperiment } from "../../src/experiment/runner.ts";
import { lineFigure, RunCounter, scoreTable } from "./_fixtures.ts";

Deno.test("runExperiment aggregates mean ± std over seeds", async () => {
  const run = await runExperiment(scoreTable(new RunCounter()), { scale: "smoke" });
  const a = run.table!.stats.a!.acc!;
  assert.equal(a.mean, 2);
  assert.equal(a.std, 1); // sample std of 1, 2, 3
  assert.deepEqual(a.values, [1, 2, 3]);
  assert.deepEqual(a.seeds, [0, 1, 2]);
  assert.equal(run.table!.stats.c!.loss!.std, 0);
  assert.equal(run.adapter, null); // no cell asked for the GPU
});

Deno.test("finished cells are cached: a second run recomputes nothing, --force everything", async () => {
  const counter = new RunCounter();
  const cache = new MemoryCache();
  await runExperiment(scoreTable(counter), { scale: "smoke", cache });
  assert.equal(counter.total(), 9);
  const again = await runExperiment(scoreTable(counter), { scale: "smoke", cache });
  assert.equal(counter.total(), 9);
  assert.ok(again.outcomes.every((o) => o.cached));
  await runExperiment(scoreTable(counter), { scale: "smoke", cache, force: true });
  assert.equal(counter.total(), 18);
});

Deno.test("an interrupted run resumes where it stopped and ends with the same result", async () => {
  const counter = new RunCounter();
  const cache = new MemoryCache();
  await assert.rejects(
    () => runExperiment(scoreTable(counter, "b/1"), { scale: "smoke", cache }),
    /interrupted/,
  );
  assert.equal(cache.size, 4); // a/0, a/1, a/2, b/0 finished before the interruption
  const resumed = await runExperiment(scoreTable(counter), { scale: "smoke", cache });
  assert.equal(counter.total(), 9); // every cell ran exactly once overall
  const fresh = await runExperiment(scoreTable(new RunCounter()), { scale: "smoke" });
  assert.deepEqual(resumed.table, fresh.table);
});

Deno.test("seeds can be overridden and are validated", async () => {
  const counter = new RunCounter();
  const run = await runExperiment(scoreTable(counter), { scale: "smoke", seeds: [2] });
  assert.equal(run.table!.stats.b!.acc!.mean, 8);
  await assert.rejects(
    () => runExperiment(scoreTable(counter), { scale: "smoke", seeds: [] }),
    RangeError,
  );
  await assert.rejects(
    () => runExperiment(scoreTable(counter), { scale: "smoke", seeds: [-1] }),
    RangeError,
  );
});

Deno.test("a scale without a preset is refused with the available ones", async () => {
  await assert.rejects(
    () => runExperiment(scoreTable(new RunCounter()), { scale: "paper" }),
    /Cannot run scores at scale "paper": it is defined for smoke only/,
  );
});

Deno.test("a cell returning a non-number is refused", async () => {
  const table = scoreTable(new RunCounter());
  const bad = {
    ...table,
    cells: () => [{
      key: "bad",
      row: "a",
      seed: 0,
      run: () => Promise.resolve({ acc: "high" as unknown as number }),
    }],
  };
  await assert.rejects(() => runExperiment(bad, { scale: "smoke" }), TypeError);
});

Deno.test("figures turn outcomes into points", async () => {
  const run = await runExperiment(lineFigure(), { scale: "smoke" });
  assert.deepEqual(run.points!.map((p) => p.y), [1.5, 10.5, 100.5]);
});

Deno.test("progress reports every cell", async () => {
  const events: string[] = [];
  await runExperiment(scoreTable(new RunCounter()), {
    scale: "smoke",
    onProgress: (e) => events.push(`${e.cell + 1}/${e.cells} ${e.row} ${e.seed}`),
  });
  assert.equal(events.length, 9);
  assert.equal(events[0], "1/9 a 0");
});

Deno.test("artifacts are made once and shared by cells", async () => {
  const { MemoryArtifacts } = await import("../../src/experiment/runner.ts");
  const { defineTable } = await import("../../extend.ts");
  let made = 0;
  const table = defineTable({
    id: "artifacts",
    title: "Artifacts",
    caption: "Two cells share a made artifact.",
    source: "tests",
    scales: { smoke: { params: {}, seeds: [0, 1] } },
    rows: () => [{ key: "r", label: "r" }],
    columns: [{ key: "v", label: "v", digits: 0 }],
    cells: (_p, seeds) =>
      seeds.map((seed) => ({
        key: `artifacts/${seed}`,
        row: "r",
        seed,
        run: async (context) => {
          const bytes = await context.artifact("shared", () => {
            made++;
            return Promise.resolve(new Uint8Array([7]));
          });
          return { v: bytes[0]! + seed };
        },
      })),
  });
  const artifacts = new MemoryArtifacts();
  const run = await runExperiment(table, { scale: "smoke", artifacts });
  assert.equal(made, 1);
  assert.deepEqual(run.table!.stats.r!.v!.values, [7, 8]);
  await runExperiment(table, { scale: "smoke", artifacts, force: true });
  assert.equal(made, 1);
});

/** A table whose cells each read one shardable, timed artifact (its "seconds") per seed. */
async function timedRuns(made: string[], timed: boolean) {
  const { defineTable } = await import("../../extend.ts");
  return defineTable({
    id: timed ? "costs" : "scores",
    title: "Runs",
    caption: "Cells over shared runs.",
    source: "tests",
    timed,
    scales: { smoke: { params: {}, seeds: [0, 1, 2, 3] } },
    rows: () => [{ key: "r", label: "r" }],
    columns: [{ key: "v", label: "v", digits: 0 }],
    cells: (_p, seeds) =>
      seeds.map((seed) => ({
        key: `${timed ? "costs" : "scores"}/${seed}`,
        row: "r",
        seed,
        run: async (context) => {
          const bytes = await context.artifact(`runs/${seed}`, async () => {
            made.push(`runs/${seed}`);
            await new Promise((resolve) => setTimeout(resolve, 5));
            return new Uint8Array([seed * 10]);
          }, { shardable: true, timed: true, placeholder: () => new Uint8Array([255]) });
          return { v: bytes[0]! };
        },
      })),
  });
}

/** Claims in memory: the first to ask for a name gets it. */
function memoryClaims() {
  const taken = new Set<string>();
  return {
    claim: (name: string) => Promise.resolve(!taken.has(name) && Boolean(taken.add(name))),
  };
}

Deno.test("jobs claiming over one store make every run once; the plain run after them renders the single run's table", async () => {
  const { MemoryArtifacts } = await import("../../src/experiment/runner.ts");
  const made: string[] = [];
  const artifacts = new MemoryArtifacts();
  const cache = new MemoryCache();
  const claims = memoryClaims();
  const table = await timedRuns(made, false);
  const parts = await Promise.all(
    [0, 1].map(() => runExperiment(table, { scale: "smoke", artifacts, cache, claims, jobs: 2 })),
  );
  assert.deepEqual(made.slice().sort(), ["runs/0", "runs/1", "runs/2", "runs/3"]);
  // Each job finished what it could; the rest waits for the other's runs, and nothing is rendered.
  for (const part of parts) {
    assert.equal(part.outcomes.length + part.unfinished.length, 4);
    assert.equal(part.table, undefined);
  }
  assert.ok(parts.every((p) => p.outcomes.length > 0), "both jobs made runs");
  const collected = await runExperiment(table, { scale: "smoke", artifacts, cache });
  assert.deepEqual(made.length, 4, "the plain run makes nothing");
  const single = await runExperiment(await timedRuns([], false), { scale: "smoke" });
  assert.deepEqual(collected.table, single.table);
  // The cells made beside the other job say so; the plain run's own do not.
  const jobs = await Promise.all(
    [0, 1, 2, 3].map(async (s) => (await cache.get(`scores/${s}`))?.jobs),
  );
  assert.ok(jobs.every((j) => j === undefined || j === 2));
  assert.ok(jobs.some((j) => j === 2));
  await assert.rejects(
    () => runExperiment(table, { scale: "smoke", claims, shard: { index: 0, count: 2 } }),
    /Cannot run a shard and claim work at once/,
  );
});

Deno.test("a timed experiment remakes the runs and cells made beside other jobs, and keeps those made alone", async () => {
  const { MemoryArtifacts } = await import("../../src/experiment/runner.ts");
  const made: string[] = [];
  const artifacts = new MemoryArtifacts();
  const cache = new MemoryCache();
  // Runs 0 and 1 made alone, 2 and 3 beside another job (by a plain experiment sharing them).
  const plain = await timedRuns(made, false);
  await runExperiment(plain, { scale: "smoke", artifacts, cache, seeds: [0, 1] });
  await runExperiment(plain, { scale: "smoke", artifacts, cache, seeds: [2, 3], jobs: 2 });
  assert.deepEqual(made, ["runs/0", "runs/1", "runs/2", "runs/3"]);
  assert.ok(await artifacts.get("runs/2.jobs"));
  // The plain experiment takes every run and cell from the store as it is.
  await runExperiment(plain, { scale: "smoke", artifacts, cache });
  assert.equal(made.length, 4);
  // The timed one remakes runs 2 and 3, alone: their notes go, and a second pass makes nothing.
  const timed = await timedRuns(made, true);
  const run = await runExperiment(timed, { scale: "smoke", artifacts, cache });
  assert.deepEqual(made.slice(4), ["runs/2", "runs/3"]);
  assert.deepEqual(run.table!.stats.r!.v!.values, [0, 10, 20, 30]);
  assert.equal(await artifacts.get("runs/2.jobs"), undefined);
  await runExperiment(timed, { scale: "smoke", artifacts, cache });
  assert.equal(made.length, 6);
  // A timed cell cached beside other jobs is computed again (its run is now alone, so read).
  await cache.set({ key: "costs/0", result: { v: 99 }, seconds: 1, jobs: 2 });
  const again = await runExperiment(timed, { scale: "smoke", artifacts, cache });
  assert.deepEqual(again.table!.stats.r!.v!.values, [0, 10, 20, 30]);
  assert.equal(made.length, 6);
});
