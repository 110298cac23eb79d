/**
 * A sharded reproduction (DESIGN.md §7; `--shard I/N`): shard processes
 * over one cache folder outside the repository, then a plain run that
 * renders from what they stored, give the bytes a single process gives —
 * also when a shard is killed mid-run and run again.
 */
import assert from "node:assert/strict";
import { reproduceCommand } from "../../src/cli/launch.ts";

const root = new URL("../../", import.meta.url).pathname.replace(/\/$/, "");
const EXPERIMENT = ["table3", "--scale", "smoke"];
/** Table 3's smoke cells: 5 methods × 4 columns and the base model's 4, one seed. */
const CELLS = 24;

/**
 * Starts the reproduction as `deno task reproduce` would (without the
 * launcher in between), or without its permission to start processes.
 */
function start(args: string[], { mayRun = true } = {}): Deno.ChildProcess {
  const command = reproduceCommand(args, root, root);
  return new Deno.Command(Deno.execPath(), {
    args: mayRun ? command : command.filter((a) => !a.startsWith("--allow-run")),
    cwd: root,
    env: { NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
  }).spawn();
}

async function run(args: string[]): Promise<string> {
  const output = await start(args).output();
  const stderr = new TextDecoder().decode(output.stderr);
  assert.equal(output.code, 0, stderr);
  return stderr;
}

async function outputs(dir: string): Promise<[string, string]> {
  return [
    await Deno.readTextFile(`${dir}/table3.csv`),
    await Deno.readTextFile(`${dir}/table3.md`),
  ];
}

let single: Promise<[string, string]> | null = null;
/** The single-process result, made once for the file. */
function singleProcess(work: string): Promise<[string, string]> {
  single ??= run([...EXPERIMENT, "--out", `${work}/single`, "--cache-dir", `${work}/one`])
    .then(() => outputs(`${work}/single`));
  return single;
}

const work = await Deno.makeTempDir({ prefix: "ferret-shards-" });

Deno.test("three shards over one cache, then a plain run: the single process's bytes", async () => {
  const want = await singleProcess(work);
  const cache = `${work}/shared`;
  const logs = await Promise.all(
    [0, 1, 2].map((i) => run([...EXPERIMENT, "--shard", `${i}/3`, "--cache-dir", cache])),
  );
  logs.forEach((log, i) =>
    assert.match(log, new RegExp(`shard ${i}/3 finished \\d+ of ${CELLS} cells`))
  );
  const missing = start([...EXPERIMENT, "--cache-dir", cache, "--list-missing"]);
  const listed = await missing.output();
  assert.equal(listed.code, 0);
  const remaining = new TextDecoder().decode(listed.stdout).trim().split("\n").filter(Boolean);
  const collect = await run([...EXPERIMENT, "--out", `${work}/collected`, "--cache-dir", cache]);
  // The plain run computed only what the shards left (cells whose runs were all stored late).
  assert.match(collect, new RegExp(`${CELLS} cells \\(${CELLS - remaining.length} cached\\)`));
  assert.deepEqual(await outputs(`${work}/collected`), want);
  const leftovers: string[] = [];
  for await (const entry of Deno.readDir(`${cache}/cells`)) {
    if (entry.name.endsWith(".tmp")) leftovers.push(entry.name);
  }
  assert.deepEqual(leftovers, [], "nothing half-written");
});

Deno.test("a shard killed mid-run resumes from its checkpoint when run again", async () => {
  const want = await singleProcess(work);
  const cache = `${work}/killed`;
  const shard = [...EXPERIMENT, "--shard", "0/2", "--cache-dir", cache];
  const child = start(shard);
  // Kill it (SIGKILL: no chance to clean up) once a federated run has saved a round.
  const checkpoints = `${cache}/artifacts/checkpoints/runs/smoke`;
  let killed = false;
  for (let i = 0; i < 600 && !killed; i++) {
    try {
      for await (const entry of Deno.readDir(checkpoints)) {
        if (entry.name.endsWith(".ckpt")) killed = true;
      }
    } catch {
      // not there yet
    }
    if (!killed) await new Promise((r) => setTimeout(r, 50));
  }
  child.kill("SIGKILL");
  await child.output();
  assert.ok(killed, "no checkpoint appeared");
  await run(shard);
  await run([...EXPERIMENT, "--shard", "1/2", "--cache-dir", cache]);
  await run([...EXPERIMENT, "--out", `${work}/resumed`, "--cache-dir", cache]);
  assert.deepEqual(await outputs(`${work}/resumed`), want);
});

Deno.test("--jobs 2: two jobs claiming runs side by side give the single process's bytes; a timed table runs first, alone", async () => {
  const want = await singleProcess(work);
  const cache = `${work}/jobs`;
  const log = await run([
    ...EXPERIMENT,
    "table5",
    "--jobs",
    "2",
    "--out",
    `${work}/jobs-out`,
    "--cache-dir",
    cache,
  ]);
  assert.deepEqual(await outputs(`${work}/jobs-out`), want);
  // Table 5 (seconds) ran in this process before the jobs started; both jobs made runs.
  assert.ok(log.indexOf("table5: 4 cells") < log.indexOf("table3: 2 jobs side by side"), log);
  for (const job of [1, 2]) {
    assert.match(log, new RegExp(`\\[job ${job}/2\\] table3: job finished \\d+ of ${CELLS} cells`));
  }
  assert.match(log, new RegExp(`table3: ${CELLS} cells \\(${CELLS} cached\\)`));
  // The claims are gone; the runs the jobs made carry their note, Table 5's do not.
  await assert.rejects(() => Deno.stat(`${cache}/claims`), Deno.errors.NotFound);
  const notes: string[] = [];
  for await (const entry of Deno.readDir(`${cache}/artifacts/runs/smoke`)) {
    if (entry.name.endsWith(".jobs")) notes.push(entry.name);
  }
  // Table 3's 20 runs, 4 of them Table 5's (made first, alone).
  assert.equal(notes.length, 16);
});

Deno.test("--jobs 2 where processes may not be started: a warning, and the work done in one process", async () => {
  const want = await singleProcess(work);
  const args = [
    ...EXPERIMENT,
    "--jobs",
    "2",
    "--out",
    `${work}/no-run`,
    "--cache-dir",
    `${work}/nr`,
  ];
  const output = await start(args, { mayRun: false }).output();
  const stderr = new TextDecoder().decode(output.stderr);
  assert.equal(output.code, 0, stderr);
  assert.match(
    stderr,
    /warning: cannot start the jobs: .*; what the jobs left is made here, alone/,
  );
  assert.match(stderr, new RegExp(`table3: ${CELLS} cells \\(0 cached\\)`));
  assert.deepEqual(await outputs(`${work}/no-run`), want);
});

Deno.test("shards: clean up", () => Deno.remove(work, { recursive: true }));
