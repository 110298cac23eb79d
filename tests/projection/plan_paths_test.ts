// Parity of every kernel path of the fused projection and reconstruction against the float64
// references: whole groups of bases and a block's last partial group, the truncated normal's
// slow-path corrections (including the rescans when a lane meets three or more slow granules or
// groups), the Rademacher fast kernel and its generic kernel (tile edges, a misaligned block,
// blocks split mid-granule by a chunk boundary, zeroth-order objectives), on the default device
// and on one created with { portable: true }.
import assert from "node:assert/strict";
import { Gpu } from "../../src/gpu/gpu.ts";
import { GpuVector } from "../../src/gpu/vector.ts";
import { BasisPlan } from "../../src/projection/plan.ts";
import type { Segment } from "../../src/gpu/vector.ts";
import { projectReference, reconstructReference } from "../../src/projection/reference.ts";
import {
  basisParams,
  basisVector,
  type Distribution,
  DISTRIBUTIONS,
  seedKey,
} from "../../src/random/basis.ts";
import { philox4x32Into } from "../../src/random/philox.ts";

function maxRelError(got: ArrayLike<number>, want: ArrayLike<number>, floor: number): number {
  let e = 0;
  for (let i = 0; i < want.length; i++) {
    e = Math.max(e, Math.abs(got[i]! - want[i]!) / (floor + Math.abs(want[i]!)));
  }
  return e;
}

// Chunks of 1024 elements. A: small (a sixth of a percent of its truncated-normal elements take
// the slow path) with K = 130 (16 whole groups of 8 and 2 more). B: misaligned (start ≡ 3 mod 4),
// across the chunk boundary at 1024. C: aligned, split mid-granule by the boundary at 2048,
// K = 40 (one Rademacher fast group of 32 and a partial group of 8). D: whole tiles, K = 64.
// E: aligned with K = 3 (fewer bases than a group).
const blocks: Segment[] = [
  { start: 0, length: 200 },
  { start: 203, length: 1700 },
  { start: 1904, length: 2200 },
  { start: 4104, length: 1024 },
  { start: 5128, length: 300 },
];
const counts = [130, 41, 40, 64, 3];
const d = 5500;
const seed = 987654321;
const x = Float32Array.from({ length: d }, (_, i) => Math.sin(i * 0.61) + 0.05);

/**
 * γ_{l,k} in float64 and the bound of its float32 error: summed in another order (per lane, then
 * across lanes), a sum of n terms t_i is off by at most ~n·2⁻²⁴·Σ|t_i| and typically by
 * √n·2⁻²⁴·Σ|t_i|; 2·10⁻⁶·Σ|t_i| lies between the two for these blocks (and covers the GPU's
 * ~10⁻⁶ relative error of each Gaussian element, whose signs vary).
 */
function projectBounded(
  dist: Distribution,
  blocks: readonly Segment[],
  counts: readonly number[],
  x: Float32Array,
): { want: number[]; tol: number[] } {
  const want: number[] = [];
  const tol: number[] = [];
  blocks.forEach((block, l) => {
    const params = basisParams(dist, block.length);
    for (let k = 0; k < counts[l]!; k++) {
      const v = basisVector(dist, params, seed, l, k);
      let sum = 0;
      let abs = 0;
      for (let i = 0; i < block.length; i++) {
        const t = v[i]! * x[block.start + i]!;
        sum += t;
        abs += Math.abs(t);
      }
      want.push(sum);
      tol.push(2e-6 * abs);
    }
  });
  return { want, tol };
}

/** Whether any truncated-normal element of (granule g, basis k) of block l takes the slow path. */
function slowGranule(l: number, k: number, g: number): boolean {
  const [k0, k1] = seedKey(seed);
  const levels = basisParams("truncnormal", blocks[l]!.length).levels;
  const w = new Uint32Array(4);
  philox4x32Into(g, k, l, 1 << 24, k0, k1, w);
  return [...w].some((word) => (word & 0xffff) >= levels || word >>> 16 >= levels);
}

