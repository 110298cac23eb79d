import assert from "node:assert/strict";
import { Gpu } from "../../../src/gpu/gpu.ts";
import {
  embeddingBackward,
  embeddingBackwardReference,
  embeddingForward,
  embeddingForwardReference,
} from "../../../src/model/ops/embedding.ts";
import {
  assertClose,
  assertSameBits,
  dot,
  F32_EPS,
  finiteDifferences,
  randomF32,
  randomInts,
  readF32,
} from "./_helpers.ts";

Deno.test("embedding kernels", async (t) => {
  const gpu = await Gpu.create();
  try {
    for (const [T, C, V] of [[1, 5, 3], [7, 17, 11], [33, 64, 5], [40, 3, 1000]] as const) {
      await t.step(`forward T=${T} C=${C} V=${V} equals the lookup`, async () => {
        const ids = randomInts(`emb/ids/${T}`, T, V);
        const wte = randomF32(`emb/wte/${V}x${C}`, V * C);
        const x = gpu.buffer(T * C * 4);
        await embeddingForward(gpu, { x, ids: gpu.upload(ids), wte: gpu.upload(wte) }, {
          T,
          C,
          V,
        });
        const got = await readF32(gpu, x, T * C);
        assert.deepEqual(
          Array.from(got),
          Array.from(embeddingForwardReference(ids, wte, { T, C, V })),
        );
      });

      await t.step(
        `backward T=${T} C=${C} V=${V} matches the reference, bit-reproducibly`,
        async () => {
          // Few distinct ids so rows collect several tokens.
          const ids = randomInts(`emb/bids/${T}`, T, Math.min(V, 4));
          const dx = randomF32(`emb/dx/${T}x${C}`, T * C);
          const start = randomF32(`emb/dwte0/${V}x${C}`, V * C);
          const results: Float32Array[] = [];
          for (let run = 0; run < 2; run++) {
            const dwte = gpu.upload(start);
            await embeddingBackward(gpu, { dwte, ids: gpu.upload(ids), dx: gpu.upload(dx) }, {
              T,
              C,
              V,
            });
            results.push(await readF32(gpu, dwte, V * C));
          }
          const expected = embeddingBackwardReference(ids, dx, start, { T, C, V });
          // Each entry is a sum of at most T + 1 values of size ~1.
          assertClose(results[0]!, expected, { atol: (T + 1) * 4 * F32_EPS * 4 }, "dwte");
          assert.deepEqual(results[0], results[1], "two runs differ");
        },
      );
    }

    await t.step("ids outside the vocabulary give NaN rows and no gradient", async () => {
      const [T, C, V] = [3, 6, 4];
      const ids = new Int32Array([1, -1, 4]);
      const wte = randomF32("emb/bad", V * C);
      const x = gpu.buffer(T * C * 4);
      const idBuffer = gpu.upload(ids);
      await embeddingForward(gpu, { x, ids: idBuffer, wte: gpu.upload(wte) }, { T, C, V });
      const got = await readF32(gpu, x, T * C);
      assert.deepEqual(Array.from(got.subarray(0, C)), Array.from(wte.subarray(C, 2 * C)));
      assert.ok(got.subarray(C).every(Number.isNaN));
      const dwte = gpu.buffer(V * C * 4);
      await embeddingBackward(gpu, {
        dwte,
        ids: idBuffer,
        dx: gpu.upload(new Float32Array(T * C).fill(1)),
      }, {
        T,
        C,
        V,
      });
      const grad = await readF32(gpu, dwte, V * C);
      assert.equal(grad.reduce((a, b) => a + b, 0), C);
    });

    await t.step("the reference backward is the gradient of the reference forward", () => {
      const [T, C, V] = [5, 3, 4];
      const ids = new Int32Array([2, 0, 2, 3, 2]);
      const dx = randomF32("emb/fd/dx", T * C);
      const wte = randomF32("emb/fd/wte", V * C);
      const numeric = finiteDifferences(
        (w) => dot(dx, embeddingForwardReference(ids, w, { T, C, V })),
        wte,
      );
      const analytic = embeddingBackwardReference(ids, dx, new Float64Array(V * C), { T, C, V });
      assertClose(analytic, numeric, { atol: 1e-7 }, "dwte");
    });

    await t.step("shapes are validated", async () => {
      const small = gpu.buffer(16);
      await assert.rejects(
        embeddingForward(gpu, { x: small, ids: small, wte: small }, { T: 2, C: 4, V: 2 }),
        TypeError,
      );
      await assert.rejects(
        embeddingBackward(gpu, { dwte: small, ids: small, dx: small }, { T: 0, C: 4, V: 2 }),
        TypeError,
      );
    });
  } finally {
    gpu.destroy();
  }
});

