/**
 * The safetensors format, bytes in and bytes out (DESIGN.md §3
 * "Checkpoints"): an 8-byte little-endian header length N, N bytes of JSON
 * (`{name: {dtype, shape, data_offsets: [begin, end]}, __metadata__?: {…}}`,
 * offsets relative to the end of the header), then the tensor data.
 *
 * Reading converts F32, F16 and BF16 to f32; every offset and length is
 * checked against the header and the file size first, so a truncated or
 * corrupt file fails with a message that names the tensor. Writing produces
 * F32 with the header padded to 8 bytes and `__metadata__.format = "pt"`,
 * which is what `transformers` expects.
 *
 * @module
 */

/** A tensor in memory: row-major f32 values and a shape. */
export interface Tensor {
  /** The shape. */
  readonly shape: readonly number[];
  /** The values, row-major. */
  readonly data: Float32Array;
}

/** One header entry. `begin`/`end` are byte offsets relative to the data section. */
export interface SafetensorsEntry {
  /** Tensor name. */
  readonly name: string;
  /** The stored dtype, e.g. `F32`, `F16`, `BF16`. */
  readonly dtype: string;
  /** The shape. */
  readonly shape: readonly number[];
  /** First byte, relative to the data section. */
  readonly begin: number;
  /** One past the last byte, relative to the data section. */
  readonly end: number;
}

/** A parsed header. */
export interface SafetensorsHeader {
  /** The entries, in header order. */
  readonly entries: readonly SafetensorsEntry[];
  /** The `__metadata__` strings (empty if absent). */
  readonly metadata: Readonly<Record<string, string>>;
  /** Absolute byte offset of the data section (8 + header length). */
  readonly dataStart: number;
}

/** Bytes per element of every safetensors dtype (only F32, F16 and BF16 decode). */
const DTYPE_BYTES: Readonly<Record<string, number>> = {
  F64: 8,
  F32: 4,
  F16: 2,
  BF16: 2,
  I64: 8,
  U64: 8,
  I32: 4,
  U32: 4,
  I16: 2,
  U16: 2,
  I8: 1,
  U8: 1,
  BOOL: 1,
  F8_E4M3: 1,
  F8_E5M2: 1,
};

/** The largest header accepted (the reference implementation's limit). */
const MAX_HEADER_BYTES = 100_000_000;

if (new Uint8Array(new Uint16Array([1]).buffer)[0] !== 1) {
  throw new Error("Cannot read safetensors: this platform is big-endian");
}

/**
 * The header length N from the first 8 bytes of a file of `fileSize` bytes.
 *
 * @example
 * ```ts
 * import { safetensorsHeaderLength, writeSafetensors } from "./safetensors.ts";
 * const bytes = writeSafetensors(new Map());
 * console.log(safetensorsHeaderLength(bytes, bytes.length)); // 32
 * ```
 */
export function safetensorsHeaderLength(
  prefix: Uint8Array,
  fileSize: number,
  source = "safetensors",
): number {
  if (prefix.length < 8 || fileSize < 8) {
    throw new RangeError(`Cannot read ${source}: ${fileSize} bytes is too short for a header`);
  }
  const view = new DataView(prefix.buffer, prefix.byteOffset, 8);
  const n = Number(view.getBigUint64(0, true));
  if (n > MAX_HEADER_BYTES || 8 + n > fileSize) {
    throw new RangeError(
      `Cannot read ${source}: the header length ${n} exceeds the file (${fileSize} bytes)` +
        (n > MAX_HEADER_BYTES ? ` or the limit ${MAX_HEADER_BYTES}` : ""),
    );
  }
  return n;
}

function fail(source: string, reason: string, type: "type" | "range" = "type"): never {
  const message = `Cannot read ${source}: ${reason}`;
  throw type === "type" ? new TypeError(message) : new RangeError(message);
}

/**
 * Parses and validates the header. `bytes` holds at least the first 8 + N
 * bytes of a file of `fileSize` bytes (the whole file, by default); every
 * entry must have a known dtype, a shape of non-negative integers, and
 * offsets inside the data section whose length matches dtype × shape, with
 * no two tensors overlapping.
 *
 * @example
 * ```ts
 * import { parseSafetensorsHeader, writeSafetensors } from "./safetensors.ts";
 * const bytes = writeSafetensors(new Map([["w", { shape: [2], data: new Float32Array([1, 2]) }]]));
 * const header = parseSafetensorsHeader(bytes);
 * console.log(header.entries[0]); // { name: "w", dtype: "F32", shape: [2], begin: 0, end: 8 }
 * ```
 */
