/**
 * A real federation on loopback — server, Deno clients on their own
 * devices, misbehaving raw sockets — against the simulator: the same
 * numbers, every client's model hash agreeing with the server's every
 * round, the wire's bytes equal to the ledger's plus the documented
 * framing, and every protocol violation refused while the rounds go on.
 *
 * Server and clients run on one WebGPU implementation here, so the
 * federation must reproduce the simulator exactly (tolerance 0); across
 * implementations only the seed-based reconstruction is exact.
 */

import assert from "node:assert/strict";
import {
  EXAMPLE_ALGORITHMS,
  exampleSpec,
  specClientData,
  specClients,
} from "../../src/federation/spec.ts";
import {
  encodeFrame,
  MessageKind,
  ROUND_FRAMING_DOWN,
  ROUND_FRAMING_UP,
  UPLOAD_PREFIX_BYTES,
} from "../../src/federation/wire.ts";
import { MemoryCheckpointStore } from "../../src/fl/run_checkpoint.ts";
import type { Transfer } from "../../src/fl/ledger.ts";
import type { WireTransfer } from "../../src/federation/server.ts";
import { client, federate, RawSocket, simulated, startServer } from "./_federation.ts";

const CLIENTS = [0, 1, 2];

/** Σ bytes per `round/client/direction`. */
function byMessage(
  transfers: readonly (Transfer | WireTransfer)[],
  bytes: (t: Transfer | WireTransfer) => number,
): Map<string, number> {
  const out = new Map<string, number>();
  for (const t of transfers) {
    const key = `${t.round}/${t.client}/${t.direction}`;
    out.set(key, (out.get(key) ?? 0) + bytes(t));
  }
  return out;
}

for (const kind of EXAMPLE_ALGORITHMS) {
  Deno.test(`federation: ${kind} over loopback equals the simulator, hashes agree, bytes reconcile`, async () => {
    const spec = exampleSpec("gsm8k-like", kind);
    const { result, summaries, wire: log } = await federate(spec);
    const reference = await simulated(spec);

    assert.deepEqual(
      result.records.map((r) => r.evalLoss),
      reference.records.map((r) => r.evalLoss),
    );
    assert.deepEqual(result.records.length, spec.rounds);
    for (const record of result.records) {
      assert.deepEqual(record.dropped, []);
      assert.deepEqual(record.extra.hashAgreeing, CLIENTS.length);
      assert.deepEqual(record.extra.hashDisagreeing, 0);
      assert.deepEqual(record.extra.leftOut, 0);
    }
    assert.deepEqual(new Set(summaries.map((s) => s.hash)).size, 1);
    for (const s of summaries) {
      assert.deepEqual(s.trained, [1, 2, 3]);
      assert.deepEqual(s.welcomes, 1);
      assert.deepEqual(s.evalLoss, result.records.at(-1)!.evalLoss);
    }

    // Every (round, client, direction): wire bytes = the ledger's bytes + the framing.
    const ledger = byMessage(
      result.ledger.transfers,
      (t) => (t as Transfer).bytes ?? 4 * (t as Transfer).scalars + 8 * (t as Transfer).seeds,
    );
    const rounds = log.filter((t) => !t.welcome);
    const wire = byMessage(rounds, (t) => (t as WireTransfer).bytes);
    assert.deepEqual([...wire.keys()].sort(), [...ledger.keys()].sort());
    for (const [key, bytes] of ledger) {
      const framing = key.endsWith("/up") ? ROUND_FRAMING_UP : ROUND_FRAMING_DOWN;
      assert.deepEqual(wire.get(key), bytes + framing, key);
    }
    // The clients counted the same frames, and the one welcome each (in round 1).
    const total = (ts: readonly WireTransfer[]) => ts.reduce((a, t) => a + t.bytes, 0);
    for (const [id, s] of summaries.entries()) {
      const mine = rounds.filter((t) => t.client === id);
      assert.equal(s.bytes.up, total(mine.filter((t) => t.direction === "up")));
      assert.equal(s.bytes.down, total(mine.filter((t) => t.direction === "down")));
      const welcomes = log.filter((t) => t.welcome && t.client === id);
      assert.deepEqual(welcomes.map((t) => [t.round, t.bytes]), [[1, s.bytes.welcome]]);
    }
    assert.deepEqual(result.records.map((r) => r.extra.wireWelcome! > 0), [true, false, false]);
    if (kind !== "fedavg") {
      // After joining, the seed-based clients never receive weights: a round's download is
      // a small fraction of the model, which came once, in the welcome.
      for (const s of summaries) {
        assert.ok(s.bytes.down * 10 < s.bytes.welcome, `${s.bytes.down}`);
      }
    }
  });
}

