/**
 * The wire format: frames round-trip and malformed ones are refused by
 * name; each codec carries its algorithm's messages exactly, in the
 * ledger's bytes, and refuses payloads that could corrupt an aggregate.
 */

import assert from "node:assert/strict";
import { Gpu } from "../../src/gpu/gpu.ts";
import { GpuVector } from "../../src/gpu/vector.ts";
import { codecFor } from "../../src/federation/codecs.ts";
import {
  decodeFrame,
  encodeFrame,
  HEADER_BYTES,
  MessageKind,
  WireError,
} from "../../src/federation/wire.ts";
import { fedAvg } from "../../src/fl/algorithms/fed_avg.ts";
import type { ModelUpdate } from "../../src/fl/algorithms/model_average.ts";
import { ferretOfficial, type OfficialMessage } from "../../src/fl/algorithms/ferret_official.ts";
import { fedKSeed } from "../../src/fl/algorithms/fed_kseed.ts";
import { ferretPaper } from "../../src/fl/algorithms/ferret_paper.ts";
import { roundInfo, runStreams } from "../../src/fl/simulator.ts";
import { tinyModel } from "../fl/_fixtures.ts";

Deno.test("wire: frames round-trip; malformed frames are refused with the reason", () => {
  const payload = new Uint8Array([1, 2, 3, 4, 5]);
  const frame = encodeFrame(MessageKind.welcome, 7, { round: 7, note: "é" }, payload);
  const back = decodeFrame(frame);
  assert.equal(back.kind, MessageKind.welcome);
  assert.equal(back.round, 7);
  assert.deepEqual(back.json, { round: 7, note: "é" });
  assert.deepEqual(back.payload, payload);
  assert.equal((frame.length - payload.length) % 4, 0, "the payload starts 4-aligned");
  assert.equal(encodeFrame(MessageKind.train, 3).length, HEADER_BYTES);

  const broken = (edit: (bytes: Uint8Array) => void) => {
    const bytes = encodeFrame(MessageKind.error, 1, { message: "x" });
    edit(bytes);
    return bytes;
  };
  // A frame whose JSON is `text` (encodeFrame only writes objects).
  const withJson = (text: string) => {
    const json = new TextEncoder().encode(text);
    const bytes = new Uint8Array(HEADER_BYTES + json.length);
    bytes.set(encodeFrame(MessageKind.error, 1));
    new DataView(bytes.buffer).setUint32(12, json.length, true);
    bytes.set(json, HEADER_BYTES);
    return bytes;
  };
  const cases: [Uint8Array, RegExp][] = [
    [new Uint8Array(8), /shorter than the 16-byte header/],
    [broken((b) => (b[0] = 0)), /does not start with FRT1/],
    [broken((b) => (b[4] = 42)), /unknown message kind 42/],
    [broken((b) => (b[6] = 1)), /reserved bytes/],
    [broken((b) => (b[12] = 200)), /overruns/],
    [withJson("{oops"), /does not parse/],
    [withJson("[1,2]"), /not an object/],
  ];
  for (const [bytes, reason] of cases) {
    assert.throws(
      () => decodeFrame(bytes),
      (e: Error) => e instanceof WireError && reason.test(e.message),
      String(reason),
    );
  }
});

