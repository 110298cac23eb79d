import assert from "node:assert/strict";
import {
  decodeTensor,
  parseSafetensorsHeader,
  readSafetensors,
  safetensorsHeaderLength,
  writeSafetensors,
} from "../../engine.ts";

/** A safetensors file assembled by hand: header JSON exactly as given (no padding), then data. */
function rawFile(header: unknown, data: Uint8Array, headerText?: string): Uint8Array {
  const json = new TextEncoder().encode(headerText ?? JSON.stringify(header));
  const out = new Uint8Array(8 + json.length + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  out.set(data, 8 + json.length);
  return out;
}

function u16le(values: number[]): Uint8Array {
  const out = new Uint8Array(values.length * 2);
  const view = new DataView(out.buffer);
  values.forEach((v, i) => view.setUint16(2 * i, v, true));
  return out;
}

function bitsOf(values: Float32Array): number[] {
  return Array.from(new Uint32Array(values.buffer, values.byteOffset, values.length));
}

Deno.test("safetensors", async (t) => {
  await t.step("F32 round trip is bit-exact, header padded to 8", () => {
    const special = new Float32Array([0, -0, 1e-45, -1.5, Infinity, -Infinity, NaN, 3.4e38]);
    new Uint32Array(special.buffer)[6] = 0x7fc01234; // a NaN with a payload
    const big = Float32Array.from({ length: 3 * 5 * 7 }, (_, i) => Math.sin(i) * 1e3);
    const bytes = writeSafetensors(
      new Map([
        ["a.weight", { shape: [8], data: special }],
        ["b", { shape: [3, 5, 7], data: big }],
        ["empty", { shape: [0, 4], data: new Float32Array(0) }],
        ["scalar", { shape: [], data: new Float32Array([2.5]) }],
      ]),
      { note: "hello" },
    );
    const n = safetensorsHeaderLength(bytes, bytes.length);
    assert.equal(n % 8, 0);
    const { tensors, metadata } = readSafetensors(bytes);
    assert.deepEqual(metadata, { format: "pt", note: "hello" });
    assert.deepEqual([...tensors.keys()], ["a.weight", "b", "empty", "scalar"]);
    assert.deepEqual(bitsOf(tensors.get("a.weight")!.data), bitsOf(special));
    assert.deepEqual(tensors.get("b")!.shape, [3, 5, 7]);
    assert.deepEqual(bitsOf(tensors.get("b")!.data), bitsOf(big));
    assert.equal(tensors.get("empty")!.data.length, 0);
    assert.deepEqual(tensors.get("scalar"), {
      dtype: "F32",
      shape: [],
      data: new Float32Array([2.5]),
    });
    // Writing from a subarray view writes only the view.
    const view = big.subarray(5, 9);
    const again = readSafetensors(writeSafetensors([["v", { shape: [4], data: view }]]));
    assert.deepEqual(again.tensors.get("v")!.data, view);
  });

  await t.step("F16 decodes to the hand-computed values", () => {
    const cases: [number, number][] = [
      [0x3c00, 1],
      [0xc000, -2],
      [0x3555, 1365 / 4096], // exponent 13, mantissa 341: (1024 + 341) · 2^(13 − 25)
      [0x7bff, 65504], // largest finite
      [0x0400, 2 ** -14], // smallest normal
      [0x0001, 2 ** -24], // smallest subnormal
      [0x03ff, 1023 * 2 ** -24], // largest subnormal
      [0x7c00, Infinity],
      [0xfc00, -Infinity],
      [0x8000, -0],
      [0x0000, 0],
    ];
    const entry = {
      name: "h",
      dtype: "F16",
      shape: [cases.length],
      begin: 0,
      end: 2 * cases.length,
    };
    const out = decodeTensor(entry, u16le(cases.map(([h]) => h)));
    cases.forEach(([h, expected], i) =>
      assert.ok(Object.is(out[i], expected), `0x${h.toString(16)}`)
    );
    const nan = decodeTensor({ ...entry, shape: [1], end: 2 }, u16le([0x7e00]));
    assert.ok(Number.isNaN(nan[0]));
  });

  await t.step("BF16 decodes to the hand-computed values", () => {
    const cases: [number, number][] = [
      [0x3f80, 1],
      [0xc040, -3],
      [0x4049, 3.140625], // 0x40490000
      [0x0001, 2 ** -133], // 0x00010000 = 2^16 · 2^-149
      [0x7f80, Infinity],
      [0xff80, -Infinity],
      [0x8000, -0],
      [0x3e80, 0.25],
    ];
    const entry = { name: "b", dtype: "BF16", shape: [2, 4], begin: 0, end: 16 };
    const out = decodeTensor(entry, u16le(cases.map(([h]) => h)));
    cases.forEach(([h, expected], i) =>
      assert.ok(Object.is(out[i], expected), `0x${h.toString(16)}`)
    );
  });

  await t.step("mixed dtypes, unaligned data section, header order kept", () => {
    const f32 = new Float32Array([1.25, -7]);
    const data = new Uint8Array(4 + 8 + 4);
    data.set(u16le([0x3c00, 0x4000]), 0); // F16 [1, 2]
    data.set(new Uint8Array(f32.buffer), 4); // F32
    data.set(u16le([0x3f80, 0x4000]), 12); // BF16 [1, 2]
    const header = {
      z_half: { dtype: "F16", shape: [2], data_offsets: [0, 4] },
      a_full: { dtype: "F32", shape: [1, 2], data_offsets: [4, 12] },
      m_brain: { dtype: "BF16", shape: [2], data_offsets: [12, 16] },
      __metadata__: { format: "pt" },
    };
    // A header length of 1 mod 8 makes the data section start unaligned.
    let text = JSON.stringify(header);
    while ((text.length + 8) % 8 !== 1) text += " ";
    const bytes = rawFile(header, data, text);
    const parsed = parseSafetensorsHeader(bytes);
    assert.equal(parsed.dataStart % 4, 1);
    assert.deepEqual(parsed.entries.map((e) => e.name), ["z_half", "a_full", "m_brain"]);
    const { tensors } = readSafetensors(bytes);
    assert.deepEqual(tensors.get("z_half")!.data, new Float32Array([1, 2]));
    assert.deepEqual(tensors.get("a_full")!.data, f32);
    assert.deepEqual(tensors.get("m_brain")!.data, new Float32Array([1, 2]));
  });

  await t.step("clear errors for corrupt files", () => {
    const ok = { w: { dtype: "F32", shape: [2], data_offsets: [0, 8] } };
    const data = new Uint8Array(8);
    const check = (bytes: Uint8Array, pattern: RegExp, type: ErrorConstructor = TypeError) =>
      assert.throws(() => readSafetensors(bytes, "m.safetensors"), (error: Error) => {
        assert.ok(error instanceof type, `${error.name}: ${error.message}`);
        assert.match(error.message, /^Cannot read m\.safetensors: /);
        assert.match(error.message, pattern);
        return true;
      });
    check(new Uint8Array(5), /5 bytes is too short/, RangeError);
    const huge = rawFile(ok, data);
    new DataView(huge.buffer).setBigUint64(0, 1000n, true);
    check(huge, /header length 1000 exceeds the file \(\d+ bytes\)/, RangeError);
    check(rawFile(null, data, "{not json"), /not valid UTF-8 JSON/);
    check(rawFile(null, data, "[1]"), /not a JSON object/);
    check(rawFile({ w: { ...ok.w, dtype: "F12" } }, data), /tensor "w" has an unknown dtype "F12"/);
    check(rawFile({ w: { ...ok.w, shape: [2.5] } }, data), /tensor "w" has an invalid shape/);
    check(rawFile({ w: { ...ok.w, data_offsets: [0] } }, data), /invalid data_offsets/);
    check(
      rawFile({ w: { ...ok.w, data_offsets: [4, 12] } }, data),
      /tensor "w" has data_offsets \[4, 12\] outside the data section of 8 bytes/,
      RangeError,
    );
    check(
      rawFile({ w: { ...ok.w, shape: [3] } }, data),
      /tensor "w" has 8 bytes, but F32 \[3\] needs 12/,
      RangeError,
    );
    check(
      rawFile({
        a: { dtype: "F16", shape: [2], data_offsets: [0, 4] },
        b: { dtype: "F16", shape: [2], data_offsets: [2, 6] },
      }, data),
      /tensors "a" and "b" overlap/,
      RangeError,
    );
    check(rawFile({ ...ok, __metadata__: { n: 1 } }, data), /__metadata__\.n is not a string/);
    check(
      rawFile({ w: { dtype: "I64", shape: [1], data_offsets: [0, 8] } }, data),
      /tensor "w" has dtype I64; only F32, F16 and BF16 are read/,
    );
    assert.throws(
      () => writeSafetensors([["x", { shape: [3], data: new Float32Array(2) }]]),
      /tensor "x" has shape \[3\] but 2 values/,
    );
    assert.throws(
      () => writeSafetensors([["__metadata__", { shape: [0], data: new Float32Array(0) }]]),
      /reserved or repeated/,
    );
  });
});