/** Joins `socket` as client `id` with the right sample count. */
async function join(socket: RawSocket, token: string, id: number, spec = exampleSpec()) {
  await socket.opened;
  const samples = specClients(spec)[id]!.sequences.length;
  socket.send(encodeFrame(MessageKind.join, 0, { token, client: id, samples }));
}

Deno.test("federation: a silent client is left out at the deadline, a killed one at once; the rounds complete", async () => {
  const spec = exampleSpec("gsm8k-like", "ferret");
  // The deadline binds the live clients too: their first round compiles every pipeline, which
  // has taken over 1 s while the other test files load both cores.
  const server = await startServer(spec, { deadlineSeconds: 10 });
  const raw = new RawSocket(server);
  try {
    const running = server.run();
    await join(raw, server.token, 2, spec);
    const others = Promise.all([0, 1].map((id) => client(server, id)));
    // Round 1: client 2 is sampled and never answers; round 2: it dies when asked to train.
    await raw.next((f) => f.kind === MessageKind.train && f.round === 1);
    await raw.next((f) => f.kind === MessageKind.train && f.round === 2);
    raw.socket.close();
    const [result] = await Promise.all([running, others]);
    assert.deepEqual(result.records.map((r) => r.dropped), [[2], [2], [2]]);
    assert.deepEqual(result.records.map((r) => r.extra.leftOut), [1, 1, 1]);
    assert.deepEqual(result.records.map((r) => r.extra.hashAgreeing), [2, 2, 2]);
    assert.ok(result.records.every((r) => Number.isFinite(r.evalLoss)));
  } finally {
    await server.close();
  }
});

Deno.test("federation: unauthenticated, text, malformed and silent sockets are refused before joining", async () => {
  const spec = exampleSpec("gsm8k-like", "fedavg");
  const server = await startServer(spec, { joinSeconds: 0.5 });
  try {
    const cases: [string, (s: RawSocket) => void, RegExp][] = [
      [
        "wrong token",
        (s) => s.send(encodeFrame(MessageKind.join, 0, { token: "nope", client: 0, samples: 1 })),
        /token is not this federation's/,
      ],
      ["text", (s) => s.send("hello"), /text frames/],
      ["garbage", (s) => s.send(new Uint8Array(40).fill(7)), /does not start with FRT1/],
      [
        "no join first",
        (s) => s.send(encodeFrame(MessageKind.ack, 1, null, new Uint8Array(32))),
        /first frame must be a join, not ack/,
      ],
      [
        "client out of range",
        (s) =>
          s.send(encodeFrame(MessageKind.join, 0, { token: server.token, client: 9, samples: 1 })),
        /client 9 is not one of 0 … 2/,
      ],
      ["silent", () => {}, /no join frame within 0.5 s/],
    ];
    for (const [name, act, expected] of cases) {
      const socket = new RawSocket(server);
      await socket.opened;
      act(socket);
      const error = await socket.next((f) => f.kind === MessageKind.error, 5);
      assert.match(String(error.json.message), expected, name);
      assert.deepEqual((await socket.closed).code, 4401, name);
    }
    const spec401 = await fetch(new URL("/spec", server.url));
    assert.deepEqual(spec401.status, 401);
    await spec401.body?.cancel();
    assert.deepEqual(server.joined, []);

    // A join the server refuses ends a Deno client at once, with the server's reason.
    const earlier = new RawSocket(server);
    await earlier.opened;
    earlier.send(encodeFrame(MessageKind.join, 0, { token: server.token, client: 1, samples: 1 }));
    const joined = (): readonly number[] => server.joined;
    while (!joined().includes(1)) await new Promise((r) => setTimeout(r, 20));
    earlier.socket.close();
    const started = performance.now();
    await assert.rejects(
      () => client(server, 1, 60),
      /refused client 1: .*client 1 joined before with 1 sequences, now \d+/,
    );
    assert.ok(performance.now() - started < 20_000, "no waiting out the retries");
  } finally {
    await server.close();
  }
});