Deno.test("wire: Ferret's upload and broadcast round-trip in the ledger's bytes; bad ones are refused", async () => {
  const gpu = await Gpu.create();
  const model = await tinyModel(gpu);
  const local = { steps: 1, optimizer: { kind: "sgd" as const, lr: 0.1 } };
  const server = ferretOfficial({ K: 8, local, globalLr: 2 });
  const other = ferretOfficial({ K: 8, local, globalLr: 2 });
  try {
    await server.setup(model, runStreams(5));
    const codec = codecFor(server, model);
    const L = server.blocks.length;
    const counts = Array.from({ length: L }, (_, l) => 1 + (l % 3));
    const n = counts.reduce((a, b) => a + b, 0);
    const indices = new Uint32Array(n);
    let at = 0;
    for (const count of counts) for (let j = 0; j < count; j++) indices[at++] = (7 - 2 * j) % 8;
    const message: OfficialMessage = {
      client: 4,
      counts,
      indices,
      coordinates: Float32Array.from({ length: n }, (_, i) => i / 3 - 2),
    };
    const bytes = await codec.encodeUpload(message);
    assert.equal(bytes.length, server.uploadSize(message).bytes, "8 bytes per coordinate");
    assert.deepEqual(codec.decodeUpload(bytes, 4, 0), message);

    const refused = (
      edit: (positions: Uint32Array, values: Float32Array) => void,
      reason: RegExp,
    ) => {
      const copy = bytes.slice();
      edit(new Uint32Array(copy.buffer, 0, n), new Float32Array(copy.buffer, 4 * n, n));
      assert.throws(() => codec.decodeUpload(copy, 4, 0), reason);
    };
    refused((p) => (p[0] = L * 8), /outside the pool/);
    refused((p) => (p[n - 1] = 0), /not block by block/);
    refused((p) => (p[1] = p[0]!), /sent twice/);
    refused((_, v) => (v[2] = NaN), /non-finite value at 2/);
    assert.throws(() => codec.decodeUpload(bytes.subarray(0, 12), 4, 0), /8 bytes per coordinate/);

    // The broadcast: a client that applies the bytes gets the server's model bit for bit.
    const pool = new Float32Array(L * 8);
    pool[3] = 0.5;
    pool[8 * (L - 1) + 7] = -1.25;
    const round = roundInfo(5, 2, 4);
    const download = server.downloadOf(pool, round);
    const target = model.trainable.params.vector;
    const start = await target.read();
    const wire = await codec.encodeBroadcast(download, target);
    assert.equal(wire.length, server.broadcastSize(download).bytes, "8 + 8 per non-zero");
    await server.apply(download, target, round);
    const expected = await target.read();
    target.write(start);
    await codec.applyBroadcast(wire, target, round);
    assert.deepEqual(await target.read(), expected);
    assert.notDeepEqual(expected, start);

    // A client whose pool was drawn from another run seed is told so.
    await other.setup(model, runStreams(6));
    await assert.rejects(
      () => codecFor(other, model).applyBroadcast(wire, target, round),
      /seed pool .* is not this client's/,
    );
    const outside = wire.slice();
    new Uint32Array(outside.buffer)[2] = L * 8;
    await assert.rejects(() => codec.applyBroadcast(outside, target, round), /outside/);
  } finally {
    server.destroy();
    other.destroy();
    model.destroy();
    gpu.destroy();
  }
});

Deno.test("wire: model averaging sends the parameters without the layout's padding; bad updates are refused", async () => {
  const gpu = await Gpu.create();
  const model = await tinyModel(gpu);
  const algorithm = fedAvg({ local: { steps: 1, optimizer: { kind: "sgd", lr: 0.1 } } });
  try {
    await algorithm.setup(model);
    const codec = codecFor(algorithm, model);
    const layout = model.trainable.params.layout;
    const values = new Float32Array(layout.length);
    for (const t of layout.tensors) {
      for (let i = 0; i < t.numel; i++) values[t.offset + i] = Math.sin(t.offset + i);
    }
    const delta = GpuVector.from(gpu, values);
    const bytes = await codec.encodeUpload({ delta });
    assert.equal(bytes.length, 4 * layout.numParameters);
    assert.equal(bytes.length, 4 * algorithm.uploadSize().scalars);
    const received = codec.decodeUpload(bytes, 0, 1) as ModelUpdate;
    assert.deepEqual(await received.delta.read(), values);
    assert.throws(() => codec.decodeUpload(bytes.subarray(4), 0, 0), /bytes, this one/);
    const bad = bytes.slice();
    new Float32Array(bad.buffer)[10] = Infinity;
    assert.throws(() => codec.decodeUpload(bad, 0, 0), /non-finite value at 10/);
    const pro = fedKSeed({ K: 4, steps: 1, sampling: "pro" });
    await pro.setup(model, runStreams(0));
    assert.throws(() => codecFor(pro, model), /Cannot federate FedKSeed with pro sampling/);
    pro.destroy();
    delta.destroy();
    codec.destroy();
  } finally {
    algorithm.destroy();
    model.destroy();
    gpu.destroy();
  }
});

