/**
 * Per-round checkpoints of a federated run, so an interrupted run resumes
 * to the identical result (DESIGN.md §6–7): after every round the simulator
 * saves the global trainable vector (f32, bit-exact), the algorithm's server
 * state, the round records and the ledger's transfers. Everything random is
 * a pure function of (run seed, round, name), so nothing else is needed.
 *
 * Where checkpoints live is injected: a {@linkcode CheckpointStore} (the CLI
 * writes files atomically; tests keep them in memory).
 *
 * Wire format (little-endian): the 8 bytes `FLCKPT01`, a u32 header length
 * h, h bytes of UTF-8 JSON header (non-finite numbers written as
 * `{"~f": "NaN" | "Infinity" | "-Infinity"}`), zero padding to a multiple
 * of 4, the parameters (`header.params` f32 values), then the algorithm
 * state (`header.state` bytes, absent when −1).
 *
 * @module
 */

import type { Transfer } from "./ledger.ts";

/** Where a run's latest checkpoint is kept. */
export interface CheckpointStore {
  /** The latest checkpoint, or null when none was saved. */
  load(): Promise<Uint8Array | null>;
  /** Replaces the latest checkpoint (atomically, for stores that write files). */
  save(checkpoint: Uint8Array): Promise<void>;
}

/**
 * A {@linkcode CheckpointStore} in memory.
 *
 * @example
 * ```ts
 * import { MemoryCheckpointStore } from "./run_checkpoint.ts";
 * const store = new MemoryCheckpointStore();
 * await store.save(new Uint8Array([1, 2]));
 * console.log(await store.load(), store.saves); // Uint8Array(2) [ 1, 2 ] 1
 * ```
 */
export class MemoryCheckpointStore implements CheckpointStore {
  #bytes: Uint8Array | null = null;
  /** How many times a checkpoint was saved. */
  saves = 0;

  /** The latest checkpoint (a copy), or null. */
  load(): Promise<Uint8Array | null> {
    return Promise.resolve(this.#bytes ? this.#bytes.slice() : null);
  }

  /** Keeps a copy of `checkpoint`. */
  save(checkpoint: Uint8Array): Promise<void> {
    this.#bytes = checkpoint.slice();
    this.saves++;
    return Promise.resolve();
  }
}

/** The state of a run after a completed round. */
export interface RunCheckpoint {
  /** Identifies the run (algorithm, options, seed, rounds, data); a resume must match it. */
  readonly fingerprint: string;
  /** The last completed round. */
  readonly round: number;
  /** The round records so far (JSON-serialisable). */
  readonly records: readonly unknown[];
  /** Every transfer recorded so far. */
  readonly transfers: readonly Transfer[];
  /** The global trainable vector (its full length, gaps included). */
  readonly params: Float32Array;
  /** The algorithm's server state, or null. */
  readonly state: Uint8Array | null;
}

const MAGIC = "FLCKPT01";

function replacer(_key: string, value: unknown): unknown {
  return typeof value === "number" && !Number.isFinite(value) ? { "~f": String(value) } : value;
}

function reviver(_key: string, value: unknown): unknown {
  if (value && typeof value === "object" && !Array.isArray(value)) {
    const keys = Object.keys(value);
    const f = (value as Record<string, unknown>)["~f"];
    if (keys.length === 1 && typeof f === "string") return Number(f);
  }
  return value;
}

/**
 * Serialises a checkpoint.
 *
 * @example
 * ```ts
 * import { decodeCheckpoint, encodeCheckpoint } from "./run_checkpoint.ts";
 * const bytes = encodeCheckpoint({
 *   fingerprint: "run", round: 2, records: [{ loss: NaN }], transfers: [],
 *   params: new Float32Array([1.5, -2]), state: null,
 * });
 * const back = decodeCheckpoint(bytes);
 * console.log(back.round, back.records, back.params); // 2 [ { loss: NaN } ] Float32Array(2) [ 1.5, -2 ]
 * ```
 */
export function encodeCheckpoint(checkpoint: RunCheckpoint): Uint8Array {
  const header = new TextEncoder().encode(JSON.stringify({
    fingerprint: checkpoint.fingerprint,
    round: checkpoint.round,
    records: checkpoint.records,
    transfers: checkpoint.transfers,
    params: checkpoint.params.length,
    state: checkpoint.state ? checkpoint.state.length : -1,
  }, replacer));
  const headerEnd = Math.ceil((12 + header.length) / 4) * 4;
  const paramBytes = checkpoint.params.length * 4;
  const stateBytes = checkpoint.state?.length ?? 0;
  const out = new Uint8Array(headerEnd + paramBytes + stateBytes);
  out.set(new TextEncoder().encode(MAGIC), 0);
  new DataView(out.buffer).setUint32(8, header.length, true);
  out.set(header, 12);
  const params = new Uint8Array(paramBytes);
  const view = new DataView(params.buffer);
  checkpoint.params.forEach((v, i) => view.setFloat32(i * 4, v, true));
  out.set(params, headerEnd);
  if (checkpoint.state) out.set(checkpoint.state, headerEnd + paramBytes);
  return out;
}

/**
 * Reads what {@linkcode encodeCheckpoint} wrote; throws a TypeError on anything else.
 *
 * @example
 * ```ts
 * import { decodeCheckpoint } from "./run_checkpoint.ts";
 * try {
 *   decodeCheckpoint(new Uint8Array(4));
 * } catch (error) {
 *   console.log((error as Error).message); // Cannot read a checkpoint: it does not start with FLCKPT01
 * }
 * ```
 */
export function decodeCheckpoint(bytes: Uint8Array): RunCheckpoint {
  const fail = (reason: string): never => {
    throw new TypeError(`Cannot read a checkpoint: ${reason}`);
  };
  if (bytes.length < 12 || new TextDecoder().decode(bytes.subarray(0, 8)) !== MAGIC) {
    fail(`it does not start with ${MAGIC}`);
  }
  const data = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLength = data.getUint32(8, true);
  if (12 + headerLength > bytes.length) fail(`its header of ${headerLength} bytes is cut short`);
  let header: {
    fingerprint: string;
    round: number;
    records: unknown[];
    transfers: Transfer[];
    params: number;
    state: number;
  };
  try {
    header = JSON.parse(new TextDecoder().decode(bytes.subarray(12, 12 + headerLength)), reviver);
  } catch (error) {
    return fail(`its header is not JSON (${error})`);
  }
  const headerEnd = Math.ceil((12 + headerLength) / 4) * 4;
  const stateLength = Math.max(0, header.state);
  if (headerEnd + header.params * 4 + stateLength !== bytes.length) {
    fail(
      `expected ${headerEnd + header.params * 4 + stateLength} bytes for ${header.params} ` +
        `parameters and ${stateLength} bytes of state, got ${bytes.length}`,
    );
  }
  const params = new Float32Array(header.params);
  for (let i = 0; i < params.length; i++) params[i] = data.getFloat32(headerEnd + i * 4, true);
  const stateStart = headerEnd + header.params * 4;
  return {
    fingerprint: header.fingerprint,
    round: header.round,
    records: header.records,
    transfers: header.transfers,
    params,
    state: header.state < 0 ? null : bytes.slice(stateStart, stateStart + stateLength),
  };
}
