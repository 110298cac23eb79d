/**
 * matmul kernels against matmulReference: every form on both kernel families
 * (subgroups and portable), awkward shapes, scale and accumulation, offsets,
 * more than 65535 workgroups, the few-row forward kernel against the tiled
 * ones, and the GL backend in a subprocess.
 *
 * Tolerance: the kernels sum in f32 with fused multiply-adds, so an entry's
 * error is at most about depth·2⁻²⁴ · Σ|a||b| (Higham's γ_n bound) plus the
 * final rounding; the test allows (depth + 4)·2⁻²³ times Σ|alpha·a·b| + |old|.
 */

import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { Gpu, RandomStream } from "../../../mod.ts";
import { matmul, matmulReference } from "../../../engine.ts";
import {
  type MatmulForm,
  matmulLayout,
  type MatmulShape,
} from "../../../src/model/ops/_matmul_plan.ts";
import { matmulPath } from "../../../src/model/ops/_matmul_plan.ts";

const FORMS: readonly MatmulForm[] = ["xwt", "dyw", "dytx"];

/** Awkward [m, n, k]: 1s, primes, one past powers of two, vocab-like 259, aligned ones. */
const SHAPES: readonly (readonly [number, number, number])[] = [
  [1, 1, 1],
  [7, 33, 129],
  [33, 7, 5],
  [129, 65, 33],
  [3, 259, 17],
  [64, 96, 128],
  [40, 100, 36],
];

function randomArray(stream: RandomStream, length: number): Float32Array {
  const out = new Float32Array(length);
  for (let i = 0; i < length; i++) out[i] = stream.normal();
  return out;
}

function abs(values: Float32Array): Float32Array {
  return values.map(Math.abs);
}

/** Largest error over the tolerance, as a ratio (≤ 1 passes), and where. */
function worst(
  got: Float32Array,
  want: Float32Array,
  magnitude: Float32Array,
  old: Float32Array | undefined,
  depth: number,
): { ratio: number; index: number } {
  const unit = (depth + 4) * 2 ** -23;
  let ratio = 0;
  let index = -1;
  for (let i = 0; i < want.length; i++) {
    const tolerance = unit * (magnitude[i]! + Math.abs(old?.[i] ?? 0)) + 1e-30;
    const r = Math.abs(got[i]! - want[i]!) / tolerance;
    if (!(r <= ratio)) {
      ratio = r;
      index = i;
    }
  }
  return { ratio, index };
}

/** Runs one product on `gpu` and compares it with the reference. */
async function check(gpu: Gpu, stream: RandomStream, shape: MatmulShape): Promise<void> {
  const layout = matmulLayout(shape);
  const a = randomArray(stream, layout.a[0] * layout.a[1]);
  const b = randomArray(stream, layout.b[0] * layout.b[1]);
  const outSize = layout.out[0] * layout.out[1];
  const old = shape.accumulate ? randomArray(stream, outSize) : undefined;
  const out = old ? gpu.upload(old) : gpu.upload(new Float32Array(outSize).fill(Number.NaN));
  const aBuffer = gpu.upload(a);
  const bBuffer = gpu.upload(b);
  await matmul(gpu, out, aBuffer, bBuffer, shape);
  const got = new Float32Array(await gpu.read(out), 0, outSize);
  const want = matmulReference(a, b, shape, old);
  const magnitude = matmulReference(abs(a), abs(b), {
    ...shape,
    alpha: Math.abs(shape.alpha ?? 1),
    accumulate: false,
  });
  const { ratio, index } = worst(got, want, magnitude, old, layout.depth);
  assert.ok(
    ratio <= 1,
    `${JSON.stringify(shape)}: entry ${index} is ${got[index]}, reference ${want[index]} ` +
      `(error ${ratio.toFixed(2)}× the tolerance)`,
  );
  for (const buffer of [out, aBuffer, bBuffer]) buffer.destroy();
}