Deno.test("the truncated-normal rescans are exercised by this layout", () => {
  // Projection with 64 granules per lane: lane 0 of block A holds all 25 granules; a row of 8
  // bases rescans when ≥ 3 of them hold slow elements.
  const rows = Array.from({ length: 16 }, (_, r) => {
    let granules = 0;
    for (let g = 0; g < 25; g++) {
      if (Array.from({ length: 8 }, (_, j) => slowGranule(0, 8 * r + j, g)).some(Boolean)) {
        granules++;
      }
    }
    return granules;
  });
  assert.ok(rows.some((n) => n >= 3), `slow granules per row: ${rows}`);
  // Reconstruction: a granule rescans when ≥ 3 of its 16 whole groups hold slow elements.
  const granules = Array.from({ length: 25 }, (_, g) => {
    let groups = 0;
    for (let r = 0; r < 16; r++) {
      if (Array.from({ length: 8 }, (_, j) => slowGranule(0, 8 * r + j, g)).some(Boolean)) {
        groups++;
      }
    }
    return groups;
  });
  assert.ok(granules.some((n) => n >= 3), `slow groups per granule: ${granules}`);
});

for (const portable of [false, true]) {
  Deno.test(`every projection path matches the references${portable ? " (portable device)" : ""}`, async (t) => {
    const gpu = await Gpu.create({ portable });
    try {
      for (const dist of portable ? (["truncnormal", "rademacher"] as const) : DISTRIBUTIONS) {
        await t.step(dist, async () => {
          const xv = GpuVector.from(gpu, x, { chunkElements: 1024 });
          const plans = [
            BasisPlan.create(gpu, { blocks, counts, distribution: dist, vector: xv }),
            // 64 granules per lane as given: long lanes, where the rescans happen.
            BasisPlan.create(gpu, {
              blocks,
              counts,
              distribution: dist,
              vector: xv,
              granulesPerLane: 64,
            }),
          ];
          try {
            const { want, tol } = projectBounded(dist, blocks, counts, x);
            for (const plan of plans) {
              const gamma = await plan.projectToArray(xv, seed);
              want.forEach((w, o) => {
                assert.ok(
                  Math.abs(gamma[o]! - w) <= tol[o]!,
                  `γ ${o} (${dist}): ${gamma[o]} vs ${w}`,
                );
              });
            }
            if (!portable) {
              const w = projectReference(x, blocks, counts, dist, seed, "zo-square", 0.05);
              const g = await plans[0]!.projectToArray(xv, seed, {
                objective: "zo-square",
                eps: 0.05,
              });
              assert.ok(maxRelError(g, w, 1e-1) < 1e-4, `zo-square ${dist}`);
            }
            // Coefficients of either sign and size.
            const total = counts.reduce((a, b) => a + b, 0);
            const coef = Float32Array.from({ length: total }, (_, i) => Math.cos(i * 1.3) * 3);
            const scales = [0.5, -2, 3, 0.25, 1.5];
            const ref = reconstructReference(x, blocks, counts, dist, seed, coef, scales);
            // Gaussian elements carry the GPU's ln/cos error (~1e-6) times Σ|c| of ~300.
            const rtol = dist === "gaussian" ? 5e-4 : 2e-5;
            for (const plan of plans) {
              const buffer = plan.coordinateBuffer();
              gpu.write(buffer, coef);
              const target = GpuVector.from(gpu, x, { chunkElements: 1024 });
              await plan.reconstruct(target, seed, buffer, { scales: plan.scaleBuffer(scales) });
              const got = await target.read();
              assert.ok(maxRelError(got, ref, 1) < rtol, `reconstruction ${dist}`);
              assert.equal(got[201], x[201], "elements outside every block are untouched");
              target.destroy();
            }
          } finally {
            for (const plan of plans) plan.destroy();
            xv.destroy();
          }
        });
      }
    } finally {
      gpu.destroy();
    }
  });
}

