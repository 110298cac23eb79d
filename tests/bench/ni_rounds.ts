// Federated rounds on the NI-like suite at default scale (the numbers behind the issue notes):
// pre-trained `default` base (made once, cached under .cache/artifacts), FedAvg vs Ferret
// (paper/official) vs FedKSeed, 2 of 48 clients per round; one JSON line per round.
//
//   deno run -A tests/bench/ni_rounds.ts <fedavg|ferret|official|fedkseed> [rounds] [K] [lr] [global lr]
//
// e.g. `fedavg 12`, `official 12 20 0.05 1`, `ferret 12 200 0.05 0.01`, `fedkseed 12 4096 5e-6`.
import { Gpu } from "../../src/gpu/gpu.ts";
import { builtinSuite } from "../../src/data/suites/builtin.ts";
import { tokenizeExample } from "../../src/data/batch.ts";
import { PRESETS } from "../../src/model/presets.ts";
import { ByteTokenizer } from "../../src/model/tokenizer.ts";
import { type Sequence, Transformer } from "../../src/model/transformer.ts";
import { pretrain, pretrainCorpus } from "../../src/pretrain/pretrain.ts";
import { loadTransformer, saveTransformer } from "../../src/model/pretrained.ts";
import { simulate } from "../../src/fl/simulator.ts";
import { fedAvg } from "../../src/fl/algorithms/fed_avg.ts";
import { ferret } from "../../src/fl/algorithms/ferret.ts";
import { fedKSeed } from "../../src/fl/algorithms/fed_kseed.ts";
const which = Deno.args[0] ?? "";
if (!["fedavg", "ferret", "official", "fedkseed"].includes(which)) {
  console.error(
    "usage: deno run -A tests/bench/ni_rounds.ts <fedavg|ferret|official|fedkseed> [rounds] [K] [lr] [global lr]",
  );
  Deno.exit(2);
}
const rounds = Number(Deno.args[1] ?? 12);
const gpu = await Gpu.create();
const tok = new ByteTokenizer();
const base = ".cache/artifacts/base/default-pretrain-400";
try {
  Deno.statSync(`${base}/model.safetensors`);
} catch {
  const model = await Transformer.create(gpu, PRESETS.default, { maxTokens: 128, seed: 0 });
  const rows = pretrainCorpus(tok, { scale: "default", rowTokens: 128 });
  const t0 = performance.now();
  await pretrain(model, rows, {
    steps: 400,
    rowsPerStep: 4,
    lr: 3e-3,
    seed: 0,
    reportEvery: 50,
    onStep: (s, l) =>
      console.log(`pretrain ${s} ${l.toFixed(3)} ${((performance.now() - t0) / 1000).toFixed(0)}s`),
  });
  await saveTransformer(model, base);
}
const suite = builtinSuite("ni-like", "default", 0);
const toSeq = (e: Parameters<typeof tokenizeExample>[0]): Sequence => {
  const t = tokenizeExample(e, tok, { template: suite.template, maxLength: 128 });
  return { tokens: t.tokens.slice(0, -1), targets: t.labels.slice(1) };
};
const clients = suite.clients.map((examples, id) => ({ id, sequences: examples.map(toSeq) }));
const evalSeqs = suite.test.slice(0, 64).map(toSeq);
const model = await loadTransformer(gpu, base, { maxTokens: 128 });
const local = {
  steps: 10,
  nAccum: 4,
  optimizer: { kind: "sgd" as const, lr: Number(Deno.args[3] ?? 0.05) },
};
const K = Number(Deno.args[2] ?? 200);
const algorithm = which === "fedavg"
  ? fedAvg({ local })
  : which === "ferret"
  ? ferret({ mode: "paper", K, local, globalLr: Number(Deno.args[4] ?? 1) })
  : which === "official"
  ? ferret({ mode: "official", K, local, globalLr: Number(Deno.args[4] ?? 10), equalWeight: true })
  : fedKSeed({ K, steps: 200, lr: Number(Deno.args[3] ?? 2e-4), rebuild: "incremental" });
const t0 = performance.now();
const result = await simulate({
  model,
  algorithm,
  clients,
  rounds,
  seed: 0,
  participation: { fraction: 0.05 },
  evaluation: { sequences: evalSeqs, every: 1 },
  onRound: (r) =>
    console.log(JSON.stringify({
      which,
      K,
      round: r.round,
      eval: +r.evalLoss!.toFixed(4),
      train: +r.trainLoss.toFixed(4),
      perClient: r.perClient,
      local: +r.seconds.local.toFixed(1),
      agg: +r.seconds.aggregate.toFixed(2),
      t: +((performance.now() - t0) / 1000).toFixed(0),
    })),
});
console.log("done", which, result.records.length);
