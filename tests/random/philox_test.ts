import assert from "node:assert/strict";
import { Gpu } from "../../src/gpu/gpu.ts";
import { philox4x32, philox4x32Into } from "../../src/random/philox.ts";
import { philoxWordsGpu } from "../../src/random/basis_gpu.ts";

// Random123 known-answer vectors for Philox4x32-10 (kat_vectors).
const KAT = [
  { c: [0, 0, 0, 0], k: [0, 0], out: [0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8] },
  {
    c: [0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff],
    k: [0xffffffff, 0xffffffff],
    out: [0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd],
  },
  {
    c: [0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344],
    k: [0xa4093822, 0x299f31d0],
    out: [0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1],
  },
];

Deno.test("Philox4x32-10", async (t) => {
  await t.step("TypeScript matches the Random123 known answers", () => {
    for (const { c, k, out } of KAT) assert.deepEqual([...philox4x32(c, k)], out);
  });

  const gpu = await Gpu.create();
  try {
    await t.step("WGSL matches the known answers", async () => {
      for (const { c, k, out } of KAT) {
        const w = await philoxWordsGpu(gpu, [k[0]!, k[1]!], c[0]!, 1, [c[1]!, c[2]!, c[3]!]);
        assert.deepEqual([...w], out);
      }
    });

    await t.step("WGSL is bit-identical to TypeScript over 131072 counters", async () => {
      const cases = [
        { key: [0x12345678, 0x9abcdef0] as const, first: 0, c123: [7, 3, 0x01000000] as const },
        {
          key: [1e9 >>> 0, 23] as const,
          first: 0xffffffff - 65535,
          c123: [0xffffffff, 0, 5] as const,
        },
      ];
      const ref = new Uint32Array(4);
      for (const { key, first, c123 } of cases) {
        const n = 65536;
        const w = await philoxWordsGpu(gpu, key, first, n, c123);
        let mismatches = 0;
        for (let i = 0; i < n; i++) {
          philox4x32Into((first + i) >>> 0, c123[0], c123[1], c123[2], key[0], key[1], ref);
          for (let j = 0; j < 4; j++) if (w[4 * i + j] !== ref[j]) mismatches++;
        }
        assert.equal(mismatches, 0);
      }
    });
  } finally {
    gpu.destroy();
  }
});