Deno.test("the portable kernels run on the GL backend (no subgroups)", async () => {
  const script = `
    import { Gpu } from "${new URL("../../mod.ts", import.meta.url).href}";
    import { BasisPlan, GpuVector, projectReference, reconstructReference } from "${
    new URL("../../engine.ts", import.meta.url).href
  }";
    const gpu = await Gpu.create({ backend: "gl" });
    const blocks = [{ start: 0, length: 200 }, { start: 203, length: 1000 }, { start: 1204, length: 700 }];
    const counts = [20, 9, 3];
    const x = Float32Array.from({ length: 2000 }, (_, i) => Math.sin(i * 0.61) + 0.05);
    const errors = [];
    for (const dist of ["truncnormal", "gaussian"]) {
      const xv = GpuVector.from(gpu, x, { chunkElements: 1024 });
      const plan = BasisPlan.create(gpu, { blocks, counts, distribution: dist, vector: xv });
      const g = await plan.projectToArray(xv, 5);
      const w = projectReference(x, blocks, counts, dist, 5);
      const coef = plan.coordinateBuffer();
      gpu.write(coef, g);
      await plan.reconstruct(xv, 5, coef);
      const r = await xv.read();
      const rr = reconstructReference(x, blocks, counts, dist, 5, g, [1, 1, 1]);
      let e = 0;
      for (let i = 0; i < w.length; i++) e = Math.max(e, Math.abs(g[i] - w[i]) / (1 + Math.abs(w[i])));
      let e2 = 0;
      for (let i = 0; i < rr.length; i++) e2 = Math.max(e2, Math.abs(r[i] - rr[i]) / (1 + Math.abs(rr[i])));
      errors.push(e, e2);
      plan.destroy();
      xv.destroy();
    }
    console.log(JSON.stringify({ subgroups: gpu.info.subgroups, errors }));
    gpu.destroy();`;
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["eval", "--no-config", script],
    env: { XDG_RUNTIME_DIR: Deno.env.get("XDG_RUNTIME_DIR") ?? "/tmp" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const stderr = new TextDecoder().decode(output.stderr);
  assert.equal(output.code, 0, stderr);
  const result = JSON.parse(new TextDecoder().decode(output.stdout).trim().split("\n").at(-1)!);
  assert.equal(result.subgroups, false);
  // Relative to 1 + |value|: float rounding, and the Gaussian elements' ~1e-6 (ln, cos) times Σ|c|.
  assert.ok(result.errors.every((e: number) => e < 1e-4), `errors ${result.errors}`);
});

Deno.test("many bases on small blocks: the reconstruction splits them into passes", async () => {
  // On blocks of 1 and 40 elements most truncated-normal steps need the slow path, so the plan
  // splits K_l = 8000 and 2000 into passes (one lane's loops would otherwise pass llvmpipe's cap
  // and end early, silently); the later passes add to the first even when overwriting.
  const gpu = await Gpu.create();
  try {
    const small: Segment[] = [{ start: 0, length: 1 }, { start: 4, length: 40 }];
    const ks = [8000, 2000];
    const y = Float32Array.from({ length: 48 }, (_, i) => 1 + i / 10);
    const yv = GpuVector.from(gpu, y);
    const plan = BasisPlan.create(gpu, { blocks: small, counts: ks, vector: yv });
    const coef = Float32Array.from({ length: 10000 }, (_, i) => Math.sin(i) / 100);
    const buffer = plan.coordinateBuffer();
    gpu.write(buffer, coef);
    for (const accumulate of [true, false]) {
      const target = GpuVector.from(gpu, y);
      await plan.reconstruct(target, seed, buffer, { accumulate });
      const got = await target.read();
      const ref = reconstructReference(y, small, ks, "truncnormal", seed, coef, [1, 1], accumulate);
      assert.ok(maxRelError(got, ref, 1) < 1e-5, `accumulate = ${accumulate}`);
      target.destroy();
    }
    const gamma = await plan.projectToArray(yv, seed);
    const { want, tol } = projectBounded("truncnormal", small, ks, y);
    want.forEach((w, o) =>
      assert.ok(Math.abs(gamma[o]! - w) <= tol[o]!, `γ ${o}: ${gamma[o]} vs ${w}`)
    );
    plan.destroy();
    yv.destroy();
  } finally {
    gpu.destroy();
  }
});
