import assert from "node:assert/strict";
import { EXPERIMENTS } from "../../experiments/mod.ts";
import {
  BEGIN,
  END,
  experimentTable,
  normalizeTable,
  readmeSection,
} from "../../src/cli/readme.ts";
import config from "../../deno.json" with { type: "json" };

const readme = await Deno.readTextFile(new URL("../../README.md", import.meta.url));

Deno.test("the README's experiment table is the registry's (run `deno task readme`)", () => {
  assert.equal(normalizeTable(readmeSection(readme)), normalizeTable(experimentTable()));
  for (const e of EXPERIMENTS) assert.ok(readme.includes(`deno task reproduce ${e.id}\``), e.id);
  assert.ok(experimentTable().split("\n").length === EXPERIMENTS.length + 2);
});

Deno.test("the README opens with the two commands, and names every task", () => {
  const first = readme.indexOf("```sh");
  const block = readme.slice(first, readme.indexOf("```", first + 5));
  assert.match(block, /npx -y deno@2\.9\.6 task reproduce table3/);
  assert.match(block, /npx -y deno@2\.9\.6 task test/);
  for (const task of Object.keys(config.tasks)) {
    assert.ok(readme.includes(`deno task ${task}`), `README does not mention deno task ${task}`);
  }
});

Deno.test("CI runs exactly the README's test command", async () => {
  const ci = await Deno.readTextFile(new URL("../../.ci/run", import.meta.url));
  assert.match(ci, /^npx -y deno@2\.9\.6 task test /m);
  assert.ok(readme.includes(BEGIN) && readme.includes(END));
});

Deno.test("the README's library examples run against this checkout", async () => {
  const root = new URL("../../", import.meta.url);
  const section = readme.slice(readme.indexOf("## Use it as a library"));
  const blocks = [...section.matchAll(/```ts ignore\n([\s\S]*?)```/g)].map((m) => m[1]!);
  assert.equal(blocks.length, 2);
  const work = await Deno.makeTempDir();
  try {
    for (const [i, block] of blocks.entries()) {
      const code = block.replaceAll(
        "https://raw.githubusercontent.com/<owner>/ferret-repro/main/",
        root.href,
      );
      assert.notEqual(code, block, "the example imports the toolkit by URL");
      await Deno.writeTextFile(`${work}/example${i}.ts`, code);
      const output = await new Deno.Command(Deno.execPath(), {
        args: ["run", "--allow-all", "--no-lock", `example${i}.ts`],
        cwd: work,
        env: { NO_COLOR: "1" },
        stdout: "piped",
        stderr: "piped",
      }).output();
      const stderr = new TextDecoder().decode(output.stderr);
      assert.equal(output.code, 0, stderr);
      const printed = new TextDecoder().decode(output.stdout);
      assert.ok(printed.trim().length > 0, `example ${i} printed nothing`);
      if (i === 1) assert.match(printed, /3, 5, 7/);
      else assert.match(printed, /^\[ [\d.]+, [\d.]+, [\d.]+ \] \d/);
    }
  } finally {
    await Deno.remove(work, { recursive: true });
  }
});
