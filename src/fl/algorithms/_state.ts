/**
 * Server state of an algorithm as bytes, for the run's checkpoints
 * (src/fl/run_checkpoint.ts): named f32 sections. Layout (little-endian): u32
 * header length h, h bytes of JSON `[[name, length], …]`, zero padding to
 * a multiple of 4, then each section's f32 values in order.
 *
 * @module
 */

/** Serialises named f32 sections. */
export function encodeState(sections: Readonly<Record<string, Float32Array>>): Uint8Array {
  const entries = Object.entries(sections);
  const header = new TextEncoder().encode(JSON.stringify(entries.map(([n, v]) => [n, v.length])));
  const start = Math.ceil((4 + header.length) / 4) * 4;
  const total = entries.reduce((s, [, v]) => s + v.length, 0);
  const out = new Uint8Array(start + 4 * total);
  const view = new DataView(out.buffer);
  view.setUint32(0, header.length, true);
  out.set(header, 4);
  let at = start;
  for (const [, values] of entries) {
    for (const v of values) {
      view.setFloat32(at, v, true);
      at += 4;
    }
  }
  return out;
}

/** Reads what {@linkcode encodeState} wrote. */
export function decodeState(bytes: Uint8Array): Map<string, Float32Array> {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes.length < 4) throw new TypeError("Cannot read algorithm state: fewer than 4 bytes");
  const length = view.getUint32(0, true);
  let entries: [string, number][];
  try {
    entries = JSON.parse(new TextDecoder().decode(bytes.subarray(4, 4 + length)));
  } catch (error) {
    throw new TypeError(`Cannot read algorithm state: its header is not JSON (${error})`);
  }
  let at = Math.ceil((4 + length) / 4) * 4;
  const out = new Map<string, Float32Array>();
  for (const [name, n] of entries) {
    if (at + 4 * n > bytes.length) {
      throw new TypeError(`Cannot read algorithm state: section "${name}" is cut short`);
    }
    const values = new Float32Array(n);
    for (let i = 0; i < n; i++) values[i] = view.getFloat32(at + 4 * i, true);
    out.set(name, values);
    at += 4 * n;
  }
  return out;
}
