/**
 * The toolkit must work when imported by URL from any Deno project: serve
 * this repository over loopback HTTP and import mod.ts from a subprocess
 * with no config, a fresh DENO_DIR and no permissions but the import itself.
 */
import assert from "node:assert/strict";

const root = new URL("../../", import.meta.url).pathname;
const TYPES: Record<string, string> = {
  ts: "application/typescript",
  js: "application/javascript",
  json: "application/json",
  wgsl: "text/plain",
};

function serveRepository(): Deno.HttpServer<Deno.NetAddr> {
  return Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, async (request) => {
    const path = decodeURIComponent(new URL(request.url).pathname);
    if (path.includes("..")) return new Response("bad path", { status: 400 });
    try {
      const body = await Deno.readFile(`${root}${path.slice(1)}`);
      const type = TYPES[path.split(".").at(-1) ?? ""] ?? "application/octet-stream";
      return new Response(body, { headers: { "content-type": type } });
    } catch {
      return new Response("not found", { status: 404 });
    }
  });
}

Deno.test("mod.ts and engine.ts imported by URL run a real GPU kernel", async () => {
  const server = serveRepository();
  const denoDir = await Deno.makeTempDir();
  const work = await Deno.makeTempDir();
  try {
    const host = `127.0.0.1:${server.addr.port}`;
    await Deno.writeTextFile(
      `${work}/main.ts`,
      `import { Gpu, philox4x32 } from "http://${host}/mod.ts";
import { axpy, GpuVector } from "http://${host}/engine.ts";
const gpu = await Gpu.create();
const x = GpuVector.from(gpu, new Float32Array([1, 2, 3, 4, 5, 6, 7]));
const y = GpuVector.from(gpu, new Float32Array(7).fill(1));
await axpy(-2, x, y);
console.log(JSON.stringify({ y: [...await y.read()], philox: philox4x32([0, 0, 0, 0], [0, 0])[0] }));
gpu.destroy();
`,
    );
    const output = await new Deno.Command(Deno.execPath(), {
      args: ["run", "--no-config", "--no-lock", `--allow-import=${host}`, "main.ts"],
      cwd: work,
      env: {
        DENO_DIR: denoDir,
        XDG_RUNTIME_DIR: Deno.env.get("XDG_RUNTIME_DIR") ?? "/tmp",
        NO_COLOR: "1",
      },
      clearEnv: false,
      stdout: "piped",
      stderr: "piped",
    }).output();
    const stderr = new TextDecoder().decode(output.stderr);
    assert.equal(output.code, 0, stderr);
    const result = JSON.parse(new TextDecoder().decode(output.stdout).trim().split("\n").at(-1)!);
    assert.deepEqual(result, { y: [-1, -3, -5, -7, -9, -11, -13], philox: 0x6627e8d5 });
  } finally {
    await server.shutdown();
    await Deno.remove(denoDir, { recursive: true });
    await Deno.remove(work, { recursive: true });
  }
});
