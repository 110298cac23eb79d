/**
 * `deno task serve` killed with SIGKILL mid-federation and started again
 * with the same command: it resumes from its last checkpointed round with
 * the same token, the clients reconnect by themselves, and the federation
 * ends with every client's model equal to the server's.
 */

import assert from "node:assert/strict";
import { client } from "./_federation.ts";

const SERVE = new URL("../../src/cli/serve.ts", import.meta.url).pathname;

/** `deno task serve …` in `cwd`, its stdout lines as they come. */
function serve(cwd: string, args: string[]) {
  const process = new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-all", SERVE, ...args],
    cwd,
    stdout: "piped",
    stderr: "inherit",
    env: { NO_COLOR: "1" },
  }).spawn();
  const lines: string[] = [];
  const done = (async () => {
    const decoder = new TextDecoder();
    let rest = "";
    for await (const chunk of process.stdout) {
      const parts = (rest + decoder.decode(chunk)).split("\n");
      rest = parts.pop()!;
      lines.push(...parts);
    }
  })();
  const waitFor = async (pattern: RegExp, seconds = 60): Promise<RegExpMatchArray> => {
    const end = performance.now() + seconds * 1000;
    while (performance.now() < end) {
      for (const line of lines) {
        const match = line.match(pattern);
        if (match) return match;
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`serve printed no ${pattern} within ${seconds} s:\n${lines.join("\n")}`);
  };
  return { process, lines, done, waitFor };
}

Deno.test("federation: serve killed with SIGKILL resumes from its checkpoint with the same token", async () => {
  const cwd = await Deno.makeTempDir({ prefix: "ferret-serve-" });
  const args = ["--rounds", "12", "--port", "0", "--name", "restart"];
  try {
    const first = serve(cwd, args);
    const [, url, token] = await first.waitFor(/--server (\S+) --token (\S+)/);
    const server = { url: url!, token: token! };
    const clients = Promise.all([0, 1, 2].map((id) => client(server, id, 60)));
    await first.waitFor(/^round 3\/12/);
    first.process.kill("SIGKILL");
    await first.process.status;
    await first.done;
    const saved = JSON.stringify(first.lines);

    // The same command, on the same port: the clients' reconnections find it.
    const second = serve(cwd, [
      ...args.slice(0, 2),
      "--port",
      new URL(url!).port,
      "--name",
      "restart",
    ]);
    const [, again] = await second.waitFor(/--token (\S+)/);
    assert.equal(again, token, "the same token");
    const summaries = await clients;
    await second.waitFor(/^Done: 12 rounds/);
    await second.process.status;
    await second.done;

    // A round is printed, then saved: the kill may land between the two, so the restarted
    // server redoes at most the last round the first one printed.
    const roundOf = (line: string | undefined) => Number(line?.match(/^round (\d+)\/12/)?.[1]);
    const printed = roundOf(first.lines.findLast((l) => /^round \d+\/12/.test(l)));
    const resumedAt = roundOf(second.lines.find((l) => /^round \d+\/12/.test(l)));
    assert.ok(
      resumedAt === printed || resumedAt === printed + 1,
      `resumed at ${resumedAt}: ${saved}`,
    );
    assert.ok(second.lines.filter((l) => /^round \d+\/12.* 3 hashes agree/.test(l)).length >= 7);
    assert.equal(new Set(summaries.map((s) => s.hash)).size, 1);
    for (const s of summaries) assert.equal(s.trained.at(-1), 12);
  } finally {
    await Deno.remove(cwd, { recursive: true });
  }
});
