import assert from "node:assert/strict";
import { loadCodeAlpaca, loadDolly, loadGsm8k, loadNaturalInstructions } from "../../../mod.ts";
import { DataFormatError, inferCodeLanguage } from "../../../extend.ts";

async function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "ferret-data-" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

async function rejects(p: Promise<unknown>, path: string, line: number, reason: RegExp) {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(e instanceof DataFormatError, String(e));
    assert.equal(e.path, path);
    assert.equal(e.line, line, e.message);
    assert.match(e.reason, reason);
    assert.ok(e.message.startsWith(`${path}:${line}: `));
    return true;
  });
}

const niTask = (n: number, input = (i: number) => `in${i}`) =>
  JSON.stringify(
    {
      Definition: ["Copy the input.", "unused second definition"],
      Instances: Array.from(
        { length: n },
        (_, i) => ({ id: `x${i}`, input: input(i), output: [`out${i}`, "alt"] }),
      ),
    },
    null,
    2,
  );

async function niFixture(dir: string): Promise<void> {
  await Deno.mkdir(`${dir}/splits/default`, { recursive: true });
  await Deno.mkdir(`${dir}/tasks`);
  await Deno.writeTextFile(`${dir}/splits/default/train_tasks.txt`, "big\nsmall\nlong\n");
  await Deno.writeTextFile(`${dir}/splits/default/test_tasks.txt`, "t20\nt25\nt1500\n");
  await Deno.writeTextFile(`${dir}/tasks/big.json`, niTask(57));
  await Deno.writeTextFile(`${dir}/tasks/small.json`, niTask(19));
  // 22 instances, 3 with inputs of ≥ 1024 characters: 19 remain → skipped.
  await Deno.writeTextFile(
    `${dir}/tasks/long.json`,
    niTask(22, (i) => (i < 3 ? "y".repeat(1024 + i) : i === 3 ? "z".repeat(1023) : `in${i}`)),
  );
  await Deno.writeTextFile(`${dir}/tasks/t20.json`, niTask(20));
  await Deno.writeTextFile(`${dir}/tasks/t25.json`, niTask(25));
  await Deno.writeTextFile(`${dir}/tasks/t1500.json`, niTask(1500));
}

Deno.test("Natural Instructions loader applies the paper's rules", async () => {
  await withDir(async (dir) => {
    await niFixture(dir);
    const ds = await loadNaturalInstructions(dir, { seed: 1 });
    assert.deepEqual(ds.clientLabels, ["big"]);
    assert.deepEqual(ds.stats.samplesPerClient, [11]); // ⌊0.2 · 57⌋
    const outs = ds.clients[0]!.map((e) => e.output);
    assert.equal(new Set(outs).size, 11, "sampled without replacement");
    assert.ok(
      ds.clients[0]!.every((e) => e.instruction === "Copy the input." && /^out\d+$/.test(e.output)),
    );
    assert.ok(
      ds.clients[0]!.every((e) => e.output === e.input.replace("in", "out")),
      "first reference",
    );
    const perTask = (t: string) => ds.test.filter((e) => e.label === t).length;
    // ≤ 20 → all; 25 → max(20, ⌊0.5⌋) = 20; 1500 → max(20, 30) = 30.
    assert.deepEqual([perTask("t20"), perTask("t25"), perTask("t1500")], [20, 20, 30]);
    assert.deepEqual(ds.stats.dropped, {
      "instance input ≥ 1024 characters": 3,
      "test instance not in the evaluation sample": 5 + 1470,
      "training instance not in the 20% sample": 57 - 11,
      "training task with < 20 instances": 2,
    });
    assert.equal(ds.template, "ni");
    const again = await loadNaturalInstructions(dir, { seed: 1 });
    assert.equal(JSON.stringify(again), JSON.stringify(ds));
    const other = await loadNaturalInstructions(dir, { seed: 2 });
    assert.notEqual(JSON.stringify(other.clients), JSON.stringify(ds.clients));
  });
});

Deno.test("Natural Instructions loader rejects malformed tasks with path:line", async () => {
  await withDir(async (dir) => {
    await niFixture(dir);
    const path = `${dir}/tasks/big.json`;
    await Deno.writeTextFile(
      path,
      '{\n  "Definition": ["d"],\n  "Instances": [\n    {"input": "a", "output": ["b"]},\n    {"input": 5, "output": ["b"]}\n  ]\n}\n',
    );
    await rejects(loadNaturalInstructions(dir, { seed: 1 }), path, 5, /"input" must be a string/);
    await Deno.writeTextFile(
      path,
      '{\n  "Definition": ["d"],\n  "Instances": [\n    {"input": "a",\n     "output": []}\n  ]\n}',
    );
    await rejects(
      loadNaturalInstructions(dir, { seed: 1 }),
      path,
      5,
      /"output" must be a non-empty list/,
    );
    await Deno.writeTextFile(
      path,
      '{\n  "Definition": ["d"],\n  "Instances": [\n    {"input": "a" "output": ["b"]}\n  ]\n}',
    );
    await rejects(loadNaturalInstructions(dir, { seed: 1 }), path, 4, /invalid JSON|expected/);
    await Deno.writeTextFile(path, '{\n  "Instances": []\n}');
    await rejects(loadNaturalInstructions(dir, { seed: 1 }), path, 1, /missing field "Definition"/);
    await Deno.remove(path);
    await assert.rejects(loadNaturalInstructions(dir, { seed: 1 }), /Cannot read .*big\.json/);
  });
});