/** Every form and shape, plain and scaled-accumulating, on one device. */
async function parity(gpu: Gpu, seed: number): Promise<void> {
  const stream = new RandomStream(seed, "matmul parity");
  for (const form of FORMS) {
    for (const [m, n, k] of SHAPES) {
      await check(gpu, stream, { form, m, n, k });
      await check(gpu, stream, { form, m, n, k, accumulate: true, alpha: -0.75 });
    }
  }
}

/**
 * Child mode for the GL test: `deno run -A matmul_test.ts` with
 * MATMUL_GL_CHILD=1 runs a small parity check and prints a JSON verdict.
 */
if (import.meta.main && Deno.env.get("MATMUL_GL_CHILD") === "1") {
  const gpu = await Gpu.create();
  const stream = new RandomStream(7, "matmul gl");
  for (const form of FORMS) {
    await check(gpu, stream, { form, m: 33, n: 7, k: 5, accumulate: true, alpha: 2 });
    await check(gpu, stream, { form, m: 40, n: 100, k: 36 });
  }
  // The few-row forward kernel (m ≤ 8).
  await check(gpu, stream, { form: "xwt", m: 1, n: 37, k: 22 });
  await check(gpu, stream, { form: "xwt", m: 6, n: 13, k: 9, accumulate: true, alpha: -1 });
  console.log(JSON.stringify({ ok: true, backend: gpu.info.backend, path: matmulPath(gpu) }));
  gpu.destroy();
}

