/**
 * Every module reachable from mod.ts must be importable by URL: relative
 * imports, `node:` built-ins and exactly pinned `npm:` packages only; no
 * bare specifiers (they need an import map) and no files read relative to
 * `import.meta.url` (they are not part of the module graph).
 */
import assert from "node:assert/strict";

const root = new URL("../../", import.meta.url);

interface InfoModule {
  specifier: string;
  dependencies?: { specifier: string }[];
}

async function moduleGraph(entry: string): Promise<InfoModule[]> {
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["info", "--json", entry],
    cwd: root.pathname,
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.equal(output.code, 0, new TextDecoder().decode(output.stderr));
  return JSON.parse(new TextDecoder().decode(output.stdout)).modules as InfoModule[];
}

export function importProblems(specifier: string): string | null {
  if (specifier.startsWith("./") || specifier.startsWith("../")) return null;
  if (specifier.startsWith("node:")) return null;
  if (/^npm:(@[a-z0-9._-]+\/)?[a-z0-9._-]+@\d+\.\d+\.\d+(-[\w.]+)?(\/[\w./-]*)?$/.test(specifier)) {
    return null;
  }
  return `"${specifier}" is not relative, node: or an exactly pinned npm: package`;
}

const FORBIDDEN = /import\.meta\.(url|dirname|filename)/;

Deno.test("the import rules themselves", () => {
  assert.equal(importProblems("./x.ts"), null);
  assert.equal(importProblems("npm:vega@6.4.0"), null);
  assert.equal(importProblems("npm:@huggingface/tokenizers@0.1.2"), null);
  assert.notEqual(importProblems("npm:vega"), null);
  assert.notEqual(importProblems("npm:vega@^6"), null);
  assert.notEqual(importProblems("vega"), null);
  assert.notEqual(importProblems("@std/assert"), null);
  assert.notEqual(importProblems("https://example.com/x.ts"), null);
  assert.ok(FORBIDDEN.test("const p = new URL('./x', import.meta.url)"));
  assert.ok(!FORBIDDEN.test("if (import.meta.main) {}"));
});

const ENTRIES = ["mod.ts", "engine.ts", "extend.ts", "federation.ts", "experiments/mod.ts"];

for (const entry of ENTRIES) {
  Deno.test(`everything reachable from ${entry} is URL-safe`, async () => {
    const modules = await moduleGraph(entry);
    const local = modules.filter((m) => m.specifier.startsWith(root.href));
    assert.ok(local.length > 5, `only ${local.length} local modules found`);
    const problems: string[] = [];
    for (const module of local) {
      const path = module.specifier.slice(root.href.length);
      for (const dependency of module.dependencies ?? []) {
        const problem = importProblems(dependency.specifier);
        if (problem) problems.push(`${path}: ${problem}`);
      }
      if (path.endsWith(".ts")) {
        const source = await Deno.readTextFile(new URL(path, root));
        const match = source.match(FORBIDDEN);
        if (match) problems.push(`${path}: uses ${match[0]}`);
      }
    }
    assert.deepEqual(problems, []);
  });
}

/** The import cycles among `modules` (each as its members, sorted), by Tarjan's algorithm. */
export function importCycles(modules: readonly InfoModule[]): string[][] {
  const edges = new Map(
    modules.map((m) => [m.specifier, (m.dependencies ?? []).map((d) => d.specifier)]),
  );
  // deno info lists dependencies by the specifier written; resolve relative ones.
  const resolved = new Map(
    [...edges].map(([from, tos]) => [
      from,
      tos.filter((to) => to.startsWith(".")).map((to) => new URL(to, from).href)
        .filter((to) => edges.has(to)),
    ]),
  );
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const cycles: string[][] = [];
  let next = 0;
  const visit = (v: string) => {
    index.set(v, next);
    low.set(v, next++);
    stack.push(v);
    onStack.add(v);
    for (const w of resolved.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) === index.get(v)) {
      const component: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        component.push(w);
      } while (w !== v);
      const selfLoop = (resolved.get(v) ?? []).includes(v);
      if (component.length > 1 || selfLoop) cycles.push(component.sort());
    }
  };
  for (const v of resolved.keys()) if (!index.has(v)) visit(v);
  return cycles;
}

Deno.test("the cycle finder finds a cycle and nothing else", () => {
  const m = (name: string, ...deps: string[]): InfoModule => ({
    specifier: `file:///r/${name}`,
    dependencies: deps.map((d) => ({ specifier: `./${d}` })),
  });
  assert.deepEqual(importCycles([m("a.ts", "b.ts"), m("b.ts", "c.ts"), m("c.ts")]), []);
  assert.deepEqual(
    importCycles([m("a.ts", "b.ts"), m("b.ts", "c.ts"), m("c.ts", "a.ts"), m("d.ts", "a.ts")]),
    [["file:///r/a.ts", "file:///r/b.ts", "file:///r/c.ts"]],
  );
});

for (const entry of ENTRIES) {
  Deno.test(`no module reachable from ${entry} is part of an import cycle`, async () => {
    const modules = (await moduleGraph(entry)).filter((m) => m.specifier.startsWith(root.href));
    const cycles = importCycles(modules).map((c) => c.map((s) => s.slice(root.href.length)));
    assert.deepEqual(cycles, []);
  });
}