const CATS = [
  "open_qa",
  "brainstorming",
  "summarization",
  "classification",
  "closed_qa",
  "creative_writing",
  "general_qa",
  "information_extraction",
];

Deno.test("Dolly loader: category 7 held out, Dirichlet clients", async () => {
  await withDir(async (dir) => {
    const rows = Array.from({ length: 400 }, (_, i) => ({
      instruction: `q${i}`,
      context: i % 3 === 0 ? `ctx${i}` : "",
      response: `r${i}`,
      category: CATS[i % 8],
    }));
    await Deno.writeTextFile(
      `${dir}/databricks-dolly-15k.jsonl`,
      rows.map((r) => JSON.stringify(r)).join("\r\n") + "\r\n",
    );
    const ds = await loadDolly(dir, { seed: 5, clients: 10 });
    assert.equal(ds.test.length, 50);
    assert.ok(ds.test.every((e) => e.label === "summarization"), "code 7 of the sorted categories");
    assert.equal(ds.clients.length, 10);
    assert.ok(ds.stats.minClientSize >= 10);
    assert.equal(ds.stats.trainExamples, 350);
    const e = ds.clients.flat().find((x) => x.instruction === "q3")!;
    assert.deepEqual(e, {
      instruction: "q3",
      input: "ctx3",
      output: "r3",
      label: "classification",
    });
    assert.equal(ds.template, "dolly-code");
    const other = await loadDolly(dir, { seed: 5, clients: 10, heldOutCategory: 0 });
    assert.ok(other.test.every((x) => x.label === "brainstorming"));
  });
});

Deno.test("Dolly loader rejects malformed lines with path:line", async () => {
  await withDir(async (dir) => {
    const path = `${dir}/databricks-dolly-15k.jsonl`;
    const good = JSON.stringify({
      instruction: "a",
      context: "",
      response: "b",
      category: "open_qa",
    });
    await Deno.writeTextFile(path, `${good}\n${good}\n{"instruction": "a",\n`);
    await rejects(loadDolly(dir, { seed: 1 }), path, 3, /invalid JSON/);
    await Deno.writeTextFile(
      path,
      `${good}\n{"instruction": "a", "context": "", "category": "x"}\n`,
    );
    await rejects(loadDolly(dir, { seed: 1 }), path, 2, /missing field "response"/);
    await Deno.writeTextFile(path, `${good}\n${good.replace('"open_qa"', "7")}\n`);
    await rejects(
      loadDolly(dir, { seed: 1 }),
      path,
      2,
      /field "category" must be a string, got number/,
    );
    await Deno.writeTextFile(path, `${good}\n\n${good}\n`);
    await rejects(loadDolly(dir, { seed: 1 }), path, 2, /empty line/);
    await Deno.writeTextFile(path, `${good}\n[1]\n`);
    await rejects(loadDolly(dir, { seed: 1 }), path, 2, /expected an object, got array/);
    await Deno.writeTextFile(path, `${good}\n`);
    await rejects(loadDolly(dir, { seed: 1 }), path, 1, /Cannot hold out category code 7/);
  });
});

Deno.test("CodeAlpaca language rule", () => {
  const cases: [string, string | null][] = [
    ["Write a Python function that reverses a list.", "Python"],
    ["Create a JavaScript object with two keys.", "JavaScript"],
    ["Write a Java class named Car.", "Java"],
    ["Write a C++ program to sort an array.", "C++"],
    ["Write a C program to print a triangle.", "C"],
    ["Implement a stack in C#.", "C#"],
    ["Write a SQL query to find the oldest user.", "SQL"],
    ["Write a MySQL query to count rows.", "SQL"],
    ["Create an HTML page with a form.", "HTML"],
    ["Write a Ruby method that doubles a number.", "Ruby"],
    ["Write an x86-64 assembly routine that adds two numbers.", "x86-64 Assembly"],
    ["Translate this Python code to Java.", "ambiguous"],
    ["Sort the list in ascending order.", null],
    ["Write a PHP script that prints a date.", "PHP"],
  ];
  for (const [text, want] of cases) assert.equal(inferCodeLanguage(text, ""), want, text);
});

