/**
 * Every function, class and constant exported by the entry modules (mod.ts
 * and its sub-entries engine.ts, extend.ts and federation.ts) carries JSDoc with
 * an `@example` code block (which `deno test --doc` then runs). Types and
 * interfaces are documented but need no example.
 */
import assert from "node:assert/strict";

interface DocSymbol {
  name: string;
  kind?: string;
  declarations: {
    kind: string;
    jsDoc?: { doc?: string; tags?: { kind: string; doc?: string }[] };
  }[];
}

Deno.test("every exported function, class and constant of the entry modules has a runnable @example", async () => {
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["doc", "--json", "mod.ts", "engine.ts", "extend.ts", "federation.ts"],
    cwd: new URL("../../", import.meta.url).pathname,
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.equal(output.code, 0, new TextDecoder().decode(output.stderr));
  const doc = JSON.parse(new TextDecoder().decode(output.stdout));
  const symbols: DocSymbol[] = Object.values(doc.nodes as Record<string, { symbols: DocSymbol[] }>)
    .flatMap((node) => node.symbols);
  const needing = symbols.filter((s) =>
    s.declarations.some((d) => ["function", "class", "variable"].includes(d.kind))
  );
  assert.ok(needing.length > 10, `only ${needing.length} symbols found`);
  const missing = needing
    .filter((s) =>
      !s.declarations.some((d) =>
        d.jsDoc?.tags?.some((t) =>
          t.kind === "example" && /```(ts|js|typescript)?\n/.test(t.doc ?? "")
        )
      )
    )
    .map((s) => s.name);
  assert.deepEqual(missing, []);
});

Deno.test("mod.ts is a public API a person can read: at most about 60 names", async () => {
  const source = await Deno.readTextFile(new URL("../../mod.ts", import.meta.url));
  const names = [...source.matchAll(/export\s+(?:type\s+)?\{([^}]*)\}/g)]
    .flatMap((m) => m[1]!.split(",").map((n) => n.trim()).filter(Boolean));
  assert.ok(names.length > 30 && names.length <= 62, `mod.ts exports ${names.length} names`);
});
