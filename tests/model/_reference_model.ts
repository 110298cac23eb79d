/**
 * The whole decoder in double precision, composed from the kernels'
 * TypeScript references: the oracle for the model's loss, its gradient
 * (by central finite differences) and generation — with or without an
 * adapter (LoRA, soft prompt, P-tuning prefix), written here from the
 * definitions in src/model/peft/ rather than from the passes.
 */
import { headDim, type ModelConfig } from "../../src/model/config.ts";
import type { ParameterLayout } from "../../src/model/layout.ts";
import { attentionForwardReference } from "../../src/model/ops/attention.ts";
import { crossEntropyForwardReference } from "../../src/model/ops/cross_entropy.ts";
import { embeddingForwardReference } from "../../src/model/ops/embedding.ts";
import { rmsnormForwardReference } from "../../src/model/ops/rmsnorm.ts";
import { ropeForwardReference } from "../../src/model/ops/rope.ts";
import { swigluForwardReference } from "../../src/model/ops/swiglu.ts";
import { layerNames, lmHeadName } from "../../src/model/passes.ts";
import { loraNames, type LoraTarget } from "../../src/model/peft/lora.ts";
import { prefixNames } from "../../src/model/peft/prefix.ts";
import { PROMPT_NAME } from "../../src/model/peft/prompt.ts";
import type { Sequence } from "../../src/model/transformer.ts";

/** An adapter's definition and values for the reference: `theta` in `layout`'s flat order. */
export type ReferenceAdapter =
  & { layout: ParameterLayout; theta: Float64Array }
  & (
    | { kind: "lora"; rank: number; alpha: number; targets: readonly LoraTarget[] }
    | { kind: "prompt"; tokens: number }
    | { kind: "prefix"; tokens: number }
  );

/** y[T, n] = x[T, k] · W[n, k]ᵀ in double precision. */
function linear(x: ArrayLike<number>, w: ArrayLike<number>, T: number, n: number, k: number) {
  const y = new Float64Array(T * n);
  for (let t = 0; t < T; t++) {
    for (let j = 0; j < n; j++) {
      let sum = 0;
      for (let i = 0; i < k; i++) sum += x[t * k + i]! * w[j * k + i]!;
      y[t * n + j] = sum;
    }
  }
  return y;
}

function add(a: Float64Array, b: ArrayLike<number>): Float64Array {
  return a.map((v, i) => v + b[i]!);
}

function tensorOf(layout: ParameterLayout, theta: Float64Array) {
  return (name: string) => {
    const slot = layout.slot(name);
    return theta.subarray(slot.offset, slot.offset + slot.numel);
  };
}

/**
 * Logits [T, V] of `sequence`'s own tokens under the flat parameters
 * `theta` and an optional adapter.
 */
