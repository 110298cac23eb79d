import assert from "node:assert/strict";
import { UsageError } from "../../src/cli/args.ts";
import { parseClientArgs, readClientExamples } from "../../src/cli/client.ts";
import { parseServeArgs } from "../../src/cli/serve.ts";
import { exampleSpec } from "../../src/federation/spec.ts";

const BASE = ["--server", "http://127.0.0.1:8787", "--token", "t0k3n", "--client", "1"];

Deno.test("client arguments: required flags, the data file's format, refusals", () => {
  assert.deepEqual(parseClientArgs(BASE), {
    server: "http://127.0.0.1:8787",
    token: "t0k3n",
    client: 1,
    retry: 60,
    help: false,
  });
  assert.deepEqual(parseClientArgs([...BASE, "--data", "/d/gsm8k_client1.jsonl"]).data, {
    path: "/d/gsm8k_client1.jsonl",
    format: "gsm8k",
  });
  assert.deepEqual(
    parseClientArgs([...BASE, "--data", "/d/task1391_x.json"]).data?.format,
    "natural-instructions",
  );
  assert.deepEqual(
    parseClientArgs([...BASE, "--data", "mine.jsonl", "--format", "dolly"]).data?.format,
    "dolly",
  );
  const refused: [string[], RegExp][] = [
    [["--token", "t", "--client", "0"], /without --server/],
    [[...BASE.slice(0, 4)], /without --client/],
    [["--server", "ftp://x", "--token", "t", "--client", "0"], /http:\/\/ or https:\/\//],
    [[...BASE.slice(0, 4), "--client=-1"], /integer ≥ 0/],
    [[...BASE, "--data", "mine.jsonl"], /Cannot tell the format of mine.jsonl/],
    [[...BASE, "--data", "a.json", "--format", "csv"], /choose gsm8k, dolly/],
    [[...BASE, "--format", "dolly"], /--format without --data/],
    [[...BASE, "--bogus"], /bogus/],
  ];
  for (const [argv, reason] of refused) {
    assert.throws(
      () => parseClientArgs(argv),
      (e: Error) => e instanceof UsageError && reason.test(e.message),
      argv.join(" "),
    );
  }
});

Deno.test("client data files: each format's rows become examples", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(
      `${dir}/gsm8k.jsonl`,
      JSON.stringify({ question: "1+1?", answer: "1+1=2\n#### 2" }) + "\n",
    );
    await Deno.writeTextFile(
      `${dir}/task001_x.json`,
      JSON.stringify({ Definition: ["Echo."], Instances: [{ input: "a", output: ["a"] }] }),
    );
    assert.deepEqual(await readClientExamples(`${dir}/gsm8k.jsonl`, "gsm8k"), [
      { instruction: "1+1?", input: "", output: "1+1=2\n#### 2", label: "gsm8k" },
    ]);
    assert.deepEqual(await readClientExamples(`${dir}/task001_x.json`, "natural-instructions"), [
      { instruction: "Echo.", input: "a", output: "a", label: "task001_x" },
    ]);
    await assert.rejects(() => readClientExamples(`${dir}/gsm8k.jsonl`, "dolly"), /instruction/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("serve arguments: defaults, the spec file, refusals", () => {
  const args = parseServeArgs([], () => "");
  assert.deepEqual(args.spec, exampleSpec("gsm8k-like", "ferret"));
  assert.equal(args.port, 8787);
  assert.equal(args.name, "default");
  assert.equal(parseServeArgs(["--print-spec"], () => "").printSpec, true);
  const spec = { ...exampleSpec("dolly-like", "fedavg"), rounds: 7 };
  assert.deepEqual(parseServeArgs(["--spec", "s.json"], () => JSON.stringify(spec)).spec, spec);
  const refused: [string[], RegExp][] = [
    [["--algorithm", "fedzo"], /choose ferret, ferret-paper, fedavg, fedkseed/],
    [["--suite", "mnist"], /Cannot serve suite "mnist"/],
    [["--rounds", "0"], /--rounds 0/],
    [["--port", "70000"], /port 70000/],
    [["--name", "../x"], /state folder/],
    [["--spec", "s.json"], /Cannot use the spec s.json/],
  ];
  for (const [argv, reason] of refused) {
    assert.throws(
      () => parseServeArgs(argv, () => "{}"),
      (e: Error) => e instanceof UsageError && reason.test(e.message),
      argv.join(" "),
    );
  }
});