Deno.test("CodeAlpaca loader: exclusions counted, 10% test, one client per language", async () => {
  await withDir(async (dir) => {
    const rows = [
      ...Array.from(
        { length: 30 },
        (_, i) => ({
          instruction: `Write a Python function f${i}.`,
          input: "",
          output: "def f(): pass",
        }),
      ),
      ...Array.from(
        { length: 20 },
        (_, i) => ({ instruction: `Write a SQL query q${i}.`, input: "", output: "SELECT 1;" }),
      ),
      ...Array.from(
        { length: 9 },
        (_, i) => ({ instruction: `Sort list ${i}.`, input: "Use Ruby.", output: "x.sort" }),
      ),
      { instruction: "Write x86-64 assembly to add.", input: "", output: "add rax, rbx" },
      { instruction: "Port this Java code to Python.", input: "", output: "..." },
      { instruction: "Reverse a string.", input: "", output: "s[::-1]" },
      { instruction: "Anything", input: "", output: "x", language: "javascript" },
      { instruction: "Write a PHP echo.", input: "", output: "echo 1;" },
    ];
    await Deno.writeTextFile(`${dir}/code_alpaca_20k.json`, JSON.stringify(rows, null, 2));
    const ds = await loadCodeAlpaca(dir, { seed: 3 });
    // 30 + 20 + 9 + 1 (explicit field) = 60 kept → 6 test.
    assert.equal(ds.test.length, 6);
    assert.equal(ds.stats.trainExamples, 54);
    // Clients in CODE_LANGUAGES order; the explicit "javascript" field counts.
    assert.deepEqual(ds.clientLabels, ["JavaScript", "Python", "Ruby", "SQL"]);
    assert.deepEqual(ds.stats.samplesPerClient, [1, 27, 8, 18]);
    ds.clients.forEach((c, i) => assert.ok(c.every((e) => e.label === ds.clientLabels[i])));
    assert.deepEqual(ds.stats.dropped, {
      "language not among the clients: PHP": 1,
      "no language named": 1,
      "several languages named": 1,
      "x86-64 Assembly (excluded by the paper)": 1,
    });
  });
});

Deno.test("CodeAlpaca loader rejects malformed rows with path:line", async () => {
  await withDir(async (dir) => {
    const path = `${dir}/code_alpaca_20k.json`;
    const rows: unknown[] = [{ instruction: "a", input: "", output: "b" }, {
      instruction: "a",
      input: "",
    }];
    await Deno.writeTextFile(path, JSON.stringify(rows, null, 2));
    // Row 1 opens on line 7 of the pretty-printed file.
    await rejects(loadCodeAlpaca(dir, { seed: 1 }), path, 7, /missing field "output"/);
    await Deno.writeTextFile(
      path,
      '[\n  {"instruction": "a", "input": "", "output": "b"},\n  {"instruction": 3, "input": "", "output": "b"}\n]',
    );
    await rejects(
      loadCodeAlpaca(dir, { seed: 1 }),
      path,
      3,
      /"instruction" must be a string, got number/,
    );
    await Deno.writeTextFile(
      path,
      '[\n  {"instruction": "a",\n   "input": "" , "output": "b",}\n]',
    );
    await rejects(loadCodeAlpaca(dir, { seed: 1 }), path, 3, /property name/);
    await Deno.writeTextFile(path, '{"rows": []}');
    await rejects(loadCodeAlpaca(dir, { seed: 1 }), path, 1, /expected a list of rows, got object/);
  });
});

Deno.test("GSM8K loader: IID over 3 clients and the official test split", async () => {
  await withDir(async (dir) => {
    const row = (i: number) =>
      JSON.stringify({
        question: `What is ${i}+1?`,
        answer: `${i}+1 = <<${i}+1=${i + 1}>>${i + 1}\n#### ${i + 1}`,
      });
    await Deno.writeTextFile(
      `${dir}/train.jsonl`,
      Array.from({ length: 11 }, (_, i) => row(i)).join("\n") + "\n",
    );
    await Deno.writeTextFile(`${dir}/test.jsonl`, [row(20), row(21)].join("\n"));
    const ds = await loadGsm8k(dir, { seed: 8 });
    assert.deepEqual(ds.stats.samplesPerClient, [3, 3, 5]);
    assert.deepEqual(
      ds.clients.flat().map((e) => e.instruction).sort(),
      Array.from({ length: 11 }, (_, i) => `What is ${i}+1?`).sort(),
    );
    assert.deepEqual(ds.test.map((e) => e.input), ["", ""]);
    assert.equal(ds.template, "alpaca");
    await Deno.writeTextFile(
      `${dir}/test.jsonl`,
      `${row(1)}\n${JSON.stringify({ question: "q", answer: "no marker" })}\n`,
    );
    await rejects(loadGsm8k(dir, { seed: 8 }), `${dir}/test.jsonl`, 2, /#### <number>/);
    await Deno.writeTextFile(`${dir}/test.jsonl`, `${row(1)}\n{"question": "q", "answer": 5}\n`);
    await rejects(loadGsm8k(dir, { seed: 8 }), `${dir}/test.jsonl`, 2, /"answer" must be a string/);
  });
});