export function referenceLogits(
  config: ModelConfig,
  layout: ParameterLayout,
  theta: Float64Array,
  sequence: Sequence,
  adapter?: ReferenceAdapter,
): Float64Array {
  const get = tensorOf(layout, theta);
  const extra = adapter ? tensorOf(adapter.layout, adapter.theta) : get;
  // A soft prompt adds n rows before the tokens; a prefix adds n keys before theirs.
  const virtual = adapter?.kind === "prompt" ? adapter.tokens : 0;
  const past = adapter?.kind === "prefix" ? adapter.tokens : 0;
  const own = sequence.tokens.length;
  const T = virtual + own;
  const C = config.hiddenSize, D = headDim(config), H = config.numHeads, Hkv = config.numKvHeads;
  const Ckv = Hkv * D, I = config.intermediateSize, V = config.vocabSize, eps = config.rmsNormEps;
  const ownPositions = sequence.positions ?? Int32Array.from({ length: own }, (_, t) => t);
  const positions = Int32Array.from(
    { length: T },
    (_, t) => (t < virtual ? t : virtual + past + ownPositions[t - virtual]!),
  );
  const starts = new Int32Array(T);
  for (let t = 1; t < own; t++) {
    starts[t] = sequence.segments && sequence.segments[t] === sequence.segments[t - 1]
      ? starts[t - 1]!
      : (sequence.segments ? t : 0);
  }
  let x: Float64Array = new Float64Array(T * C);
  if (virtual > 0) x.set(extra(PROMPT_NAME));
  x.set(
    embeddingForwardReference(sequence.tokens, get("model.embed_tokens.weight"), { T: own, C, V }),
    virtual * C,
  );
  const rope = {
    T,
    headDim: D,
    maxPositions: config.maxPositions,
    theta: config.ropeTheta,
    positions,
  };
  // y = x·Wᵀ + (α/r)·(x·Aᵀ)·Bᵀ on the adapted projections.
  const project = (
    input: Float64Array,
    l: number,
    target: LoraTarget,
    name: string,
    out: number,
  ): Float64Array => {
    let y = linear(input, get(name), T, out, C);
    if (config.attentionBias && target !== "o") {
      const bias = get(name.replace(/\.weight$/, ".bias"));
      y = y.map((value, i) => value + bias[i % out]!);
    }
    if (adapter?.kind !== "lora" || !adapter.targets.includes(target)) return y;
    const names = loraNames(l, target);
    const u = linear(input, extra(names.a), T, adapter.rank, C);
    const delta = linear(u, extra(names.b), T, out, adapter.rank);
    return y.map((value, i) => value + (adapter.alpha / adapter.rank) * delta[i]!);
  };
  const withPrefix = (rows: Float64Array, prefix: Float64Array | null) => {
    if (!prefix) return rows;
    const all = new Float64Array(prefix.length + rows.length);
    all.set(prefix);
    all.set(rows, prefix.length);
    return all;
  };
  for (let l = 0; l < config.numLayers; l++) {
    const n = layerNames(l);
    const h = rmsnormForwardReference(x, get(n.norm1), { T, C, eps }).y;
    const q = ropeForwardReference(project(h, l, "q", n.q, C), { ...rope, heads: H });
    const k = ropeForwardReference(project(h, l, "k", n.k, Ckv), { ...rope, heads: Hkv });
    const v = project(h, l, "v", n.v, Ckv);
    const p = adapter?.kind === "prefix" ? prefixNames(l) : null;
    const att = attentionForwardReference(
      q,
      withPrefix(k, p && extra(p.key)),
      withPrefix(v, p && extra(p.value)),
      { T, H, Hkv, headDim: D, past, ...(past > 0 ? {} : { starts }) },
    ).out;
    x = add(x, project(att, l, "o", n.o, C));
    const h2 = rmsnormForwardReference(x, get(n.norm2), { T, C, eps }).y;
    const act = swigluForwardReference(
      linear(h2, get(n.gate), T, I, C),
      linear(h2, get(n.up), T, I, C),
    );
    x = add(x, linear(act, get(n.down), T, C, I));
  }
  const hf = rmsnormForwardReference(x, get("model.norm.weight"), { T, C, eps }).y;
  return linear(hf, get(lmHeadName(config)), T, V, C).subarray(virtual * V);
}

/** Mean response-token loss of `sequence` (the model's loss) in double precision. */
export function referenceLoss(
  config: ModelConfig,
  layout: ParameterLayout,
  theta: Float64Array,
  sequence: Sequence,
  adapter?: ReferenceAdapter,
): number {
  const T = sequence.tokens.length;
  const logits = referenceLogits(config, layout, theta, sequence, adapter);
  const losses = crossEntropyForwardReference(logits, sequence.targets, { T, V: config.vocabSize });
  let sum = 0, count = 0;
  for (let t = 0; t < T; t++) {
    if (sequence.targets[t] !== -100) {
      sum += losses[t]!;
      count++;
    }
  }
  return sum / count;
}
