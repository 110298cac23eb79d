import assert from "node:assert/strict";
import { Gpu } from "../../../src/gpu/gpu.ts";
import {
  crossEntropyBackward,
  crossEntropyBackwardReference,
  crossEntropyForward,
  crossEntropyForwardReference,
  crossEntropyMean,
  crossEntropyMeanReference,
  IGNORE_INDEX,
} from "../../../src/model/ops/cross_entropy.ts";
import {
  assertClose,
  assertSameBits,
  dot,
  F32_EPS,
  finiteDifferences,
  randomF32,
  randomInts,
  readAll,
} from "./_helpers.ts";

Deno.test("cross-entropy kernels", async (t) => {
  const gpu = await Gpu.create();
  try {
    // 130 rows span three workgroups; 70001 logits per row exceed what one un-unrolled
    // loop may run on a CPU adapter (65535 iterations).
    for (const [T, V] of [[1, 5], [7, 17], [33, 300], [130, 9], [3, 70_001]] as const) {
      await t.step(`T=${T} V=${V}: losses, mean and dlogits match the reference`, async () => {
        const logits = randomF32(`ce/logits/${T}x${V}`, T * V, 3);
        const labels = randomInts(`ce/labels/${T}x${V}`, T, V);
        if (T > 1) labels[1] = IGNORE_INDEX;
        if (T > 5) labels[5] = IGNORE_INDEX;
        const scale = 0.75;
        const logitBuffer = gpu.upload(logits);
        const labelBuffer = gpu.upload(labels);
        const losses = gpu.buffer(T * 4), fusedLosses = gpu.buffer(T * 4), mean = gpu.buffer(8);
        await crossEntropyForward(gpu, { losses, logits: logitBuffer, labels: labelBuffer }, {
          T,
          V,
        });
        await crossEntropyMean(gpu, { result: mean, losses, labels: labelBuffer }, { T });
        await crossEntropyBackward(gpu, {
          losses: fusedLosses,
          logits: logitBuffer,
          labels: labelBuffer,
        }, { T, V, scale });
        const [gLoss, gMean, gFused, gGrad] = await readAll(gpu, [
          [losses, T],
          [mean, 2],
          [fusedLosses, T],
          [logitBuffer, T * V],
        ]);
        const ref = crossEntropyForwardReference(logits, labels, { T, V });
        // logsumexp over V terms of size ~exp(10): error a few ulp of the loss plus V roundings.
        const tol = { atol: (V + 16) * 4 * F32_EPS * 4, rtol: 8 * F32_EPS };
        assertClose(gLoss!, ref, tol, "losses");
        assert.deepEqual(gFused, gLoss, "fused losses differ from the forward kernel's");
        const { mean: m, count } = crossEntropyMeanReference(gLoss!, labels);
        assert.equal(gMean![1], count);
        assertClose([gMean![0]!], [m], { rtol: (T + 2) * F32_EPS }, "mean");
        const grad = crossEntropyBackwardReference(logits, labels, { T, V, scale });
        // Softmax rows share the sum of V exponentials (relative error ≲ V·ε).
        const rtol = (V + 64) * F32_EPS;
        assertClose(gGrad!, grad, { atol: 64 * F32_EPS / count, rtol }, "dlogits");
      });
    }

    await t.step("weighted rows and a mean over one sequence of a packed row", async () => {
      const [T, V] = [37, 23];
      const logits = randomF32("ce/weighted/logits", T * V, 3);
      const labels = randomInts("ce/weighted/labels", T, V);
      labels[0] = IGNORE_INDEX;
      labels[20] = IGNORE_INDEX;
      const weights = randomF32("ce/weighted/weights", T).map(Math.abs);
      weights[0] = weights[20] = 0;
      const scale = 0.5;
      const logitBuffer = gpu.upload(logits), labelBuffer = gpu.upload(labels);
      const losses = gpu.buffer(T * 4), mean = gpu.buffer(8);
      await crossEntropyBackward(gpu, {
        losses,
        logits: logitBuffer,
        labels: labelBuffer,
        weights: gpu.upload(weights),
      }, { T, V, scale });
      // Tokens 11 … 29 alone: the mean of a sequence that starts mid-row.
      await crossEntropyMean(gpu, { result: mean, losses, labels: labelBuffer }, {
        T: 19,
        first: 11,
      });
      const [gLoss, gMean, gGrad] = await readAll(gpu, [[losses, T], [mean, 2], [
        logitBuffer,
        T * V,
      ]]);
      const grad = crossEntropyBackwardReference(logits, labels, { T, V, scale, weights });
      assertClose(
        gGrad!,
        grad,
        { atol: 64 * F32_EPS, rtol: (V + 64) * F32_EPS },
        "weighted dlogits",
      );
      const part = crossEntropyMeanReference(gLoss!.subarray(11, 30), labels.subarray(11, 30));
      assert.equal(gMean![1], part.count);
      assertClose([gMean![0]!], [part.mean], { rtol: 32 * F32_EPS }, "mean of tokens 11 … 29");
      // The weighted reference is the gradient of scale · Σ weights·loss (finite differences).
      const small = { T: 4, V: 6 };
      const z0 = randomF32("ce/weighted/fd", 24, 2), y = new Int32Array([2, IGNORE_INDEX, 0, 5]);
      const w = [0.5, 0, 0.25, 2];
      const numeric = finiteDifferences(
        (z) =>
          scale * crossEntropyForwardReference(z, y, small).reduce((a, l, i) => a + l * w[i]!, 0),
        z0,
      );
      const analytic = crossEntropyBackwardReference(z0, y, { ...small, scale, weights: w });
      assertClose(analytic, numeric, { atol: 1e-8 }, "weighted reference vs finite differences");
    });

    await t.step("all labels masked: zero losses, zero gradient, mean (0, 0)", async () => {
      const [T, V] = [3, 4];
      const logits = gpu.upload(randomF32("ce/masked", T * V));
      const labels = gpu.upload(new Int32Array(T).fill(IGNORE_INDEX));
      const losses = gpu.buffer(T * 4), mean = gpu.buffer(8);
      await crossEntropyBackward(gpu, { losses, logits, labels }, { T, V });
      await crossEntropyMean(gpu, { result: mean, losses, labels }, { T });
      const [l, m, g] = await readAll(gpu, [[losses, T], [mean, 2], [logits, T * V]]);
      assert.deepEqual([...l!, ...m!, ...g!], new Array(T + 2 + T * V).fill(0));
    });

    await t.step("a label outside the vocabulary gives NaN", async () => {
      const logits = gpu.upload(new Float32Array(6));
      const labels = gpu.upload(new Int32Array([1, 3]));
      const losses = gpu.buffer(8);
      await crossEntropyForward(gpu, { losses, logits, labels }, { T: 2, V: 3 });
      const [l] = await readAll(gpu, [[losses, 2]]);
      assert.ok(Number.isFinite(l![0]) && Number.isNaN(l![1]));
    });

    await t.step("the reference backward is the gradient of the reference mean loss", () => {
      const [T, V] = [4, 6];
      const logits = randomF32("ce/fd/logits", T * V, 2);
      const labels = new Int32Array([2, IGNORE_INDEX, 0, 5]);
      const scale = 1.5;
      const numeric = finiteDifferences(
        (z) =>
          scale *
          crossEntropyMeanReference(crossEntropyForwardReference(z, labels, { T, V }), labels).mean,
        logits,
      );
      const analytic = crossEntropyBackwardReference(logits, labels, { T, V, scale });
      assertClose(analytic, numeric, { atol: 1e-8 }, "dlogits");
      assert.equal(dot(analytic.subarray(V, 2 * V), analytic.subarray(V, 2 * V)), 0);
    });

    await t.step("shapes are validated", async () => {
      const b = gpu.buffer(16);
      await assert.rejects(
        crossEntropyForward(gpu, { losses: b, logits: b, labels: b }, { T: 2, V: 3 }),
        TypeError,
      );
      await assert.rejects(
        crossEntropyBackward(gpu, { losses: b, logits: b, labels: b }, { T: 1, V: 2, scale: NaN }),
        RangeError,
      );
    });
  } finally {
    gpu.destroy();
  }
});