export function parseSafetensorsHeader(
  bytes: Uint8Array,
  fileSize: number = bytes.length,
  source = "safetensors",
): SafetensorsHeader {
  const n = safetensorsHeaderLength(bytes, fileSize, source);
  if (bytes.length < 8 + n) fail(source, `only ${bytes.length} of ${8 + n} header bytes given`);
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes.subarray(8, 8 + n)));
  } catch (error) {
    fail(source, `the header is not valid UTF-8 JSON (${(error as Error).message})`);
  }
  if (typeof json !== "object" || json === null || Array.isArray(json)) {
    fail(source, "the header is not a JSON object");
  }
  const dataLength = fileSize - 8 - n;
  const entries: SafetensorsEntry[] = [];
  let metadata: Record<string, string> = {};
  for (const [name, raw] of Object.entries(json as Record<string, unknown>)) {
    if (name === "__metadata__") {
      if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
        fail(source, "__metadata__ is not an object");
      }
      for (const [key, value] of Object.entries(raw as Record<string, unknown>)) {
        if (typeof value !== "string") fail(source, `__metadata__.${key} is not a string`);
      }
      metadata = raw as Record<string, string>;
      continue;
    }
    const info = raw as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    const where = `tensor "${name}"`;
    if (typeof info !== "object" || info === null) fail(source, `${where} is not an object`);
    const { dtype, shape, data_offsets: offsets } = info;
    if (typeof dtype !== "string" || !(dtype in DTYPE_BYTES)) {
      fail(source, `${where} has an unknown dtype ${JSON.stringify(dtype)}`);
    }
    if (
      !Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && (d as number) >= 0)
    ) {
      fail(source, `${where} has an invalid shape ${JSON.stringify(shape)}`);
    }
    if (
      !Array.isArray(offsets) || offsets.length !== 2 ||
      !offsets.every((o) => Number.isSafeInteger(o) && (o as number) >= 0)
    ) {
      fail(source, `${where} has invalid data_offsets ${JSON.stringify(offsets)}`);
    }
    const [begin, end] = offsets as [number, number];
    const numel = (shape as number[]).reduce((a, b) => a * b, 1);
    const expected = numel * DTYPE_BYTES[dtype as string]!;
    if (end < begin || end > dataLength) {
      fail(
        source,
        `${where} has data_offsets [${begin}, ${end}] outside the data section of ${dataLength} bytes`,
        "range",
      );
    }
    if (end - begin !== expected) {
      fail(
        source,
        `${where} has ${end - begin} bytes, but ${dtype} [${(shape as number[]).join(", ")}] ` +
          `needs ${expected}`,
        "range",
      );
    }
    entries.push({ name, dtype: dtype as string, shape: shape as number[], begin, end });
  }
  const sorted = entries.slice().sort((a, b) => a.begin - b.begin || a.end - b.end);
  for (let i = 1; i < sorted.length; i++) {
    const [a, b] = [sorted[i - 1]!, sorted[i]!];
    if (b.begin < a.end) {
      fail(source, `tensors "${a.name}" and "${b.name}" overlap`, "range");
    }
  }
  return { entries, metadata, dataStart: 8 + n };
}

let f16Table: Float32Array | null = null;

/** All 65536 half-precision values as f32 (exact: every f16 is an f32). */
function halfTable(): Float32Array {
  if (f16Table) return f16Table;
  const table = new Float32Array(65536);
  for (let h = 0; h < 65536; h++) {
    const sign = h & 0x8000 ? -1 : 1;
    const exponent = (h >> 10) & 0x1f;
    const mantissa = h & 0x3ff;
    table[h] = exponent === 0
      ? sign * mantissa * 2 ** -24
      : exponent === 31
      ? (mantissa ? NaN : sign * Infinity)
      : sign * (1024 + mantissa) * 2 ** (exponent - 25);
  }
  return (f16Table = table);
}

/**
 * Converts one tensor's raw bytes (`entry.end − entry.begin` of them) to f32.
 *
 * @example
 * ```ts
 * import { decodeTensor } from "./safetensors.ts";
 * const entry = { name: "h", dtype: "F16", shape: [2], begin: 0, end: 4 };
 * console.log(decodeTensor(entry, new Uint8Array([0x00, 0x3c, 0x00, 0xc0]))); // Float32Array [1, -2]
 * ```
 */