Deno.test("wire: FedKSeed's steps and Ferret paper mode's messages round-trip; bad ones are refused", async () => {
  const gpu = await Gpu.create();
  const model = await tinyModel(gpu);
  const kseed = fedKSeed({ K: 8, steps: 4 });
  const paper = ferretPaper({ K: 32, local: { steps: 1, optimizer: { kind: "sgd", lr: 0.1 } } });
  try {
    await kseed.setup(model, runStreams(1));
    const codec = codecFor(kseed, model);
    const upload = {
      accumulator: new Float64Array(8),
      seedIndices: [3, 5, 3, 0],
      g: new Float32Array([0.5, -1, 0.25, 0]),
      skipped: new Uint8Array([0, 0, 0, 1]),
    };
    upload.accumulator[3] = 0.75;
    upload.accumulator[5] = -1;
    const bytes = await codec.encodeUpload(upload);
    assert.equal(bytes.length, kseed.uploadSize(upload).bytes, "8 bytes per step");
    assert.deepEqual(codec.decodeUpload(bytes, 0, 0), upload);
    const words = (edit: (w: Uint32Array, g: Float32Array) => void) => {
      const copy = bytes.slice();
      edit(new Uint32Array(copy.buffer, 0, 4), new Float32Array(copy.buffer, 16, 4));
      return copy;
    };
    assert.throws(() => codec.decodeUpload(words((w) => (w[1] = 8)), 0, 0), /candidate 8 ≥ K = 8/);
    assert.throws(() => codec.decodeUpload(words((_, g) => (g[0] = NaN)), 0, 0), /step 0's g/);
    // A skipped step's g is not added, whatever it holds.
    const skippedNaN = codec.decodeUpload(words((_, g) => (g[3] = NaN)), 0, 0) as typeof upload;
    assert.deepEqual(skippedNaN.accumulator, upload.accumulator);
    assert.throws(() => codec.decodeUpload(bytes.subarray(8), 0, 0), /8 bytes per step/);

    await paper.setup(model);
    const seeds = codecFor(paper, model);
    const L = paper.blocks.length;
    const counts = Array.from({ length: L }, (_, l) => (l < 32 - L ? 2 : 1));
    const message = {
      client: 2,
      seed: 2 ** 40 + 12345,
      counts,
      coordinates: Float32Array.from({ length: 32 }, (_, i) => i / 7),
    };
    const sent = await seeds.encodeUpload(message);
    assert.equal(sent.length, paper.uploadSize(message).bytes);
    assert.deepEqual(seeds.decodeUpload(sent, 2, 0), message);
    const longer = new Uint8Array(sent.length + 4);
    longer.set(sent);
    assert.throws(() => seeds.decodeUpload(longer, 2, 0), /at most \d+ bytes, this one \d+/);
    assert.throws(() => seeds.decodeUpload(sent.subarray(0, sent.length - 4), 2, 0), /cut short/);
    const tooMany = sent.slice();
    new Uint32Array(tooMany.buffer, 8, L)[0] = 40;
    assert.throws(() => seeds.decodeUpload(tooMany, 2, 0), /exceeds K = 32/);
    const download = { messages: [message, { ...message, seed: 7 }], weights: [0.25, 0.75] };
    const wire = await seeds.encodeBroadcast(download, model.trainable.params.vector);
    assert.equal(wire.length, paper.broadcastSize(download).bytes, "16 + 4L + 4n per message");
  } finally {
    kseed.destroy();
    paper.destroy();
    model.destroy();
    gpu.destroy();
  }
});
