/**
 * Uniform packing for the kernels' per-call sizes and scalars: 4-byte
 * fields in order, padded to 16 bytes.
 *
 * @module
 */

/** One uniform field: `u` u32, `i` i32, `f` f32. */
export type Field = readonly ["u" | "i" | "f", number];

/** Packs fields, 4 bytes each in order, into a uniform padded to 16 bytes. */
export function packUniform(fields: readonly Field[]): Uint8Array<ArrayBuffer> {
  const bytes = new ArrayBuffer(Math.max(16, Math.ceil(fields.length / 4) * 16));
  const view = new DataView(bytes);
  fields.forEach(([type, value], i) => {
    if (type === "u") view.setUint32(i * 4, value, true);
    else if (type === "i") view.setInt32(i * 4, value, true);
    else view.setFloat32(i * 4, value, true);
  });
  return new Uint8Array(bytes);
}
