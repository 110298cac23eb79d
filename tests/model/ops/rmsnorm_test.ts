import assert from "node:assert/strict";
import { Gpu } from "../../../src/gpu/gpu.ts";
import {
  rmsnormBackward,
  rmsnormBackwardReference,
  rmsnormForward,
  rmsnormForwardReference,
} from "../../../src/model/ops/rmsnorm.ts";
import {
  assertClose,
  assertSameBits,
  dot,
  F32_EPS,
  finiteDifferences,
  randomF32,
  readAll,
} from "./_helpers.ts";

Deno.test("rmsnorm kernels", async (t) => {
  const gpu = await Gpu.create();
  try {
    // C = 3, 17: the scalar kernels; C = 4, 8, 64, 1000: the vec4 ones (T = 70 spreads the
    // backward's row lanes and column lanes over two workgroups).
    for (const [T, C] of [[1, 3], [7, 17], [2, 4], [70, 8], [33, 64], [5, 1000]] as const) {
      const x = randomF32(`rms/x/${T}x${C}`, T * C, 2);
      const w = randomF32(`rms/w/${C}`, C);
      const eps = 1e-6;
      const shape = { T, C, eps };
      // y is a product of a few f32 roundings on top of the mean square's C-term sum.
      const tol = { atol: 1e-6, rtol: (C + 8) * F32_EPS * 2 };

      await t.step(`forward T=${T} C=${C} matches the reference`, async () => {
        const y = gpu.buffer(T * C * 4);
        const rstd = gpu.buffer(T * 4);
        await rmsnormForward(gpu, { y, rstd, x: gpu.upload(x), w: gpu.upload(w) }, shape);
        const [gy, gr] = await readAll(gpu, [[y, T * C], [rstd, T]]);
        const ref = rmsnormForwardReference(x, w, shape);
        assertClose(gy!, ref.y, tol, "y");
        assertClose(gr!, ref.rstd, tol, "rstd");
      });

      for (const accumulate of [false, true]) {
        await t.step(
          `backward T=${T} C=${C} accumulate=${accumulate} matches the reference`,
          async () => {
            const dy = randomF32(`rms/dy/${T}x${C}`, T * C);
            const dx0 = randomF32(`rms/dx0/${T}x${C}`, T * C);
            const dw0 = randomF32(`rms/dw0/${C}`, C);
            const ref = rmsnormForwardReference(x, w, shape);
            const dx = gpu.upload(dx0);
            const dw = gpu.upload(dw0);
            await rmsnormBackward(
              gpu,
              {
                dx,
                dw,
                dy: gpu.upload(dy),
                x: gpu.upload(x),
                w: gpu.upload(w),
                rstd: gpu.upload(new Float32Array(ref.rstd)),
              },
              shape,
              { accumulate },
            );
            const [gdx, gdw] = await readAll(gpu, [[dx, T * C], [dw, C]]);
            const grads = rmsnormBackwardReference(dy, x, w, shape);
            const wantDx = accumulate ? grads.dx.map((g, i) => g + dx0[i]!) : grads.dx;
            const wantDw = grads.dw.map((g, i) => g + dw0[i]!);
            // dx: a C-term dot product scaled by rstd³; dw: a T-term sum.
            assertClose(gdx!, wantDx, { atol: C * 8 * F32_EPS * 4, rtol: 1e-6 }, "dx");
            assertClose(gdw!, wantDw, { atol: (T + 2) * 8 * F32_EPS * 4, rtol: 1e-6 }, "dw");
          },
        );
      }
    }

    await t.step("the reference backward is the gradient of the reference forward", () => {
      const [T, C] = [3, 5];
      const shape = { T, C, eps: 1e-3 };
      const x = randomF32("rms/fd/x", T * C);
      const w = randomF32("rms/fd/w", C);
      const dy = randomF32("rms/fd/dy", T * C);
      const { dx, dw } = rmsnormBackwardReference(dy, x, w, shape);
      const ndx = finiteDifferences((v) => dot(dy, rmsnormForwardReference(v, w, shape).y), x);
      const ndw = finiteDifferences((v) => dot(dy, rmsnormForwardReference(x, v, shape).y), w);
      assertClose(dx, ndx, { atol: 1e-7 }, "dx");
      assertClose(dw, ndw, { atol: 1e-7 }, "dw");
    });

    await t.step("shapes are validated", async () => {
      const b = gpu.buffer(16);
      await assert.rejects(
        rmsnormForward(gpu, { y: b, rstd: b, x: b, w: b }, { T: 2, C: 3 }),
        TypeError,
      );
      await assert.rejects(
        rmsnormForward(gpu, { y: b, rstd: b, x: b, w: b }, { T: 1, C: 3, eps: -1 }),
        RangeError,
      );
    });
  } finally {
    gpu.destroy();
  }
});

