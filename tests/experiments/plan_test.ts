import assert from "node:assert/strict";
import { planExperiments, runMemory } from "../../experiments/plan.ts";
import { federatedSetting } from "../../experiments/_settings.ts";
import { table3 } from "../../experiments/table3.ts";
import { table7 } from "../../experiments/table7.ts";
import { Gpu } from "../../src/gpu/gpu.ts";
import { allocateActivations } from "../../src/model/activations.ts";
import { parameterLayout } from "../../src/model/layout.ts";
import { PRESETS } from "../../src/model/presets.ts";

Deno.test("the plan's memory: the engine's own activations, and each method's parts", async () => {
  const gpu = await Gpu.create();
  try {
    const config = PRESETS.default;
    const before = gpu.liveBytes;
    allocateActivations(gpu, config, 96);
    const allocated = gpu.liveBytes - before;
    const avg = runMemory(
      federatedSetting("paper", "gsm8k-like", "llama-2-7b", "fedavg"),
      config,
      96,
    );
    assert.equal(avg.parts.activations, allocated, "counted as the engine allocates");
    const d = parameterLayout(config).length * 4;
    assert.equal(avg.parts.parameters, d);
    assert.equal(avg.parts.gradients, d);
    assert.equal(avg.parts.algorithm, 3 * d); // global model, client update, server sum
    const kseed = runMemory(
      federatedSetting("paper", "gsm8k-like", "llama-2-7b", "fedkseed"),
      config,
      96,
    );
    assert.equal(kseed.parts.gradients, 0, "zeroth order: no gradients");
    assert.equal(kseed.parts.algorithm, 2 * d); // global model and w₀
    assert.equal(avg.total, Object.values(avg.parts).reduce((a, b) => a + b, 0));
    assert.ok(avg.total > kseed.total);
  } finally {
    gpu.destroy();
  }
});

Deno.test("the plan lists every run, with times, and refuses what cannot fit", async () => {
  const gpu = await Gpu.create();
  try {
    const smoke = await planExperiments([table3, table7], { scale: "smoke", gpu });
    assert.equal(smoke.refused, 0);
    assert.match(smoke.text, /20 federated run\(s\)/);
    assert.match(smoke.text, /\| [0-9a-f]{10} \| table3 \| LLaMA2-7B \(stand-in\) \| fedzo \|/);
    // Paper scale on a device said to hold 8 GiB: LLaMA2-7B and -13B cannot.
    const paper = await planExperiments([table3], {
      scale: "paper",
      gpu,
      deviceMemory: 8 * 2 ** 30,
    });
    assert.equal(paper.refused, 80);
    assert.match(paper.text, /more than the 8\.0 GiB given: a device with ≥ \d+\.\d GiB/);
    assert.match(paper.text, /LLaMA2-13B \| ferret \(official\) \| 20 \| \d+\.\d GiB/);
  } finally {
    gpu.destroy();
  }
});