// B models in one call (ModelRows) must give each model exactly the bits of a call of its own,
// padding tokens (id 0, dx 0) included. Tables and their gradients sit `stride` elements apart,
// behind a binding 256 bytes into its buffer (the gaps hold values no kernel may read or write).
Deno.test("embedding kernels run many models per dispatch, bit-identical to one at a time", async (t) => {
  const gpu = await Gpu.create();
  try {
    const B = 3;
    const lead = 64; // elements before the binding: 256 bytes
    for (const [rows, C, V] of [[7, 12, 11], [37, 13, 11], [70, 3, 5]] as const) {
      const T = B * rows;
      const stride = V * C + 20;
      const label = `rows=${rows} C=${C} V=${V}`;
      const span = (B - 1) * stride + V * C;
      // Few distinct ids so table rows collect several tokens; one id outside the vocabulary.
      const ids = randomInts(`emb/models/ids/${label}`, T, Math.min(V, 4));
      ids[2 * rows + 1] = V;
      ids.fill(0, 2 * rows - 3, 2 * rows); // model 1's last 3 tokens are padding
      const dx = randomF32(`emb/models/dx/${label}`, T * C);
      dx.fill(0, (2 * rows - 3) * C, 2 * rows * C);
      const wte = randomF32(`emb/models/wte/${label}`, lead + span + 8);
      const dwte0 = randomF32(`emb/models/dwte0/${label}`, lead + span + 8);
      const models = { count: B, rows, stride };
      const shape = { T, C, V };
      const one = { T: rows, C, V };
      const at = (data: Float32Array) => ({
        buffer: gpu.upload(data),
        offset: lead * 4,
        size: span * 4,
      });
      const table = (data: Float32Array, b: number) =>
        data.slice(lead + b * stride, lead + b * stride + V * C);

      await t.step(`forward ${label}`, async () => {
        const x = gpu.buffer(T * C * 4);
        await embeddingForward(gpu, { x, ids: gpu.upload(ids), wte: at(wte) }, shape, { models });
        const got = await readF32(gpu, x, T * C);
        for (let b = 0; b < B; b++) {
          const x1 = gpu.buffer(rows * C * 4);
          const idsB = ids.slice(b * rows, (b + 1) * rows);
          await embeddingForward(gpu, {
            x: x1,
            ids: gpu.upload(idsB),
            wte: gpu.upload(table(wte, b)),
          }, one);
          const want = await readF32(gpu, x1, rows * C);
          assertSameBits(got.subarray(b * rows * C, (b + 1) * rows * C), want, `x of model ${b}`);
        }
      });

      await t.step(`backward ${label}`, async () => {
        const dwte = at(dwte0);
        await embeddingBackward(gpu, { dwte, ids: gpu.upload(ids), dx: gpu.upload(dx) }, shape, {
          models,
        });
        const got = await readF32(gpu, dwte.buffer, lead + span + 8);
        const untouched = new Float32Array(dwte0);
        for (let b = 0; b < B; b++) {
          const dwte1 = gpu.upload(table(dwte0, b));
          await embeddingBackward(gpu, {
            dwte: dwte1,
            ids: gpu.upload(ids.slice(b * rows, (b + 1) * rows)),
            dx: gpu.upload(dx.slice(b * rows * C, (b + 1) * rows * C)),
          }, one);
          const want = await readF32(gpu, dwte1, V * C);
          const from = lead + b * stride;
          assertSameBits(got.subarray(from, from + V * C), want, `dwte of model ${b}`);
          untouched.set(want, from);
        }
        assertSameBits(got, untouched, "dwte buffer"); // nothing outside the models' tables
      });
    }

    await t.step("models must cover T tokens and keep their dwte apart", async () => {
      const b = gpu.buffer(4096);
      await assert.rejects(
        embeddingForward(gpu, { x: b, ids: b, wte: b }, { T: 10, C: 4, V: 3 }, {
          models: { count: 3, rows: 3, stride: 12 },
        }),
        RangeError,
      );
      await assert.rejects(
        embeddingBackward(gpu, { dwte: b, ids: b, dx: b }, { T: 9, C: 4, V: 3 }, {
          models: { count: 2, rows: 3, stride: 12 },
        }),
        RangeError,
      );
      await assert.rejects(
        embeddingBackward(gpu, { dwte: b, ids: b, dx: b }, { T: 9, C: 4, V: 3 }, {
          models: { count: 3, rows: 3, stride: 11 },
        }),
        RangeError,
      );
    });
  } finally {
    gpu.destroy();
  }
});
