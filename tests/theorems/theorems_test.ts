import assert from "node:assert/strict";
import { Gpu } from "../../src/gpu/gpu.ts";
import { figure7 } from "../../experiments/figure7.ts";
import { figure8 } from "../../experiments/figure8.ts";
import { proposition1 } from "../../experiments/proposition1.ts";
import { proposition2 } from "../../experiments/proposition2.ts";
import { theorem1 } from "../../experiments/theorem1.ts";
import { theorem2, verifyTheorem2 } from "../../experiments/theorem2.ts";
import { theorem3 } from "../../experiments/theorem3.ts";
import { theorem4_gap } from "../../experiments/theorem4_gap.ts";
import { theorem1Row } from "../../src/theory/unbiasedness.ts";
import { theorem2Row } from "../../src/theory/reconstruction_error.ts";
import { failing, runChecks } from "./_run.ts";

Deno.test("theory experiments at smoke scale on the GPU kernels", async (t) => {
  const gpu = await Gpu.create();
  try {
    for (
      const experiment of [
        theorem1,
        theorem2,
        theorem3,
        theorem4_gap,
        proposition1,
        proposition2,
        figure7,
        figure8,
      ]
    ) {
      await t.step(`${experiment.id}: every check holds`, async () => {
        const { checks } = await runChecks(experiment, gpu);
        assert.ok(checks.length > 0, "the experiment states checks");
        // Claims about measured seconds are reported, never asserted: a shared
        // machine's neighbours decide them as much as the kernels do.
        assert.equal(failing(checks.filter((c) => !c.timed)), "");
        for (const c of checks.filter((c) => c.timed)) {
          assert.match(c.detail, /\d s/, `${c.claim} reports its seconds`);
        }
      });
    }

    await t.step("theorem2: a mis-scaled reconstruction fails the exact-law check", async () => {
      for (const miscale of [0.8, 1.25]) {
        const row = await theorem2Row(gpu, { d: 2000, K: 50, trials: 60, seed: 3, miscale });
        const stats = Object.fromEntries(Object.entries(row).map(([k, v]) => [k, { mean: v }]));
        const checks = verifyTheorem2({ "d=2000/K=50": stats }, [[2000, 50]]);
        assert.ok(checks[0]!.holds, "the vacuous bound still holds");
        assert.ok(!checks[1]!.holds && !checks[2]!.holds, `miscale ${miscale} must be rejected`);
      }
    });

    await t.step("theorem1: a biased reconstruction is detected (slope ≠ 1)", async () => {
      const good = await theorem1Row(gpu, {
        d: 1000,
        K: 20,
        trials: 200,
        seed: 5,
        scaling: "paper",
      });
      assert.ok(Math.abs(good.slope - 1) <= 4 * good.slope_se);
      const bad = await theorem1Row(gpu, {
        d: 1000,
        K: 20,
        trials: 200,
        seed: 5,
        scaling: "paper",
        miscale: 1.1,
      });
      assert.ok(Math.abs(bad.slope - 1) > 4 * bad.slope_se, `slope ${bad.slope} ± ${bad.slope_se}`);
      const official = await theorem1Row(gpu, {
        d: 1000,
        K: 20,
        trials: 200,
        seed: 5,
        scaling: "official",
      });
      assert.ok(Math.abs(official.slope - 1 / 3) < 0.02, `official slope ${official.slope}`);
    });
  } finally {
    gpu.destroy();
  }
});