// eps matters only when a row's mean square is near or below it; every row above has a mean
// square near 1, so these rows (all zero, ~1e-4 so mean square ~1e-8, and mean square ~eps) pin
// it. Expected values come from LLaMA's formula written out here, not from the repository's
// reference, so a change to the kernel and the reference together is still caught.
Deno.test("rmsnorm kernels keep eps on tiny and all-zero rows", async (t) => {
  const gpu = await Gpu.create();
  try {
    /** Per element: |actual − expected| ≤ bound, and actual finite. */
    const assertWithin = (
      actual: ArrayLike<number>,
      expected: ArrayLike<number>,
      bound: ArrayLike<number>,
      label: string,
    ) => {
      assert.equal(actual.length, expected.length, `${label}: length`);
      for (let i = 0; i < actual.length; i++) {
        const [a, e, b] = [actual[i]!, expected[i]!, bound[i]!];
        assert.ok(Number.isFinite(a), `${label}[${i}]: ${a} is not finite (expected ${e})`);
        assert.ok(
          Math.abs(a - e) <= b,
          `${label}[${i}]: ${a} vs ${e} (|diff| ${Math.abs(a - e)} > ${b})`,
        );
      }
    };
    // The model's eps values (presets use 1e-5 and 1e-6; 1e-5 is also the op's default). C = 8:
    // the vec4 backward kernel; C = 5: the scalar one.
    for (const [eps, C] of [[1e-5, 8], [1e-6, 8], [1e-5, 5], [undefined, 5]] as const) {
      const T = 4;
      const e = eps ?? 1e-5;
      const zero = new Float32Array(C);
      const x = new Float32Array([
        ...zero,
        ...randomF32(`rms/eps/tiny/${C}`, C, 1e-4), // mean square ~1e-8 ≪ eps
        ...randomF32(`rms/eps/near/${C}`, C, Math.sqrt(e)), // mean square ~eps
        ...zero,
      ]);
      const w = randomF32(`rms/eps/w/${C}`, C);
      const dy = randomF32(`rms/eps/dy/${T}x${C}`, T * C);
      const shape = eps === undefined ? { T, C } : { T, C, eps };
      // rstd[t] = 1 / sqrt(mean(x[t]²) + eps), y = x · rstd · w, in double precision.
      const rstd = Array.from({ length: T }, (_, t) => {
        let ss = 0;
        for (let c = 0; c < C; c++) ss += x[t * C + c]! ** 2;
        return 1 / Math.sqrt(ss / C + e);
      });
      const y = Array.from(x, (v, i) => (v * rstd[Math.floor(i / C)]!) * w[i % C]!);
      // A few f32 roundings on top of the C-term mean square, relative to each value.
      const rel = (C + 8) * 4 * F32_EPS;
      const gpuForward = async () => {
        const [yb, rb] = [gpu.buffer(T * C * 4), gpu.buffer(T * 4)];
        await rmsnormForward(gpu, { y: yb, rstd: rb, x: gpu.upload(x), w: gpu.upload(w) }, shape);
        return await readAll(gpu, [[yb, T * C], [rb, T]]);
      };
      const label = `eps=${eps ?? "default"} C=${C}`;

      await t.step(`forward matches x / sqrt(mean(x²) + eps) · w, ${label}`, async () => {
        const [gy, gr] = await gpuForward();
        assertWithin(gr!, rstd, rstd.map((r) => rel * r), "rstd");
        assertWithin(gy!, y, y.map((v) => rel * Math.abs(v)), "y");
        // All-zero rows: rstd = 1/sqrt(eps), y exactly zero.
        for (const row of [0, 3]) {
          assert.ok(Math.abs(gr![row]! - 1 / Math.sqrt(e)) <= rel / Math.sqrt(e), `rstd[${row}]`);
          for (let c = 0; c < C; c++) {
            assert.ok(gy![row * C + c] === 0, `y[${row}, ${c}] = ${gy![row * C + c]}, not 0`);
          }
        }
      });

      await t.step(`backward matches the gradient of that formula, ${label}`, async () => {
        // dx_i = r·w_i·dy_i − r³/C · x_i · Σ_j w_j·dy_j·x_j;  dw_i = Σ_t dy[t, i]·x[t, i]·r_t,
        // with bounds of a few roundings of each term's magnitude.
        const dxWant = new Float64Array(T * C);
        const dxBound = new Float64Array(T * C);
        const dwWant = new Float64Array(C);
        const dwBound = new Float64Array(C);
        for (let t = 0; t < T; t++) {
          const r = rstd[t]!;
          let s = 0;
          let sAbs = 0;
          for (let c = 0; c < C; c++) {
            s += w[c]! * dy[t * C + c]! * x[t * C + c]!;
            sAbs += Math.abs(w[c]! * dy[t * C + c]! * x[t * C + c]!);
          }
          for (let c = 0; c < C; c++) {
            const i = t * C + c;
            const first = r * w[c]! * dy[i]!;
            const second = (r ** 3 / C) * x[i]!;
            dxWant[i] = first - second * s;
            dxBound[i] = rel * (Math.abs(first) + Math.abs(second) * sAbs);
            dwWant[c]! += dy[i]! * x[i]! * r;
            dwBound[c]! += (T + 8) * 4 * F32_EPS * Math.abs(dy[i]! * x[i]! * r);
          }
        }
        // The whole chain: the GPU forward's rstd feeds the GPU backward.
        const [, gr] = await gpuForward();
        const dx = gpu.buffer(T * C * 4);
        const dw = gpu.upload(new Float32Array(C));
        await rmsnormBackward(
          gpu,
          { dx, dw, dy: gpu.upload(dy), x: gpu.upload(x), w: gpu.upload(w), rstd: gpu.upload(gr!) },
          shape,
        );
        const [gdx, gdw] = await readAll(gpu, [[dx, T * C], [dw, C]]);
        assertWithin(gdx!, dxWant, dxBound, "dx");
        assertWithin(gdw!, dwWant, dwBound, "dw");
      });
    }
  } finally {
    gpu.destroy();
  }
});

