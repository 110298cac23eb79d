import assert from "node:assert/strict";
import { Gpu } from "../../src/gpu/gpu.ts";
import { GpuVector } from "../../src/gpu/vector.ts";
import { BasisPlan } from "../../src/projection/plan.ts";
import type { Segment } from "../../src/gpu/vector.ts";
import { projectReference, reconstructReference } from "../../src/projection/reference.ts";
import { DISTRIBUTIONS } from "../../src/random/basis.ts";

function maxRelError(got: ArrayLike<number>, want: ArrayLike<number>, floor: number): number {
  let e = 0;
  for (let i = 0; i < want.length; i++) {
    e = Math.max(e, Math.abs(got[i]! - want[i]!) / (floor + Math.abs(want[i]!)));
  }
  return e;
}

Deno.test("fused projection and reconstruction", async (t) => {
  const gpu = await Gpu.create();
  // Awkward layout: d = 3001 (prime-ish), blocks of 1, 5, 999 (spans chunks 0–1 after a gap), 1995; K_l = 1, 3, 2, 5; chunks of 1024 elements.
  const d = 3001;
  const blocks: Segment[] = [
    { start: 0, length: 1 },
    { start: 1, length: 5 },
    { start: 7, length: 999 },
    { start: 1006, length: 1995 },
  ];
  const counts = [1, 3, 2, 5];
  const x = Float32Array.from({ length: d }, (_, i) => Math.sin(i * 0.37) + 0.1);
  const seed = 123456789012;
  try {
    for (const dist of DISTRIBUTIONS) {
      await t.step(`${dist}: projection and reconstruction match the references`, async () => {
        const xv = GpuVector.from(gpu, x, { chunkElements: 1024 });
        const plan = BasisPlan.create(gpu, { blocks, counts, distribution: dist, vector: xv });
        try {
          const gamma = await plan.projectToArray(xv, seed);
          const want = projectReference(x, blocks, counts, dist, seed);
          assert.ok(maxRelError(gamma, want, 1e-2) < 2e-5, `projection ${dist}`);

          for (const objective of ["zo-square", "zo-sin2"] as const) {
            const g = await plan.projectToArray(xv, seed, { objective, eps: 0.05 });
            const w = projectReference(x, blocks, counts, dist, seed, objective, 0.05);
            assert.ok(maxRelError(g, w, 1e-1) < 1e-4, `${objective} ${dist}`);
          }

          const coef = plan.coordinateBuffer();
          gpu.write(coef, gamma);
          const scales = [0.5, -2, 3, 0.25];
          const target = GpuVector.from(gpu, x, { chunkElements: 1024 });
          await plan.reconstruct(target, seed, coef, { scales: plan.scaleBuffer(scales) });
          const got = await target.read();
          const ref = reconstructReference(x, blocks, counts, dist, seed, gamma, scales);
          // Gaussian elements carry the GPU's ln/cos error (~1e-6) times coefficients of ~100.
          const tol = dist === "gaussian" ? 2e-4 : 1e-5;
          assert.ok(maxRelError(got, ref, 1) < tol, `reconstruction ${dist}`);
          assert.equal(got[6], x[6], "elements outside every block are untouched");

          await plan.reconstruct(target, seed, coef, { accumulate: false });
          const over = await target.read();
          const ref2 = reconstructReference(
            x,
            blocks,
            counts,
            dist,
            seed,
            gamma,
            [1, 1, 1, 1],
            false,
          );
          assert.ok(maxRelError(over, ref2, 1) < tol, `overwrite ${dist}`);
          target.destroy();
        } finally {
          plan.destroy();
          xv.destroy();
        }
      });
    }

    await t.step("the result does not depend on chunking or tile size", async () => {
      const a = GpuVector.from(gpu, x);
      const b = GpuVector.from(gpu, x, { chunkElements: 516 });
      const pa = BasisPlan.create(gpu, { blocks, counts, vector: a });
      const pb = BasisPlan.create(gpu, { blocks, counts, vector: b, granulesPerLane: 1 });
      const ga = await pa.projectToArray(a, seed);
      const gb = await pb.projectToArray(b, seed);
      assert.ok(maxRelError(ga, gb, 1e-2) < 1e-5);
      pa.destroy();
      pb.destroy();
      a.destroy();
      b.destroy();
    });

    await t.step("invalid layouts are rejected with clear errors", () => {
      const v = { length: 100, chunkElements: 64 };
      assert.throws(
        () => BasisPlan.create(gpu, { blocks: [{ start: 0, length: 0 }], counts: [1], vector: v }),
        (e: Error) => e instanceof RangeError && /empty blocks are not allowed/.test(e.message),
      );
      assert.throws(
        () => BasisPlan.create(gpu, { blocks: [{ start: 0, length: 10 }], counts: [0], vector: v }),
        RangeError,
      );
      assert.throws(
        () =>
          BasisPlan.create(gpu, {
            blocks: [{ start: 0, length: 10 }, { start: 5, length: 10 }],
            counts: [1, 1],
            vector: v,
          }),
        RangeError,
      );
      assert.throws(
        () =>
          BasisPlan.create(gpu, { blocks: [{ start: 90, length: 20 }], counts: [1], vector: v }),
        RangeError,
      );
      assert.throws(
        () =>
          BasisPlan.create(gpu, { blocks: [{ start: 0, length: 10 }], counts: [1, 2], vector: v }),
        TypeError,
      );
    });
  } finally {
    gpu.destroy();
  }
});
