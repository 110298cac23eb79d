/**
 * The federation's wire format (src/federation/server.ts, client.ts): every
 * message is one binary WebSocket frame, little-endian throughout.
 *
 *     offset  bytes  field
 *     0       4      magic, the ASCII bytes `FRT1`
 *     4       1      kind ({@linkcode MessageKind})
 *     5       3      zero
 *     8       4      round (u32): the round the message belongs to
 *     12      4      JSON length j (u32)
 *     16      j      UTF-8 JSON of the control fields (j = 0 for data messages)
 *     16 + j  0–3    zero padding to a multiple of 4
 *     …              payload: the rest of the frame
 *
 * Per round, a sampled client receives `train` (16 bytes) and `broadcast`
 * (16 + the algorithm's broadcast, src/federation/codecs.ts) and sends
 * `upload` (16 + 8: its mean loss and ‖Δ‖ as f32, + the algorithm's upload)
 * and `ack` (16 + 32: the SHA-256 of its global model after the
 * broadcast). So the bytes on the wire are the ledger's bytes plus
 * {@linkcode ROUND_FRAMING_UP} up and {@linkcode ROUND_FRAMING_DOWN} down
 * (tests/federation/federation_test.ts reconciles them). `join`,
 * `welcome`, `error` and `done` carry JSON; `welcome`'s payload is the
 * trainable vector once, at joining.
 *
 * @module
 */

/**
 * What a frame is: its byte 4.
 *
 * @example
 * ```ts
 * import { kindName, MessageKind } from "./wire.ts";
 * console.log(MessageKind.upload, kindName(MessageKind.ack)); // 4 ack
 * ```
 */
export const MessageKind = {
  /** Client → server: `{token, client, samples}`. */
  join: 1,
  /** Server → client: `{spec, round, clients}` and the trainable vector (f32) after `round`. */
  welcome: 2,
  /** Server → client: train round `round` from the global model it holds. */
  train: 3,
  /** Client → server: loss (f32), ‖Δ‖ (f32), the algorithm's upload (empty: not finite). */
  upload: 4,
  /** Server → every joined client: the algorithm's broadcast of round `round`. */
  broadcast: 5,
  /** Client → server: SHA-256 (32 bytes) of its global model after broadcast `round`. */
  ack: 6,
  /** Either way: `{message}`, a refusal or a failure, in words. */
  error: 7,
  /** Server → client: the federation is over: `{rounds, evalLoss}`. */
  done: 8,
} as const;

/** A message kind's number. */
export type MessageKind = (typeof MessageKind)[keyof typeof MessageKind];

/** Bytes before the JSON. */
export const HEADER_BYTES = 16;

/** Bytes an upload carries before the algorithm's message: loss and ‖Δ‖, f32 each. */
export const UPLOAD_PREFIX_BYTES = 8;

/** Bytes of an `ack` frame. */
export const ACK_BYTES = HEADER_BYTES + 32;

/**
 * Framing a sampled client sends per round besides its upload: upload header and prefix, ack.
 *
 * @example
 * ```ts
 * import { ROUND_FRAMING_UP } from "./wire.ts";
 * console.log(ROUND_FRAMING_UP); // 72
 * ```
 */
export const ROUND_FRAMING_UP: number = HEADER_BYTES + UPLOAD_PREFIX_BYTES + ACK_BYTES;

/**
 * Framing a sampled client receives per round besides the broadcast: `train` and broadcast headers.
 *
 * @example
 * ```ts
 * import { ROUND_FRAMING_DOWN } from "./wire.ts";
 * console.log(ROUND_FRAMING_DOWN); // 32
 * ```
 */
export const ROUND_FRAMING_DOWN: number = 2 * HEADER_BYTES;

/** Longest JSON a frame may carry (a spec, an error). */
export const MAX_JSON_BYTES = 1 << 16;

const MAGIC = 0x31545246; // "FRT1" read as a little-endian u32

const KIND_NAMES = new Map<number, string>(
  Object.entries(MessageKind).map(([name, kind]) => [kind, name]),
);

/**
 * A frame that is not what the format or the protocol allows; the message says why.
 *
 * @example
 * ```ts
 * import { decodeFrame, WireError } from "./wire.ts";
 * try {
 *   decodeFrame(new Uint8Array(4));
 * } catch (error) {
 *   console.log(error instanceof WireError, (error as Error).message); // true a frame of 4 bytes is shorter than the 16-byte header
 * }
 * ```
 */
export class WireError extends Error {
  /** Builds the error; `message` says what is wrong. */
  constructor(message: string) {
    super(message);
    this.name = "WireError";
  }
}

/** One decoded frame. */
export interface Frame {
  /** Its kind. */
  readonly kind: MessageKind;
  /** Its round. */
  readonly round: number;
  /** Its JSON fields (`{}` when it has none). */
  readonly json: Record<string, unknown>;
  /** Its payload (a view into the frame). */
  readonly payload: Uint8Array;
  /** The frame's whole length in bytes. */
  readonly bytes: number;
}

/** The name of a kind, for messages (`kind 9` when unknown). */
export function kindName(kind: number): string {
  return KIND_NAMES.get(kind) ?? `kind ${kind}`;
}