Deno.test("matmul", async (t) => {
  const fast = await Gpu.create();
  const portable = await Gpu.create({ portable: true });
  try {
    await t.step("the portable device takes the portable path", () => {
      assert.equal(matmulPath(portable), "portable");
    });

    await t.step("subgroup kernels match the reference (every form, awkward shapes)", async () => {
      if (matmulPath(fast) !== "subgroups") {
        console.log(`  (device has no subgroups of ≥ 8 lanes: ${fast.info.description})`);
      }
      await parity(fast, 1);
    });

    await t.step("portable kernels match the reference (every form, awkward shapes)", async () => {
      await parity(portable, 2);
    });

    await t.step("few-row forward products (m ≤ 8) match the tiled kernels", async () => {
      // Each tile height of the few-row kernel (1, 2, 4, 8 rows) with row lengths and widths
      // that are not multiples of 4. Rows 0…m−1 of a 40-row product (tiled kernels) see the same
      // operands; on CPU adapters (known code generation) the results must be bit-identical.
      const stream = new RandomStream(5, "matmul few rows");
      for (const gpu of [fast, portable]) {
        for (const [m, n, k] of [[1, 300, 7], [2, 13, 10], [3, 37, 22], [5, 259, 33], [8, 6, 1]]) {
          for (const accumulate of [false, true]) {
            const big = 40;
            const a = randomArray(stream, big * k!);
            const b = randomArray(stream, n! * k!);
            const old = randomArray(stream, big * n!);
            const shape: MatmulShape = { form: "xwt", m: m!, n: n!, k: k!, accumulate, alpha: 1.5 };
            const few = gpu.upload(old);
            const tiled = gpu.upload(old);
            const [aBuffer, bBuffer] = [gpu.upload(a), gpu.upload(b)];
            await matmul(gpu, few, aBuffer, bBuffer, shape);
            await matmul(gpu, tiled, aBuffer, bBuffer, { ...shape, m: big });
            const [gotFew, gotTiled] = (await gpu.readMany([
              { buffer: few, size: big * n! * 4 },
              { buffer: tiled, size: m! * n! * 4 },
            ])).map((bytes) => new Float32Array(bytes));
            const want = matmulReference(a, b, shape, old);
            const magnitude = matmulReference(abs(a), abs(b), { ...shape, accumulate: false });
            const { ratio, index } = worst(gotFew!.subarray(0, m! * n!), want, magnitude, old, k!);
            assert.ok(ratio <= 1, `${JSON.stringify(shape)}: entry ${index} off by ${ratio}×`);
            assert.deepEqual(
              gotFew!.subarray(m! * n!),
              old.subarray(m! * n!),
              "rows past m are not written",
            );
            if (gpu.info.fallback) {
              assert.deepEqual(gotFew!.subarray(0, m! * n!), gotTiled, `${JSON.stringify(shape)}`);
            }
            for (const buffer of [few, tiled, aBuffer, bBuffer]) buffer.destroy();
          }
        }
      }
    });

    await t.step(
      "several models per dispatch equal one product per model, bit for bit",
      async () => {
        // Three models: activations one model after another, each model's weight (W, or dW
        // for dytx) `stride` values after the previous one's, as src/model/model_batch.ts lays
        // them out. Row lengths that are not multiples of 4 occur only on activations (which are
        // padded); weights keep theirs aligned. m = 3 exercises the few-row kernel.
        const stream = new RandomStream(6, "matmul models");
        const count = 3;
        for (const gpu of [fast, portable]) {
          for (const form of FORMS) {
            for (const [m, n, k] of [[37, 20, 12], [3, 259, 16], [64, 96, 128], [40, 13, 36]]) {
              if (form === "dytx" ? false : k! % 4 !== 0) continue;
              const layout = matmulLayout({ form, m: m!, n: n!, k: k! });
              const size = ([r, c]: readonly [number, number]) => r * c;
              const weight = form === "dytx" ? layout.out : layout.b;
              const stride = Math.ceil((size(weight) + 9) / 64) * 64;
              const sizes = {
                a: size(layout.a),
                b: form === "dytx" ? size(layout.b) : stride,
                out: form === "dytx" ? stride : size(layout.out),
              };
              const span = (key: "a" | "b" | "out", own: number) => (count - 1) * sizes[key] + own;
              const a = randomArray(stream, span("a", size(layout.a)));
              const b = randomArray(stream, span("b", size(layout.b)));
              const old = randomArray(stream, span("out", size(layout.out)));
              for (const accumulate of [false, true]) {
                const shape: MatmulShape = { form, m: m!, n: n!, k: k!, accumulate, alpha: 0.75 };
                const batched = gpu.upload(old);
                const [aBuffer, bBuffer] = [gpu.upload(a), gpu.upload(b)];
                await matmul(gpu, batched, aBuffer, bBuffer, {
                  ...shape,
                  models: { count, stride },
                });
                const got = new Float32Array(await gpu.read(batched), 0, old.length);
                for (let model = 0; model < count; model++) {
                  const part = (x: Float32Array, key: "a" | "b" | "out", own: number) =>
                    x.slice(model * sizes[key], model * sizes[key] + own);
                  const alone = gpu.upload(part(old, "out", size(layout.out)));
                  const [aAlone, bAlone] = [
                    gpu.upload(part(a, "a", size(layout.a))),
                    gpu.upload(part(b, "b", size(layout.b))),
                  ];
                  await matmul(gpu, alone, aAlone, bAlone, shape);
                  const want = new Float32Array(await gpu.read(alone), 0, size(layout.out));
                  assert.deepEqual(
                    part(got, "out", size(layout.out)),
                    want,
                    `${form} [${m}, ${n}, ${k}] accumulate ${accumulate}: model ${model}`,
                  );
                  for (const buffer of [alone, aAlone, bAlone]) buffer.destroy();
                }
                if (form === "dytx") {
                  // Between the models' dW nothing is written.
                  const gap = got.slice(size(layout.out), stride);
                  assert.deepEqual(gap, old.slice(size(layout.out), stride));
                }
                for (const buffer of [batched, aBuffer, bBuffer]) buffer.destroy();
              }
            }
          }
        }
        const x = fast.buffer(4096);
        // A weight whose rows are not vec4s, or models not a whole number of vec4s apart.
        const refused: [number, number, RegExp][] = [
          [6, 20, /rows of 6 values \(not a multiple of 4\)/],
          [4, 14, /multiple of 4 values apart/],
        ];
        for (const [k, stride, message] of refused) {
          await assert.rejects(
            () =>
              matmul(fast, x, x, x, { form: "xwt", m: 2, n: 3, k, models: { count: 2, stride } }),
            message,
          );
        }
        x.destroy();
      },
    );

    await t.step("bindings with offsets and explicit sizes", async () => {
      const stream = new RandomStream(3, "matmul offsets");
      const [m, n, k] = [9, 13, 6];
      const a = randomArray(stream, m * k);
      const b = randomArray(stream, n * k);
      const shape: MatmulShape = { form: "xwt", m, n, k, alpha: 0.5 };
      for (const gpu of [fast, portable]) {
        const big = gpu.buffer(4096);
        gpu.write(big, a, 256);
        gpu.write(big, b, 1024);
        const out = gpu.buffer(4096);
        await matmul(
          gpu,
          { buffer: out, offset: 512, size: m * n * 4 },
          { buffer: big, offset: 256, size: m * k * 4 },
          { buffer: big, offset: 1024, size: n * k * 4 },
          shape,
        );
        const got = new Float32Array(await gpu.read(out, 512, m * n * 4));
        const want = matmulReference(a, b, shape);
        const magnitude = matmulReference(abs(a), abs(b), shape);
        assert.ok(worst(got, want, magnitude, undefined, k).ratio <= 1);
        const before = new Float32Array(await gpu.read(out, 0, 512));
        assert.ok(before.every((v) => v === 0), "nothing is written before the output range");
        big.destroy();
        out.destroy();
      }
    });

    await t.step("more than 65535 workgroups", async () => {
      // One output column and 4 inputs: rows/tile-rows workgroups (> 65535 on both paths).
      const m = 2_100_001;
      const [n, k] = [1, 4];
      const stream = new RandomStream(4, "matmul grid");
      const a = randomArray(stream, m * k);
      const b = randomArray(stream, n * k);
      const shape: MatmulShape = { form: "xwt", m, n, k };
      const want = matmulReference(a, b, shape);
      const magnitude = matmulReference(abs(a), abs(b), shape);
      for (const gpu of [fast, portable]) {
        const aBuffer = gpu.upload(a);
        const bBuffer = gpu.upload(b);
        const out = gpu.buffer(m * n * 4);
        await matmul(gpu, out, aBuffer, bBuffer, shape);
        const got = new Float32Array(await gpu.read(out), 0, m * n);
        const { ratio, index } = worst(got, want, magnitude, undefined, k);
        assert.ok(ratio <= 1, `row ${index}: ${got[index]} vs ${want[index]}`);
        for (const buffer of [out, aBuffer, bBuffer]) buffer.destroy();
      }
    });

    await t.step("invalid arguments are rejected", async () => {
      const x = fast.buffer(64);
      await assert.rejects(
        () => matmul(fast, x, x, x, { form: "xw" as MatmulForm, m: 1, n: 1, k: 1 }),
        TypeError,
      );
      await assert.rejects(
        () => matmul(fast, x, x, x, { form: "xwt", m: 0, n: 1, k: 1 }),
        TypeError,
      );
      await assert.rejects(
        () => matmul(fast, x, x, x, { form: "xwt", m: 1, n: 1, k: 1, alpha: Number.NaN }),
        RangeError,
      );
      await assert.rejects(
        () => matmul(fast, x, x, x, { form: "dytx", m: 5, n: 4, k: 4 }),
        /a holds 16 values, the shape needs 20/,
      );
      assert.throws(
        () =>
          matmulReference(new Float32Array(3), new Float32Array(4), {
            form: "xwt",
            m: 2,
            n: 2,
            k: 2,
          }),
        TypeError,
      );
      x.destroy();
    });
  } finally {
    fast.destroy();
    portable.destroy();
  }
});

Deno.test("matmul on the GL backend (subprocess)", async () => {
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", fileURLToPath(import.meta.url)],
    env: { DENO_WEBGPU_BACKEND: "gl", MATMUL_GL_CHILD: "1" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const stdout = new TextDecoder().decode(output.stdout);
  const stderr = new TextDecoder().decode(output.stderr);
  assert.equal(output.code, 0, `the GL check failed:\n${stdout}\n${stderr}`);
  const verdict = JSON.parse(stdout.trim().split("\n").at(-1)!);
  assert.deepEqual(verdict, { ok: true, backend: "gl", path: "portable" });
});
