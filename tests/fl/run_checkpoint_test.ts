import assert from "node:assert/strict";
import {
  decodeCheckpoint,
  encodeCheckpoint,
  MemoryCheckpointStore,
} from "../../src/fl/run_checkpoint.ts";
import { decodeState, encodeState } from "../../src/fl/algorithms/_state.ts";

Deno.test("a checkpoint round-trips bit for bit, non-finite numbers included", () => {
  const params = new Float32Array([1.5, -0, 3.4028234663852886e38, 1e-45, NaN, -Infinity]);
  const state = new Uint8Array([9, 8, 7]);
  const checkpoint = {
    fingerprint: "run α",
    round: 7,
    records: [{ loss: NaN, eval: Infinity, nested: { x: -Infinity, y: [1, NaN] } }],
    transfers: [{ round: 1, client: 2, direction: "up" as const, scalars: 5, seeds: 1 }],
    params,
    state,
  };
  const back = decodeCheckpoint(encodeCheckpoint(checkpoint));
  assert.equal(back.fingerprint, "run α");
  assert.equal(back.round, 7);
  assert.deepEqual(back.records, checkpoint.records);
  assert.deepEqual(back.transfers, checkpoint.transfers);
  assert.deepEqual(new Uint32Array(back.params.buffer), new Uint32Array(params.buffer));
  assert.deepEqual(back.state, state);
  const none = decodeCheckpoint(encodeCheckpoint({ ...checkpoint, state: null }));
  assert.equal(none.state, null);
});

Deno.test("a damaged checkpoint is refused with the reason", () => {
  const bytes = encodeCheckpoint({
    fingerprint: "f",
    round: 1,
    records: [],
    transfers: [],
    params: new Float32Array(4),
    state: null,
  });
  assert.throws(() => decodeCheckpoint(bytes.subarray(0, bytes.length - 4)), /expected \d+ bytes/);
  const wrong = bytes.slice();
  wrong[0] = 0;
  assert.throws(() => decodeCheckpoint(wrong), /does not start with FLCKPT01/);
});

Deno.test("the memory store keeps a copy of the latest checkpoint", async () => {
  const store = new MemoryCheckpointStore();
  assert.equal(await store.load(), null);
  const bytes = new Uint8Array([1, 2, 3]);
  await store.save(bytes);
  bytes[0] = 9;
  assert.deepEqual(await store.load(), new Uint8Array([1, 2, 3]));
  assert.equal(store.saves, 1);
});

Deno.test("algorithm state sections round-trip", () => {
  const state = decodeState(
    encodeState({ pool: new Float32Array([1, NaN, -2]), empty: new Float32Array(0) }),
  );
  assert.deepEqual([...state.keys()], ["pool", "empty"]);
  assert.ok(Number.isNaN(state.get("pool")![1]!));
  assert.equal(state.get("empty")!.length, 0);
});