// B models in one call (ModelRows) must give each model exactly the bits of a call of its own,
// padding rows (dy = 0) included. Weights and their gradients sit `stride` elements apart, behind
// a binding 256 bytes into its buffer (the gaps hold values no kernel may read or write).
Deno.test("rmsnorm kernels run many models per dispatch, bit-identical to one at a time", async (t) => {
  const gpu = await Gpu.create();
  try {
    const B = 3;
    const lead = 64; // elements before the binding: 256 bytes
    // C = 12, stride 32: the vec4 kernels; C = 13: the scalar ones; C = 12, stride 33: the
    // scalar ones standing in for the vec4 ones (the per-model calls run vec4, so the bits of
    // both are compared). 70 rows: a model spans workgroups.
    const cases = [[7, 12, 32], [37, 13, 33], [37, 12, 33], [7, 13, 36], [70, 16, 36]] as const;
    for (const [rows, C, stride] of cases) {
      const T = B * rows;
      const eps = 1e-5;
      const label = `rows=${rows} C=${C} stride=${stride}`;
      const span = (B - 1) * stride + C;
      const x = randomF32(`rms/models/x/${label}`, T * C, 2);
      const w = randomF32(`rms/models/w/${label}`, lead + span + 8);
      const dy = randomF32(`rms/models/dy/${label}`, T * C);
      dy.fill(0, (rows + rows - 3) * C, 2 * rows * C); // model 1's last 3 rows are padding
      const dx0 = randomF32(`rms/models/dx0/${label}`, T * C);
      const dw0 = randomF32(`rms/models/dw0/${label}`, lead + span + 8);
      const models = { count: B, rows, stride };
      const at = (data: Float32Array) => ({
        buffer: gpu.upload(data),
        offset: lead * 4,
        size: span * 4,
      });
      const modelW = (b: number) => w.slice(lead + b * stride, lead + b * stride + C);
      const shape = { T, C, eps };
      const one = { T: rows, C, eps };

      let rstdAll: Float32Array | undefined;
      await t.step(`forward ${label}`, async () => {
        const y = gpu.buffer(T * C * 4), rstd = gpu.buffer(T * 4);
        await rmsnormForward(gpu, { y, rstd, x: gpu.upload(x), w: at(w) }, shape, { models });
        const [gy, gr] = await readAll(gpu, [[y, T * C], [rstd, T]]);
        rstdAll = gr!;
        for (let b = 0; b < B; b++) {
          const y1 = gpu.buffer(rows * C * 4), r1 = gpu.buffer(rows * 4);
          const xb = x.slice(b * rows * C, (b + 1) * rows * C);
          await rmsnormForward(
            gpu,
            { y: y1, rstd: r1, x: gpu.upload(xb), w: gpu.upload(modelW(b)) },
            one,
          );
          const [oy, or] = await readAll(gpu, [[y1, rows * C], [r1, rows]]);
          assertSameBits(gy!.subarray(b * rows * C, (b + 1) * rows * C), oy!, `y of model ${b}`);
          assertSameBits(gr!.subarray(b * rows, (b + 1) * rows), or!, `rstd of model ${b}`);
        }
      });

      for (const accumulate of [false, true]) {
        await t.step(`backward ${label} accumulate=${accumulate}`, async () => {
          const rstd = rstdAll!;
          const dx = gpu.upload(dx0);
          const dw = at(dw0);
          await rmsnormBackward(
            gpu,
            { dx, dw, dy: gpu.upload(dy), x: gpu.upload(x), w: at(w), rstd: gpu.upload(rstd) },
            shape,
            { accumulate, models },
          );
          const [gdx, gdw] = await readAll(gpu, [[dx, T * C], [dw.buffer, lead + span + 8]]);
          const untouched = new Float32Array(dw0);
          for (let b = 0; b < B; b++) {
            const rowsOf = (a: Float32Array) => a.slice(b * rows * C, (b + 1) * rows * C);
            const dx1 = gpu.upload(rowsOf(dx0));
            const wAt = lead + b * stride;
            const dw1 = gpu.upload(dw0.slice(wAt, wAt + C));
            await rmsnormBackward(
              gpu,
              {
                dx: dx1,
                dw: dw1,
                dy: gpu.upload(rowsOf(dy)),
                x: gpu.upload(rowsOf(x)),
                w: gpu.upload(modelW(b)),
                rstd: gpu.upload(rstd.slice(b * rows, (b + 1) * rows)),
              },
              one,
              { accumulate },
            );
            const [odx, odw] = await readAll(gpu, [[dx1, rows * C], [dw1, C]]);
            assertSameBits(gdx!.subarray(b * rows * C, (b + 1) * rows * C), odx!, `dx of ${b}`);
            assertSameBits(gdw!.subarray(wAt, wAt + C), odw!, `dw of model ${b}`);
            untouched.set(odw!, wAt);
          }
          // Nothing outside the models' dw changed.
          assertSameBits(gdw!, untouched, "dw buffer");
        });
      }
    }

    await t.step("models must cover T rows and keep their dw apart", async () => {
      const b = gpu.buffer(4096);
      const buffers = { dx: b, dw: b, dy: b, x: b, w: b, rstd: b };
      await assert.rejects(
        rmsnormForward(gpu, { y: b, rstd: b, x: b, w: b }, { T: 10, C: 4 }, {
          models: { count: 3, rows: 3, stride: 8 },
        }),
        RangeError,
      );
      await assert.rejects(
        rmsnormBackward(gpu, buffers, { T: 9, C: 4 }, { models: { count: 2, rows: 3, stride: 4 } }),
        RangeError,
      );
      await assert.rejects(
        rmsnormBackward(gpu, buffers, { T: 9, C: 4 }, { models: { count: 3, rows: 3, stride: 2 } }),
        RangeError,
      );
    });
  } finally {
    gpu.destroy();
  }
});