export function decodeTensor(
  entry: SafetensorsEntry,
  bytes: Uint8Array,
  source = "safetensors",
): Float32Array {
  const where = `tensor "${entry.name}"`;
  if (bytes.length !== entry.end - entry.begin) {
    fail(source, `${where} needs ${entry.end - entry.begin} bytes, got ${bytes.length}`, "range");
  }
  // Copy into a fresh, aligned buffer: the data section need not be aligned.
  const aligned = bytes.slice().buffer;
  switch (entry.dtype) {
    case "F32":
      return new Float32Array(aligned);
    case "F16": {
      const half = new Uint16Array(aligned);
      const table = halfTable();
      const out = new Float32Array(half.length);
      for (let i = 0; i < half.length; i++) out[i] = table[half[i]!]!;
      return out;
    }
    case "BF16": {
      const half = new Uint16Array(aligned);
      const out = new Float32Array(half.length);
      const bits = new Uint32Array(out.buffer);
      for (let i = 0; i < half.length; i++) bits[i] = half[i]! << 16;
      return out;
    }
    default:
      return fail(source, `${where} has dtype ${entry.dtype}; only F32, F16 and BF16 are read`);
  }
}

/**
 * Reads a whole safetensors file from memory; every tensor becomes f32.
 *
 * @example
 * ```ts
 * import { readSafetensors, writeSafetensors } from "./safetensors.ts";
 * const bytes = writeSafetensors(new Map([["w", { shape: [1, 2], data: new Float32Array([3, 4]) }]]));
 * const { tensors } = readSafetensors(bytes);
 * console.log(tensors.get("w")); // { dtype: "F32", shape: [1, 2], data: Float32Array [3, 4] }
 * ```
 */
export function readSafetensors(
  bytes: Uint8Array,
  source = "safetensors",
): { tensors: Map<string, Tensor & { dtype: string }>; metadata: Record<string, string> } {
  const header = parseSafetensorsHeader(bytes, bytes.length, source);
  const tensors = new Map<string, Tensor & { dtype: string }>();
  for (const entry of header.entries) {
    const raw = bytes.subarray(header.dataStart + entry.begin, header.dataStart + entry.end);
    tensors.set(entry.name, {
      dtype: entry.dtype,
      shape: entry.shape,
      data: decodeTensor(entry, raw, source),
    });
  }
  return { tensors, metadata: { ...header.metadata } };
}

/**
 * Writes tensors (in iteration order) as an F32 safetensors file. The header
 * is padded with spaces to a multiple of 8 bytes so the data is aligned;
 * `metadata` gets `format: "pt"` unless it says otherwise.
 *
 * @example
 * ```ts
 * import { writeSafetensors } from "./safetensors.ts";
 * const bytes = writeSafetensors(new Map([["w", { shape: [2], data: new Float32Array([1, 2]) }]]));
 * console.log(bytes.length % 8); // 0
 * ```
 */
export function writeSafetensors(
  tensors: Iterable<readonly [string, Tensor]>,
  metadata: Record<string, string> = {},
): Uint8Array {
  const header: Record<string, unknown> = { __metadata__: { format: "pt", ...metadata } };
  const list: [string, Tensor][] = [];
  let offset = 0;
  for (const [name, tensor] of tensors) {
    if (name === "__metadata__" || Object.hasOwn(header, name)) {
      throw new TypeError(
        `Cannot write safetensors: the tensor name "${name}" is reserved or repeated`,
      );
    }
    const numel = tensor.shape.reduce((a, b) => a * b, 1);
    if (
      !tensor.shape.every((d) => Number.isSafeInteger(d) && d >= 0) ||
      numel !== tensor.data.length
    ) {
      throw new TypeError(
        `Cannot write safetensors: tensor "${name}" has shape [${tensor.shape.join(", ")}] ` +
          `but ${tensor.data.length} values`,
      );
    }
    header[name] = {
      dtype: "F32",
      shape: [...tensor.shape],
      data_offsets: [offset, offset + numel * 4],
    };
    list.push([name, tensor]);
    offset += numel * 4;
  }
  let json = new TextEncoder().encode(JSON.stringify(header));
  const padded = Math.ceil(json.length / 8) * 8;
  if (padded !== json.length) {
    const spaced = new Uint8Array(padded).fill(0x20);
    spaced.set(json);
    json = spaced;
  }
  const out = new Uint8Array(8 + json.length + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  let at = 8 + json.length;
  for (const [, tensor] of list) {
    out.set(new Uint8Array(tensor.data.buffer, tensor.data.byteOffset, tensor.data.byteLength), at);
    at += tensor.data.byteLength;
  }
  return out;
}