Deno.test("federation: a joined client's malformed, oversized, out-of-round and wrong messages are refused; the rounds go on", async () => {
  const spec = exampleSpec("gsm8k-like", "ferret");
  const server = await startServer(spec, { deadlineSeconds: 20 });
  const raw = new RawSocket(server);
  try {
    const running = server.run();
    await join(raw, server.token, 2, spec);
    const others = Promise.all([0, 1].map((id) => client(server, id)));
    const errors: string[] = [];
    const error = async () => {
      const frame = await raw.next((f) => f.kind === MessageKind.error);
      errors.push(String(frame.json.message));
      return errors.at(-1)!;
    };
    raw.send(new Uint8Array(40).fill(7));
    assert.match(await error(), /does not start with FRT1/);
    raw.send(new Uint8Array(1 << 18));
    assert.match(await error(), /exceeds/);
    raw.send(encodeFrame(MessageKind.upload, 7, null, new Uint8Array(16)));
    assert.match(await error(), /no upload of round 7 is awaited/);
    raw.send(encodeFrame(MessageKind.welcome, 1, {}));
    assert.match(await error(), /sends upload and ack frames, not welcome/);

    // Round 1: an upload whose coordinates do not come in pairs; round 2: a position twice.
    await raw.next((f) => f.kind === MessageKind.train && f.round === 1);
    raw.send(encodeFrame(MessageKind.upload, 1, null, new Uint8Array(UPLOAD_PREFIX_BYTES + 12)));
    assert.match(
      await error(),
      /Cannot accept the upload: a Ferret upload is 8 bytes per coordinate/,
    );
    // Its ack of round 1 is a wrong hash: refused, and the whole model comes again.
    await raw.next((f) => f.kind === MessageKind.broadcast && f.round === 1);
    raw.send(encodeFrame(MessageKind.ack, 1, null, new Uint8Array(32)));
    assert.match(await error(), /hash 0{64} is not the server's/);
    await raw.next((f) => f.kind === MessageKind.welcome && f.round === 1);
    await raw.next((f) => f.kind === MessageKind.train && f.round === 2);
    const twice = new Uint8Array(UPLOAD_PREFIX_BYTES + 16);
    new Uint32Array(twice.buffer, UPLOAD_PREFIX_BYTES, 2).set([3, 3]);
    raw.send(encodeFrame(MessageKind.upload, 2, null, twice));
    assert.match(await error(), /position 3 is sent twice/);
    raw.socket.close();
    // Mid-federation, a socket with a stolen client index but no token is refused too.
    const intruder = new RawSocket(server);
    await intruder.opened;
    intruder.send(encodeFrame(MessageKind.join, 0, { token: "guess", client: 0, samples: 8 }));
    const refusal = await intruder.next((f) => f.kind === MessageKind.error);
    assert.match(String(refusal.json.message), /token is not this federation's/);
    assert.equal((await intruder.closed).code, 4401);

    const [result] = await Promise.all([running, others]);
    assert.deepEqual(result.records.map((r) => r.dropped), [[2], [2], [2]]);
    assert.deepEqual(result.records[0]!.extra.hashDisagreeing, 1);
    assert.deepEqual(result.records.map((r) => r.extra.hashAgreeing), [2, 2, 2]);
    assert.ok(result.records.every((r) => Number.isFinite(r.evalLoss)));
  } finally {
    await server.close();
  }
});

Deno.test("federation: a killed server restarts from its last finished round and ends as if never stopped", async () => {
  const spec = exampleSpec("gsm8k-like", "ferret");
  const checkpoint = new MemoryCheckpointStore();
  const first = await startServer(spec, {
    checkpoint,
    // Dies after recording round 2, before saving it: round 1 is the last one saved.
    onRound: (record) => {
      if (record.round === 2) throw new Error("killed");
    },
  });
  const port = Number(new URL(first.url).port);
  const clients = Promise.all(CLIENTS.map((id) => client(first, id, 30)));
  const stopped = await first.run().then(() => null, (error: Error) => error.message);
  assert.deepEqual(stopped, "killed");
  await first.close();
  assert.deepEqual(checkpoint.saves, 1);

  const second = await startServer(spec, { checkpoint, port, token: first.token });
  try {
    const result = await second.run();
    const summaries = await clients;
    const reference = await simulated(spec);
    assert.deepEqual(
      result.records.map((r) => r.evalLoss),
      reference.records.map((r) => r.evalLoss),
    );
    assert.deepEqual(result.records.slice(1).map((r) => r.extra.hashAgreeing), [3, 3]);
    for (const s of summaries) {
      assert.deepEqual(s.trained, [1, 2, 2, 3]); // round 2 again, after the restart
      assert.deepEqual(s.welcomes, 2);
    }
    assert.deepEqual(new Set(summaries.map((s) => s.hash)).size, 1);
  } finally {
    await second.close();
  }
});

Deno.test("federation: a client training on its own examples computes what the simulator does with them", async () => {
  const spec = exampleSpec("gsm8k-like", "fedavg");
  const own = Array.from({ length: 5 }, (_, i) => ({
    instruction: `What is ${i} plus ${i + 2}?`,
    input: "",
    output: `${i} + ${i + 2} = ${2 * i + 2}\n#### ${2 * i + 2}`,
    label: "mine",
  }));
  const { result, summaries } = await federate(spec, { 2: own });
  const clients = specClients(spec);
  clients[2] = specClientData(spec, 2, own);
  const reference = await simulated(spec, clients);
  const losses = result.records.map((r) => r.evalLoss);
  assert.deepEqual(losses, reference.records.map((r) => r.evalLoss));
  assert.notDeepEqual(losses, (await simulated(spec)).records.map((r) => r.evalLoss));
  assert.equal(new Set(summaries.map((s) => s.hash)).size, 1);
});

Deno.test("federation: with a third of the clients per round, every client still follows every broadcast", async () => {
  const spec = { ...exampleSpec("gsm8k-like", "ferret"), fraction: 0.34 };
  const { result, summaries } = await federate(spec);
  const reference = await simulated(spec);
  assert.deepEqual(
    result.records.map((r) => r.evalLoss),
    reference.records.map((r) => r.evalLoss),
  );
  assert.deepEqual(result.records.map((r) => r.clients), reference.records.map((r) => r.clients));
  assert.ok(result.records.every((r) => r.clients.length === 1));
  // The clients not sampled receive the broadcast too (beyond the ledger, which counts the
  // sampled client's), and their hashes agree.
  assert.deepEqual(result.records.map((r) => r.extra.hashAgreeing), [3, 3, 3]);
  const trained = summaries.flatMap((s) => s.trained).sort();
  assert.deepEqual(trained, [1, 2, 3]);
  assert.equal(new Set(summaries.map((s) => s.hash)).size, 1);
});
