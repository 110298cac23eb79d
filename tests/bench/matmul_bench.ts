/**
 * matmul throughput in GFLOP/s (2·m·n·k per product) for every form on
 * both kernel families, at 1024³ and at the shapes of a small LLaMA-style
 * model (256 tokens; hidden 256/512, intermediate 688/1376, vocabulary 259),
 * and at the few rows of generation (1 and 8 tokens).
 *
 * The table is printed when the module loads: the first call (pipeline
 * compilation included) and the best and median of a few GPU-timed runs.
 * The `Deno.bench` cases time one recorded product plus its submission and
 * wait, as a caller sees it. The GL backend has no subgroups; run it with
 * `DENO_WEBGPU_BACKEND=gl deno bench -A tests/bench/matmul_bench.ts`.
 */

import { Gpu } from "../../mod.ts";
import { matmul, type MatmulForm, type MatmulShape } from "../../engine.ts";
import { matmulLayout, matmulPath } from "../../src/model/ops/_matmul_plan.ts";

const FORMS: readonly MatmulForm[] = ["xwt", "dyw", "dytx"];
const RUNS = 5;

interface Case {
  label: string;
  m: number;
  n: number;
  k: number;
}

/** The linear layers of a LLaMA-style model with 256 tokens per step ([m, out, in]). */
function modelCases(hidden: number, intermediate: number): Case[] {
  return [
    { label: `attn proj h${hidden}`, m: 256, n: hidden, k: hidden },
    { label: `mlp up h${hidden}`, m: 256, n: intermediate, k: hidden },
    { label: `mlp down h${hidden}`, m: 256, n: hidden, k: intermediate },
    { label: `lm head h${hidden}`, m: 256, n: 259, k: hidden },
  ];
}

const CASES: Case[] = [
  { label: "square 1024", m: 1024, n: 1024, k: 1024 },
  ...modelCases(256, 688),
  ...modelCases(512, 1376),
  // Generation: one token (m = 1) and an 8-token prompt; "xwt" takes the few-row kernel here.
  { label: "1 token, mlp up h256", m: 1, n: 688, k: 256 },
  { label: "8 tokens, mlp up h256", m: 8, n: 688, k: 256 },
];

function operands(gpu: Gpu, shape: MatmulShape): GPUBuffer[] {
  const layout = matmulLayout(shape);
  const fill = (length: number) => {
    const data = new Float32Array(length);
    for (let i = 0; i < length; i++) data[i] = ((i * 2654435761) % 1000) / 1000 - 0.5;
    return gpu.upload(data);
  };
  return [
    gpu.buffer(layout.out[0] * layout.out[1] * 4),
    fill(layout.a[0] * layout.a[1]),
    fill(layout.b[0] * layout.b[1]),
  ];
}

async function measure(gpu: Gpu, shape: MatmulShape): Promise<string> {
  const [out, a, b] = operands(gpu, shape);
  const start = performance.now();
  await matmul(gpu, out!, a!, b!, shape);
  await gpu.sync();
  const first = (performance.now() - start) / 1000;
  const flops = 2 * shape.m * shape.n * shape.k;
  // Without timestamp queries the wall clock includes ≥ 10 ms of polling: time enough products.
  const repeat = Math.max(1, Math.round((gpu.info.timestamps ? 2e8 : 2e9) / flops));
  const seconds: number[] = [];
  let source = "";
  for (let i = 0; i < RUNS; i++) {
    const timing = await gpu.time(async () => {
      for (let r = 0; r < repeat; r++) await matmul(gpu, out!, a!, b!, shape);
    });
    seconds.push(timing.seconds / repeat);
    source = timing.source;
  }
  seconds.sort((x, y) => x - y);
  const gflops = (s: number) => (flops / s / 1e9).toFixed(1).padStart(6);
  for (const buffer of [out, a, b]) buffer!.destroy();
  return `${gflops(seconds[0]!)} ${gflops(seconds[RUNS >> 1]!)}  ${
    first.toFixed(2).padStart(6)
  } s` +
    `   ${source} ×${repeat}`;
}

const devices: [string, Gpu][] = [
  ["default", await Gpu.create()],
  ["portable", await Gpu.create({ portable: true })],
];

console.log(
  `\nmatmul GFLOP/s on ${devices[0]![1].info.description} (${devices[0]![1].info.backend})`,
);
console.log(
  "device    path       form  case                 m×n×k            best   median   first call  timing",
);
for (const [name, gpu] of devices) {
  for (const c of CASES) {
    for (const form of FORMS) {
      const shape: MatmulShape = { form, m: c.m, n: c.n, k: c.k };
      const size = `${c.m}×${c.n}×${c.k}`;
      console.log(
        `${name.padEnd(9)} ${matmulPath(gpu).padEnd(10)} ${form.padEnd(5)} ${c.label.padEnd(20)} ` +
          `${size.padEnd(15)} ${await measure(gpu, shape)}`,
      );
    }
  }
}
console.log();

for (const [name, gpu] of devices) {
  for (const form of FORMS) {
    const shape: MatmulShape = { form, m: 1024, n: 1024, k: 1024 };
    const [out, a, b] = operands(gpu, shape);
    Deno.bench({
      name: `${form} 1024³ (${name}: ${matmulPath(gpu)})`,
      group: form,
      n: 3,
      warmup: 1,
      async fn() {
        await matmul(gpu, out!, a!, b!, shape);
        await gpu.sync();
      },
    });
  }
}
