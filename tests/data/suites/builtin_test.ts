import assert from "node:assert/strict";
import { builtinSuite, RandomStream } from "../../../mod.ts";
import { finalAnswer } from "../../../engine.ts";
import { exampleBytes, inferCodeLanguage, niLikeTaskPool, SUITE_NAMES } from "../../../extend.ts";

Deno.test("built-in suites are pure functions of the seed", async (t) => {
  for (const name of SUITE_NAMES) {
    for (const scale of ["smoke", "default"] as const) {
      await t.step(`${name} ${scale}`, () => {
        const a = JSON.stringify(builtinSuite(name, scale, 11));
        assert.equal(JSON.stringify(builtinSuite(name, scale, 11)), a);
        assert.notEqual(JSON.stringify(builtinSuite(name, scale, 12)), a);
      });
    }
  }
});

Deno.test("default scale fits a tiny byte-level model", () => {
  for (const name of SUITE_NAMES) {
    const ds = builtinSuite(name, "default", 1);
    assert.ok(ds.stats.meanBytes <= 96, `${name}: mean ${ds.stats.meanBytes} bytes`);
    assert.ok(ds.stats.maxBytes <= 160, `${name}: max ${ds.stats.maxBytes} bytes`);
    assert.ok(ds.clients.length >= 3 && ds.test.length > 0);
    assert.equal(ds.template, "compact");
    assert.ok(ds.clients.every((c) => c.length > 0));
  }
});

Deno.test("NI-like: one task per client, disjoint held-out tasks", () => {
  const pool = niLikeTaskPool();
  assert.equal(new Set(pool.map((t) => t.name)).size, pool.length);
  assert.ok(pool.length >= 857);
  const ds = builtinSuite("ni-like", "default", 5);
  ds.clients.forEach((c, i) => assert.ok(c.every((e) => e.label === ds.clientLabels[i])));
  const trainTasks = new Set(ds.clientLabels);
  const testTasks = new Set(ds.test.map((e) => e.label));
  assert.equal(trainTasks.size, 48);
  assert.equal(testTasks.size, 12);
  assert.ok([...testTasks].every((t) => !trainTasks.has(t)));
  // Families are interleaved: a default run sees most of them.
  const families = new Set(pool.filter((t) => trainTasks.has(t.name)).map((t) => t.family));
  assert.ok(families.size >= 12, `${families.size} families`);
});

Deno.test("NI-like instances are correct for checkable families", () => {
  const rng = new RandomStream(1, "test/ni-like");
  let checked = 0;
  for (const t of niLikeTaskPool()) {
    const [family, k] = [t.family, Number(t.name.split("_")[1])];
    for (let i = 0; i < 5; i++) {
      const { input, output } = t.generate(rng);
      if (family === "add") assert.equal(Number(output), Number(input) + k);
      else if (family === "mul") assert.equal(Number(output), Number(input) * k);
      else if (family === "caesar") {
        const back = [...output].map((c) =>
          String.fromCharCode(97 + (c.charCodeAt(0) - 97 - k + 26) % 26)
        );
        assert.equal(back.join(""), input);
      } else if (family === "replace") {
        const [from, to] = t.name.split("_").slice(1, 3) as [string, string];
        assert.ok(input.includes(from), "the letter to replace is present");
        assert.equal(output, input.replaceAll(from, to));
      } else continue;
      checked++;
    }
  }
  assert.ok(checked > 1000);
});

Deno.test("Dolly-like: summarization held out, Dirichlet clients of ≥ 10", () => {
  for (const scale of ["smoke", "default", "paper"] as const) {
    const ds = builtinSuite("dolly-like", scale, 3);
    assert.ok(ds.test.length > 0 && ds.test.every((e) => e.label === "summarization"));
    assert.ok(ds.clients.flat().every((e) => e.label !== "summarization"));
    assert.ok(ds.stats.minClientSize >= 10);
    assert.equal(ds.stats.labels.length, 7);
    if (scale === "paper") {
      assert.equal(ds.clients.length, 200);
      assert.equal(ds.test.length, 1188);
      assert.equal(ds.stats.trainExamples, 15011 - 1188);
      assert.equal(ds.template, "dolly-code");
      assert.ok(ds.stats.meanLabelTv > 0.35, `TV ${ds.stats.meanLabelTv}`);
    }
  }
});

Deno.test("CodeAlpaca-like: 9 language clients, 10% test, Assembly excluded", () => {
  const ds = builtinSuite("code-alpaca-like", "paper", 2);
  assert.equal(ds.clients.length, 9);
  assert.equal(ds.test.length, 800);
  assert.equal(ds.stats.trainExamples, 7200);
  assert.deepEqual(ds.stats.dropped, { "x86-64 Assembly (excluded by the paper)": 160 });
  ds.clients.forEach((c, i) => {
    for (const e of c) {
      assert.equal(e.label, ds.clientLabels[i]);
      // The language is named in the instruction, so the loader's rule finds it.
      assert.equal(inferCodeLanguage(e.instruction, e.input), e.label);
    }
  });
});

Deno.test("GSM8K-like: worked answers end in a correct #### number", () => {
  const ds = builtinSuite("gsm8k-like", "default", 4);
  assert.deepEqual(ds.stats.samplesPerClient, [100, 100, 100]);
  for (const e of [...ds.clients.flat(), ...ds.test]) {
    let last = NaN;
    for (const m of e.output.matchAll(/<<(\d+)([-+*/])(\d+)=(\d+)>> \4/g)) {
      const [a, op, b, c] = [Number(m[1]), m[2], Number(m[3]), Number(m[4])];
      const want = op === "+" ? a + b : op === "-" ? a - b : op === "*" ? a * b : a / b;
      assert.equal(c, want, e.output);
      last = c;
    }
    assert.equal(finalAnswer(e.output), String(last));
  }
  const paper = builtinSuite("gsm8k-like", "paper", 4);
  assert.deepEqual([paper.stats.trainExamples, paper.test.length], [7473, 1319]);
});

Deno.test("NI-like at paper scale: 738 training and 119 test tasks", () => {
  const ds = builtinSuite("ni-like", "paper", 494);
  assert.equal(ds.clients.length, 738);
  assert.equal(new Set(ds.test.map((e) => e.label)).size, 119);
  assert.equal(ds.template, "ni");
  assert.ok(Math.min(...ds.stats.samplesPerClient) >= 20);
  assert.throws(() => builtinSuite("ni-like", "huge" as "paper", 1), RangeError);
});

Deno.test("every suite example has a non-empty instruction and output", () => {
  for (const name of SUITE_NAMES) {
    const ds = builtinSuite(name, "smoke", 9);
    for (const e of [...ds.clients.flat(), ...ds.test]) {
      assert.ok(e.instruction.length > 0 && e.output.length > 0 && exampleBytes(e) > 0);
    }
  }
});