/**
 * Encodes one frame.
 *
 * @example
 * ```ts
 * import { decodeFrame, encodeFrame, MessageKind } from "./wire.ts";
 * const frame = encodeFrame(MessageKind.error, 3, { message: "late" });
 * const back = decodeFrame(frame);
 * console.log(back.round, back.json.message, frame.length % 4); // 3 late 0
 * ```
 */
export function encodeFrame(
  kind: MessageKind,
  round: number,
  json: Record<string, unknown> | null = null,
  payload: Uint8Array = new Uint8Array(0),
): Uint8Array {
  if (!Number.isInteger(round) || round < 0 || round > 0xffffffff) {
    throw new RangeError(`Cannot frame round ${round}: expected a u32`);
  }
  const text = json === null ? new Uint8Array(0) : new TextEncoder().encode(JSON.stringify(json));
  if (text.length > MAX_JSON_BYTES) {
    throw new RangeError(`Cannot frame ${text.length} bytes of JSON: at most ${MAX_JSON_BYTES}`);
  }
  const start = HEADER_BYTES + Math.ceil(text.length / 4) * 4;
  const frame = new Uint8Array(start + payload.length);
  const view = new DataView(frame.buffer);
  view.setUint32(0, MAGIC, true);
  view.setUint8(4, kind);
  view.setUint32(8, round, true);
  view.setUint32(12, text.length, true);
  frame.set(text, HEADER_BYTES);
  frame.set(payload, start);
  return frame;
}

/**
 * Decodes one frame, refusing anything malformed: a short frame, another
 * magic, an unknown kind, non-zero reserved bytes, JSON that overruns the
 * frame or is not an object.
 *
 * @example
 * ```ts
 * import { decodeFrame, encodeFrame, MessageKind } from "./wire.ts";
 * const frame = decodeFrame(encodeFrame(MessageKind.ack, 2, null, new Uint8Array(32)));
 * console.log(frame.kind === MessageKind.ack, frame.round, frame.payload.length, frame.bytes); // true 2 32 48
 * ```
 */
export function decodeFrame(data: Uint8Array): Frame {
  if (data.length < HEADER_BYTES) {
    throw new WireError(
      `a frame of ${data.length} bytes is shorter than the ${HEADER_BYTES}-byte header`,
    );
  }
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  if (view.getUint32(0, true) !== MAGIC) throw new WireError("the frame does not start with FRT1");
  const kind = view.getUint8(4);
  if (!KIND_NAMES.has(kind)) throw new WireError(`unknown message kind ${kind}`);
  if (view.getUint8(5) || view.getUint8(6) || view.getUint8(7)) {
    throw new WireError("the frame's reserved bytes are not zero");
  }
  const length = view.getUint32(12, true);
  if (length > MAX_JSON_BYTES || HEADER_BYTES + length > data.length) {
    throw new WireError(`the frame's JSON length ${length} overruns its ${data.length} bytes`);
  }
  let json: Record<string, unknown> = {};
  if (length > 0) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(
        data.subarray(HEADER_BYTES, HEADER_BYTES + length),
      ));
    } catch (error) {
      throw new WireError(`the frame's JSON does not parse: ${(error as Error).message}`);
    }
    if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) {
      throw new WireError("the frame's JSON is not an object");
    }
    json = parsed as Record<string, unknown>;
  }
  const start = Math.min(data.length, HEADER_BYTES + Math.ceil(length / 4) * 4);
  return {
    kind: kind as MessageKind,
    round: view.getUint32(8, true),
    json,
    payload: data.subarray(start),
    bytes: data.length,
  };
}

/** Copies `bytes` (any alignment) into f32 values; its length must be a multiple of 4. */
export function f32Of(bytes: Uint8Array, what: string): Float32Array {
  if (bytes.length % 4 !== 0) {
    throw new WireError(`${what} is ${bytes.length} bytes, not whole f32s`);
  }
  return new Float32Array(bytes.slice().buffer);
}

/** Copies `bytes` into u32 values; its length must be a multiple of 4. */
export function u32Of(bytes: Uint8Array, what: string): Uint32Array {
  if (bytes.length % 4 !== 0) {
    throw new WireError(`${what} is ${bytes.length} bytes, not whole u32s`);
  }
  return new Uint32Array(bytes.slice().buffer);
}

/** The bytes of typed arrays, concatenated. */
export function concatBytes(...parts: readonly ArrayBufferView[]): Uint8Array {
  const total = parts.reduce((n, p) => n + p.byteLength, 0);
  const out = new Uint8Array(total);
  let offset = 0;
  for (const p of parts) {
    out.set(new Uint8Array(p.buffer, p.byteOffset, p.byteLength), offset);
    offset += p.byteLength;
  }
  return out;
}

/** The SHA-256 (32 bytes) of `values`' bytes: what client and server compare every round. */
export async function modelHash(values: Float32Array): Promise<Uint8Array> {
  const bytes = new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
  return new Uint8Array(await crypto.subtle.digest("SHA-256", bytes.slice()));
}

/** A hash as hex (for messages and logs). */
export function hex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}