// B models in one call (ModelRows) must give each model exactly the bits of a call of its own:
// its own count of unmasked labels, padding rows (−100) included. With weights, models whose
// weights are negative are unweighted (scale / their count) and the others weighted.
Deno.test("cross-entropy backward runs many models per dispatch, bit-identical to one at a time", async (t) => {
  const gpu = await Gpu.create();
  try {
    // 12 × 5 and 40 × 3: a workgroup's 64 rows span many models, and a model spans two workgroups.
    for (
      const [B, rows, V] of [[3, 7, 11], [3, 37, 11], [3, 70, 17], [12, 5, 11], [40, 3, 5]] as const
    ) {
      const T = B * rows;
      const label = `B=${B} rows=${rows} V=${V}`;
      const logits = randomF32(`ce/models/logits/${label}`, T * V, 3);
      const labels = randomInts(`ce/models/labels/${label}`, T, V);
      for (let i = 0; i < T; i += 4) labels[i] = IGNORE_INDEX;
      labels.fill(IGNORE_INDEX, 2 * rows - Math.min(rows, 3), 2 * rows); // model 1's padding
      if (B > 3) labels.fill(IGNORE_INDEX, 3 * rows, 4 * rows); // model 3: all masked
      const scale = 0.75;
      const models = { count: B, rows, stride: 0 };
      // Models 0, 2, 4, …: unweighted (−1); the others weighted by 1 / their count (0 if masked).
      const weights = new Float32Array(T);
      for (let b = 0; b < B; b++) {
        const mine = labels.subarray(b * rows, (b + 1) * rows);
        const count = mine.filter((l) => l !== IGNORE_INDEX).length;
        for (let r = 0; r < rows; r++) {
          weights[b * rows + r] = b % 2 === 0
            ? -1
            : mine[r] === IGNORE_INDEX
            ? 0
            : (1 + r / rows) / Math.max(count, 1);
        }
      }
      const modelRange = (a: Float32Array, b: number, n = 1) =>
        a.slice(b * rows * n, (b + 1) * rows * n);

      for (const weighted of [false, true]) {
        await t.step(
          `${label} ${weighted ? "weighted (some negative)" : "unweighted"}`,
          async () => {
            const logitBuffer = gpu.upload(logits), losses = gpu.buffer(T * 4);
            await crossEntropyBackward(
              gpu,
              {
                losses,
                logits: logitBuffer,
                labels: gpu.upload(labels),
                ...(weighted ? { weights: gpu.upload(weights) } : {}),
              },
              { T, V, scale },
              { models },
            );
            // Each model on its own (read back with one map).
            const ranges: [GPUBuffer, number][] = [[losses, T], [logitBuffer, T * V]];
            for (let b = 0; b < B; b++) {
              const one = gpu.upload(modelRange(logits, b, V)), oneLoss = gpu.buffer(rows * 4);
              const own = weighted && b % 2 === 1;
              await crossEntropyBackward(gpu, {
                losses: oneLoss,
                logits: one,
                labels: gpu.upload(labels.slice(b * rows, (b + 1) * rows)),
                ...(own ? { weights: gpu.upload(modelRange(weights, b)) } : {}),
              }, { T: rows, V, scale });
              ranges.push([oneLoss, rows], [one, rows * V]);
            }
            const [gLoss, gGrad, ...alone] = await readAll(gpu, ranges);
            for (let b = 0; b < B; b++) {
              const [wLoss, wGrad] = [alone[2 * b]!, alone[2 * b + 1]!];
              assertSameBits(gLoss!.subarray(b * rows, (b + 1) * rows), wLoss, `losses of ${b}`);
              assertSameBits(
                gGrad!.subarray(b * rows * V, (b + 1) * rows * V),
                wGrad,
                `dlogits of ${b}`,
              );
            }
            // And the reference agrees with the batched kernel.
            const ref = crossEntropyBackwardReference(logits, labels, {
              T,
              V,
              scale,
              models,
              ...(weighted ? { weights } : {}),
            });
            assertClose(gGrad!, ref, { atol: 64 * F32_EPS, rtol: (V + 64) * F32_EPS }, "dlogits");
          },
        );
      }
    }

    await t.step("models must cover T rows", async () => {
      const b = gpu.buffer(4096);
      await assert.rejects(
        crossEntropyBackward(gpu, { losses: b, logits: b, labels: b }, { T: 10, V: 3 }, {
          models: { count: 3, rows: 3, stride: 0 },
        }),
        RangeError,
      );
    });
  } finally {
    gpu.destroy();
  }
});
