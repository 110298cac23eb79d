/**
 * A federation with a browser tab in it: the server, two Deno clients and
 * one headless Chromium client (its own WebGPU, SwiftShader on a CPU) run
 * Ferret (both modes), FedAvg and FedKSeed. For Ferret and FedAvg every
 * round every client's model hash agrees with the server's — across two
 * WebGPU implementations, because Ferret's seed-based reconstruction is
 * bit-exact and FedAvg sends the model itself; FedKSeed's is not (see
 * EXACT), and the tab is resynced instead. The wire's bytes are the
 * ledger's plus the framing, and
 * the final eval loss is the simulator's within 10⁻⁴ relative (the tab's
 * local training rounds differently from lavapipe's; measured ≈ 10⁻⁸).
 *
 * Needs Debian's `chromium` (or `$CHROMIUM`); `.ci/run` installs it and sets
 * FERRET_BROWSER_TEST=required, so there a missing browser fails the test.
 * Elsewhere the test is skipped without one.
 */

import assert from "node:assert/strict";
import { bundleBrowserClient } from "../../src/federation/bundle.ts";
import {
  EXAMPLE_ALGORITHMS,
  type ExampleAlgorithm,
  exampleSpec,
} from "../../src/federation/spec.ts";
import { ROUND_FRAMING_DOWN, ROUND_FRAMING_UP } from "../../src/federation/wire.ts";
import { client, simulated, startServer } from "./_federation.ts";

const BROWSER = Deno.env.get("CHROMIUM") ?? "chromium";
const REQUIRED = Deno.env.get("FERRET_BROWSER_TEST") === "required";

function browserFound(): boolean {
  try {
    return new Deno.Command(BROWSER, { args: ["--version"], stdout: "null", stderr: "null" })
      .outputSync().success;
  } catch {
    return false;
  }
}

const found = browserFound();

/** Seconds the tab has to load, find its WebGPU adapter and join. */
const JOIN_SECONDS = 120;
if (REQUIRED && !found) throw new Error(`Cannot run the browser test: ${BROWSER} is not installed`);

/** A headless Chromium tab on `url`, until killed; its console goes to stderr. */
async function openTab(url: string) {
  const profile = await Deno.makeTempDir({ prefix: "ferret-chromium-" });
  const process = new Deno.Command(BROWSER, {
    args: [
      "--headless=new",
      "--no-sandbox",
      "--enable-unsafe-webgpu",
      "--enable-logging=stderr",
      `--user-data-dir=${profile}`,
      url,
    ],
    stdout: "null",
    stderr: "piped",
  }).spawn();
  let closed: Promise<string> | null = null;
  const close = async (): Promise<string> => {
    try {
      process.kill("SIGKILL");
    } catch { /* already gone */ }
    const { stderr } = await process.output();
    await Deno.remove(profile, { recursive: true }).catch(() => {});
    return new TextDecoder().decode(stderr).split("\n").filter((l) => l.includes("CONSOLE"))
      .join("\n");
  };
  /** Closes the tab (once) and returns its console lines. */
  return { close: () => (closed ??= close()) };
}

const script = await bundleBrowserClient();

/**
 * Whether the tab's model must match the server's bit for bit after every
 * broadcast: FedKSeed's directions are Box–Muller Gaussians (log, cos, sin,
 * whose precision WGSL leaves to the implementation), so on another WebGPU
 * its replay differs in the last bits; the hash check catches it and the
 * server sends the tab the whole model again, every round.
 */
const EXACT: Record<ExampleAlgorithm, boolean> = {
  "ferret": true,
  "ferret-paper": true,
  "fedavg": true,
  "fedkseed": false,
};

for (const kind of EXAMPLE_ALGORITHMS) {
  Deno.test({
    name: `federation: ${kind} with two Deno clients and a Chromium tab ${
      EXACT[kind] ? "agrees every round" : "is resynced when its replay differs"
    }`,
    ignore: !found,
    async fn() {
      const spec = exampleSpec("gsm8k-like", kind);
      const server = await startServer(spec, { browserClient: script, deadlineSeconds: 120 });
      const tab = await openTab(`${server.url}/?token=${server.token}&client=2`);
      try {
        const page = await fetch(server.url);
        assert.match(await page.text(), /<script type="module" src="\/client.js">/);
        const running = server.run();
        const deno = Promise.all([0, 1].map((id) => client(server, id)));
        // A tab that cannot start (no WebGPU adapter, a script error) would leave the server
        // waiting for it: fail with the tab's console instead.
        const started = performance.now();
        while (!server.joined.includes(2)) {
          if (performance.now() - started > JOIN_SECONDS * 1000) {
            const console = await tab.close();
            deno.catch(() => {}); // they fail too, once the server is gone
            await server.close();
            throw new Error(`The Chromium tab did not join within ${JOIN_SECONDS} s:\n${console}`);
          }
          await new Promise((r) => setTimeout(r, 100));
        }
        const summaries = await deno;
        const result = await running;
        const console = await tab.close();
        for (const record of result.records) {
          assert.deepEqual(record.dropped, [], console);
          assert.equal(record.extra.hashAgreeing, EXACT[kind] ? 3 : 2, console);
          assert.equal(record.extra.hashDisagreeing, EXACT[kind] ? 0 : 1);
        }
        // Whole models: one welcome per client at joining, then only the tab's resyncs.
        const welcomes = server.wire.filter((t) => t.welcome).map((t) => [t.round, t.client]);
        const resyncs = EXACT[kind] ? [] : [[2, 2], [3, 2]];
        assert.deepEqual(welcomes.sort(), [[1, 0], [1, 1], [1, 2], ...resyncs].sort());
        assert.equal(summaries[0]!.hash, summaries[1]!.hash);

        const reference = await simulated(spec);
        const final = result.records.at(-1)!.evalLoss!;
        const expected = reference.records.at(-1)!.evalLoss!;
        assert.ok(Math.abs(final - expected) <= 1e-4 * expected, `${final} vs ${expected}`);

        // The tab's frames: the ledger's bytes plus the framing, every round.
        for (const round of [1, 2, 3]) {
          const ledger = result.ledger.transfers.filter((t) => t.round === round && t.client === 2);
          const wire = server.wire.filter((t) => t.round === round && t.client === 2 && !t.welcome);
          for (const direction of ["up", "down"] as const) {
            const counted = ledger.filter((t) => t.direction === direction)
              .reduce((s, t) => s + (t.bytes ?? 4 * t.scalars + 8 * t.seeds), 0);
            const sent = wire.filter((t) => t.direction === direction).reduce(
              (s, t) => s + t.bytes,
              0,
            );
            const framing = direction === "up" ? ROUND_FRAMING_UP : ROUND_FRAMING_DOWN;
            assert.equal(sent, counted + framing, `round ${round} ${direction}`);
          }
        }
      } finally {
        await tab.close();
        await server.close();
      }
    },
  });
}

Deno.test("federation: the browser client's script is one module with no Deno or node: import", () => {
  assert.ok(script.length > 10_000);
  assert.doesNotMatch(script, /from "node:/);
  assert.doesNotMatch(script, /^import /m);
  assert.match(script, /navigator\.gpu/);
});
