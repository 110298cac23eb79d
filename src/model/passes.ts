/**
 * The LLaMA decoder's forward and backward passes, orchestrated in
 * TypeScript from WGSL kernels (llm.c style, DESIGN.md §3). Every call only
 * records GPU work into the pending batch: a whole training step is one
 * submit, and nothing here reads back.
 *
 * Per layer (HF LlamaDecoderLayer): h = RMSNorm(x); q, k, v = h·Wqᵀ, h·Wkᵀ,
 * h·Wvᵀ; RoPE on q and k; a = attention(q, k, v); m = x + a·Woᵀ;
 * h₂ = RMSNorm(m); y = m + (silu(h₂·Wgᵀ) ⊙ h₂·Wuᵀ)·Wdᵀ. Then RMSNorm and the
 * LM head, and cross-entropy on the response tokens.
 *
 * An adapter (src/model/peft/) acts inside the passes: LoRA adds its
 * low-rank products to the q/k/v/o projections, a soft prompt overwrites
 * the first n input embeddings, a P-tuning prefix is put before each
 * layer's keys and values. With the model frozen (`grads` null) the
 * backward pass skips every weight gradient of the model — the dW products,
 * a third of a step's matrix work — and the input gradient below the lowest
 * place an adapter needs it.
 *
 * @module
 */

import type { Binding, Gpu } from "../gpu/gpu.ts";
import type { Activations } from "./activations.ts";
import type { Adapter } from "./peft/adapter.ts";
import { headDim, type ModelConfig } from "./config.ts";
import type { TensorView } from "./layout.ts";
import { attentionBackward, attentionForward } from "./ops/attention.ts";
import { biasAdd, biasGrad } from "./ops/bias.ts";
import { crossEntropyBackward, crossEntropyForward } from "./ops/cross_entropy.ts";
import { attentionDecode } from "./ops/decode.ts";
import { embeddingBackward, embeddingForward } from "./ops/embedding.ts";
import { matmul, type MatmulShape } from "./ops/matmul.ts";
import type { ModelRows } from "./ops/_common.ts";
import { residualAccumulate } from "./ops/residual.ts";
import { rmsnormBackward, rmsnormForward } from "./ops/rmsnorm.ts";
import { ropeBackward, ropeForward } from "./ops/rope.ts";
import { swigluBackward, swigluForward } from "./ops/swiglu.ts";

/** Named tensor bindings of a model (parameters or gradients, same layout). */
export type Tensors = ReadonlyMap<string, TensorView>;

/** What a pass needs besides the tensors: the GPU, the config, the RoPE table. */
export interface PassContext {
  /** The GPU context. */
  readonly gpu: Gpu;
  /** The architecture. */
  readonly config: ModelConfig;
  /** Activation and scratch buffers. */
  readonly activations: Activations;
  /** RoPE table [maxPositions, headDim/2, 2]. */
  readonly rope: GPUBuffer;
  /** The attached adapter, if any. */
  readonly adapter?: Adapter | null;
  /** Whether the backward pass adds the adapter's gradients (into `adapter.grads`). */
  readonly trainAdapter?: boolean;
  /**
   * Several models in one pass (src/model/model_batch.ts): the T rows are
   * `count` models' `rows` each, one model after another, and every tensor
   * binding is model 0's, the others `stride` elements apart. Every kernel
   * runs once for all of them, each model's rows computed as a lone pass
   * of `rows` tokens would. No cache or attention bias; an adapter holds
   * every model's (`count` ≥ the models'), a soft prompt's or prefix's n
   * rows first in each model's rows.
   */
  readonly models?: ModelRows;
  /**
   * Where the backward pass of a frozen model (an adapter trains) puts the
   * RMSNorm weight gradients its kernel computes and nobody reads: views
   * laid out like the parameters and reaching every model of the pass
   * (the caller keeps them bounded). Default: the activations' `dNorm`,
   * room for one model's.
   */
  readonly normScratch?: Tensors;
}

/**
 * Records a product with one of the model's weights (or their gradients):
 * per model when the pass runs several, each model's `models.rows` rows
 * against its own weight.
 */
function product(
  context: PassContext,
  out: Binding,
  a: Binding,
  b: Binding,
  shape: MatmulShape,
): Promise<void> {
  const models = context.models;
  return matmul(
    context.gpu,
    out,
    a,
    b,
    models
      ? { ...shape, m: models.rows, models: { count: models.count, stride: models.stride } }
      : shape,
  );
}

/** Throws when a pass of several models is asked for what it does not support. */
function checkModels(context: PassContext, T: number, what: string): void {
  const models = context.models;
  if (!models) return;
  const adapter = context.adapter;
  if (adapter && adapter.count < models.count) {
    const held =
      { lora: "LoRA adapters", prompt: "soft prompts", prefix: "prefixes" }[adapter.kind];
    throw new TypeError(
      `Cannot run ${what} of ${models.count} models with ${adapter.count} ${held}`,
    );
  }
  if (context.config.attentionBias) {
    throw new TypeError(`Cannot run ${what} of several models with attention biases`);
  }
  if (models.count * models.rows !== T) {
    throw new RangeError(
      `Cannot run ${what} of ${models.count} models of ${models.rows} rows over ${T} rows`,
    );
  }
}

function tensor(tensors: Tensors, name: string): Binding {
  const view = tensors.get(name);
  if (!view) throw new TypeError(`Cannot find tensor "${name}" in the parameter layout`);
  return view.binding;
}

/** HF names of layer `l`'s tensors. */
export function layerNames(l: number) {
  const p = `model.layers.${l}`;
  return {
    q: `${p}.self_attn.q_proj.weight`,
    k: `${p}.self_attn.k_proj.weight`,
    v: `${p}.self_attn.v_proj.weight`,
    qBias: `${p}.self_attn.q_proj.bias`,
    kBias: `${p}.self_attn.k_proj.bias`,
    vBias: `${p}.self_attn.v_proj.bias`,
    o: `${p}.self_attn.o_proj.weight`,
    gate: `${p}.mlp.gate_proj.weight`,
    up: `${p}.mlp.up_proj.weight`,
    down: `${p}.mlp.down_proj.weight`,
    norm1: `${p}.input_layernorm.weight`,
    norm2: `${p}.post_attention_layernorm.weight`,
  };
}

/** The LM head's weight: its own tensor, or the embedding when tied. */
export function lmHeadName(config: ModelConfig): string {
  return config.tieEmbeddings ? "model.embed_tokens.weight" : "lm_head.weight";
}

function shapes(config: ModelConfig, T: number) {
  const C = config.hiddenSize;
  const D = headDim(config);
  return {
    T,
    C,
    D,
    H: config.numHeads,
    Hkv: config.numKvHeads,
    Ckv: config.numKvHeads * D,
    I: config.intermediateSize,
    V: config.vocabSize,
    eps: config.rmsNormEps,
  };
}

/** Keys and values of earlier positions, per layer [maxPositions, Ckv] (generation). */
export interface KvCache {
  /** Cached keys per layer. */
  readonly k: readonly GPUBuffer[];
  /** Cached values per layer. */
  readonly v: readonly GPUBuffer[];
}

/**
 * The KV cache of B sequences decoded together (src/model/generate.ts):
 * per layer [B, P, Ckv], sequence b's keys and values in its own region.
 */
export interface RowCache {
  /** Cached keys per layer. */
  readonly k: readonly GPUBuffer[];
  /** Cached values per layer. */
  readonly v: readonly GPUBuffer[];
  /** Positions per sequence's region. */
  readonly P: number;
}

/** Options of {@linkcode forward}. */
export interface ForwardOptions {
  /**
   * With a cache: the new tokens sit at positions `past …` (added to
   * `activations.positions`), their keys and values are stored in the cache
   * at `past`, and attention reads all cached positions; `starts` is unused.
   */
  cache?: KvCache;
  /**
   * Positions already in the cache (a prefix's rows included); with `rows`,
   * the offset added to every row's position.
   */
  past?: number;
  /**
   * Batched decoding: the T tokens are one per sequence, token b at position
   * `activations.positions[b] + past`, stored there in its sequence's region
   * of this cache and attending over that region only.
   */
  rows?: RowCache;
}

/**
 * Records the forward pass over the `T` tokens already in
 * `activations.ids`, `positions` and `starts`; leaves the logits in
 * `activations.logits`. A soft prompt is copied over input rows 0 … n − 1
 * when `past` is 0 (its rows are part of the T). Without a cache, a prefix
 * is put before every layer's keys and values and the tokens' positions
 * are shifted by its n; with a cache, the cache holds the prefix (see
 * `PrefixAdapter.writeCache`) and `past` counts its rows.
 */
export async function forward(
  context: PassContext,
  params: Tensors,
  T: number,
  options: ForwardOptions = {},
): Promise<void> {
  const { gpu, config, activations: a, rope } = context;
  checkModels(context, T, "a forward pass");
  if (context.models && (options.cache || options.rows)) {
    throw new TypeError("Cannot run a forward pass of several models with a KV cache");
  }
  const s = shapes(config, T);
  const past = options.past ?? 0;
  await embeddingForward(
    gpu,
    {
      x: a.layers[0]?.input ?? a.stream,
      ids: a.ids,
      wte: tensor(params, "model.embed_tokens.weight"),
    },
    { T, C: s.C, V: s.V },
    { models: context.models },
  );
  const adapter = context.adapter ?? null;
  const cached = options.cache !== undefined || options.rows !== undefined;
  if (adapter?.kind === "prompt" && past === 0 && !options.rows) {
    adapter.forward(a.layers[0]?.input ?? a.stream, context.models);
  }
  const lora = adapter?.kind === "lora" ? adapter : null;
  const prefix = adapter?.kind === "prefix" && !cached ? adapter : null;
  // Several models' prefixes overwrite their first rows' keys and values (PrefixAdapter).
  const prefixRows = prefix && context.models ? { prefix, models: context.models } : null;
  // Keys before the tokens' own: the cache's, or the prefix's rows (within the rows when batched).
  const before = prefix && !prefixRows ? prefix.length : past;
  for (let l = 0; l < config.numLayers; l++) {
    const n = layerNames(l);
    const L = a.layers[l]!;
    const output = a.layers[l + 1]?.input ?? a.stream;
    await rmsnormForward(
      gpu,
      { y: L.norm1, rstd: L.rstd1, x: L.input, w: tensor(params, n.norm1) },
      {
        T,
        C: s.C,
        eps: s.eps,
      },
      { models: context.models },
    );
    await product(context, L.q, L.norm1, tensor(params, n.q), {
      form: "xwt",
      m: T,
      n: s.C,
      k: s.C,
    });
    await product(context, L.k, L.norm1, tensor(params, n.k), {
      form: "xwt",
      m: T,
      n: s.Ckv,
      k: s.C,
    });
    await product(context, L.v, L.norm1, tensor(params, n.v), {
      form: "xwt",
      m: T,
      n: s.Ckv,
      k: s.C,
    });
    if (config.attentionBias) {
      await biasAdd(gpu, { y: L.q, b: tensor(params, n.qBias) }, { T, C: s.C });
      await biasAdd(gpu, { y: L.k, b: tensor(params, n.kBias) }, { T, C: s.Ckv });
      await biasAdd(gpu, { y: L.v, b: tensor(params, n.vBias) }, { T, C: s.Ckv });
    }
    if (lora) {
      for (const [target, y] of [["q", L.q], ["k", L.k], ["v", L.v]] as const) {
        await lora.forward(l, target, { x: L.norm1, y }, T, context.models);
      }
    }
    if (options.rows) {
      // RoPE, the cache write and attention in one dispatch (src/model/ops/decode.ts).
      const { k, v, P } = options.rows;
      await attentionDecode(gpu, {
        out: L.attention,
        cacheK: k[l]!,
        cacheV: v[l]!,
        q: L.q,
        k: L.k,
        v: L.v,
        positions: a.positions,
        table: rope,
      }, { B: T, H: s.H, Hkv: s.Hkv, headDim: s.D, P, offset: past });
    } else {
      const rotary = { table: rope, positions: a.positions };
      const ropeShape = { T, headDim: s.D, maxPositions: config.maxPositions, offset: before };
      await ropeForward(gpu, { x: L.q, ...rotary }, { ...ropeShape, heads: s.H });
      await ropeForward(gpu, { x: L.k, ...rotary }, { ...ropeShape, heads: s.Hkv });
      if (options.cache) {
        const bytes = T * s.Ckv * 4;
        gpu.copy(L.k, 0, options.cache.k[l]!, past * s.Ckv * 4, bytes);
        gpu.copy(L.v, 0, options.cache.v[l]!, past * s.Ckv * 4, bytes);
        await attentionForward(
          gpu,
          { out: L.attention, lse: L.lse, q: L.q, k: options.cache.k[l]!, v: options.cache.v[l]! },
          { T, H: s.H, Hkv: s.Hkv, headDim: s.D, past },
        );
      } else if (prefix && !prefixRows) {
        // Packed rows are refused with a prefix (Transformer.upload): no starts.
        const kv = prefix.assemble(l, L.k, L.v, T);
        await attentionForward(
          gpu,
          { out: L.attention, lse: L.lse, q: L.q, k: kv.k, v: kv.v },
          { T, H: s.H, Hkv: s.Hkv, headDim: s.D, past: prefix.length },
        );
      } else {
        prefixRows?.prefix.overwriteRows(l, L.k, L.v, prefixRows.models);
        await attentionForward(
          gpu,
          { out: L.attention, lse: L.lse, q: L.q, k: L.k, v: L.v, starts: a.starts },
          { T, H: s.H, Hkv: s.Hkv, headDim: s.D },
        );
      }
    }
    // middle = input + attention·Woᵀ: the projection lands in `middle`, then the residual is added.
    await product(context, L.middle, L.attention, tensor(params, n.o), {
      form: "xwt",
      m: T,
      n: s.C,
      k: s.C,
    });
    await lora?.forward(l, "o", { x: L.attention, y: L.middle }, T, context.models);
    await residualAccumulate(gpu, { y: L.middle, x: L.input }, { n: T * s.C });
    await rmsnormForward(gpu, {
      y: L.norm2,
      rstd: L.rstd2,
      x: L.middle,
      w: tensor(params, n.norm2),
    }, {
      T,
      C: s.C,
      eps: s.eps,
    }, { models: context.models });
    await product(context, L.gate, L.norm2, tensor(params, n.gate), {
      form: "xwt",
      m: T,
      n: s.I,
      k: s.C,
    });
    await product(context, L.up, L.norm2, tensor(params, n.up), {
      form: "xwt",
      m: T,
      n: s.I,
      k: s.C,
    });
    await swigluForward(gpu, { h: L.act, gate: L.gate, up: L.up }, { n: T * s.I });
    await product(context, output, L.act, tensor(params, n.down), {
      form: "xwt",
      m: T,
      n: s.C,
      k: s.I,
    });
    await residualAccumulate(gpu, { y: output, x: L.middle }, { n: T * s.C });
  }
  await rmsnormForward(
    gpu,
    { y: a.normF, rstd: a.rstdF, x: a.stream, w: tensor(params, "model.norm.weight") },
    { T, C: s.C, eps: s.eps },
    { models: context.models },
  );
  await product(context, a.logits, a.normF, tensor(params, lmHeadName(config)), {
    form: "xwt",
    m: T,
    n: s.V,
    k: s.C,
  });
}

/** Records per-token losses into `activations.losses` (after {@linkcode forward}). */
export async function lossForward(context: PassContext, T: number): Promise<void> {
  const { gpu, config, activations: a } = context;
  await crossEntropyForward(
    gpu,
    { losses: a.losses, logits: a.logits, labels: a.labels },
    { T, V: config.vocabSize },
  );
}

/**
 * Records the backward pass of the mean response-token loss times `scale`
 * (after {@linkcode forward}), adding every parameter's gradient into
 * `grads`, or none of the model's when `grads` is null (frozen). With
 * `weighted`, the loss is Σ_t weights[t]·loss[t] times `scale` instead
 * (`activations.weights`: a packed row of several sequences; with several
 * models, a negative weight marks a model whose row is one plain sequence). With
 * `context.trainAdapter` the attached adapter's gradients are added into
 * its own `grads`. Per-token losses land in `activations.losses`.
 */
export async function backward(
  context: PassContext,
  params: Tensors,
  grads: Tensors | null,
  T: number,
  scale: number,
  weighted = false,
): Promise<void> {
  const { gpu, config, activations: a, rope } = context;
  checkModels(context, T, "a backward pass");
  const s = shapes(config, T);
  const adapter = context.adapter ?? null;
  const train = (context.trainAdapter ?? false) && adapter !== null;
  if (!grads && !train) throw new TypeError("Cannot run a backward pass that trains nothing");
  const lora = adapter?.kind === "lora" ? adapter : null;
  // A lone model's prefix sits before its keys; several models' in their first rows.
  const prefixAdapter = adapter?.kind === "prefix" ? adapter : null;
  const prefix = context.models ? null : prefixAdapter;
  const prefixRows = prefixAdapter && context.models
    ? { prefix: prefixAdapter, models: context.models }
    : null;
  // Below layer 0's attention only the model's embedding and a soft prompt need gradients.
  const inputGrad = grads !== null || adapter?.kind === "prompt";
  // RMSNorm weight gradients of a frozen model go to scratch (cleared so it stays bounded).
  const scratch = grads ? null : context.normScratch ?? null;
  if (!grads && !scratch) gpu.clear(a.dNorm);
  const normGrad = (name: string) =>
    grads ? tensor(grads, name) : scratch ? tensor(scratch, name) : a.dNorm;
  // dlogits overwrite the logits.
  const losses = { losses: a.losses, logits: a.logits, labels: a.labels };
  await crossEntropyBackward(gpu, weighted ? { ...losses, weights: a.weights } : losses, {
    T,
    V: s.V,
    scale,
  }, { models: context.models });
  const head = lmHeadName(config);
  const weightGrad = async (name: string, dy: Binding, x: Binding, n: number, k: number) => {
    if (!grads) return;
    await product(context, tensor(grads, name), dy, x, {
      form: "dytx",
      m: T,
      n,
      k,
      accumulate: true,
    });
  };
  await weightGrad(head, a.logits, a.normF, s.V, s.C);
  await product(context, a.dC, a.logits, tensor(params, head), {
    form: "dyw",
    m: T,
    n: s.V,
    k: s.C,
  });
  await rmsnormBackward(
    gpu,
    {
      dx: a.dStream,
      dw: normGrad("model.norm.weight"),
      dy: a.dC,
      x: a.stream,
      w: tensor(params, "model.norm.weight"),
      rstd: a.rstdF,
    },
    { T, C: s.C, eps: s.eps },
    { models: context.models },
  );
  for (let l = config.numLayers - 1; l >= 0; l--) {
    const n = layerNames(l);
    const L = a.layers[l]!;
    // dStream holds dL/d(output of layer l) = dL/d(middle) through the MLP's residual branch.
    await weightGrad(n.down, a.dStream, L.act, s.C, s.I);
    await product(context, a.dI1, a.dStream, tensor(params, n.down), {
      form: "dyw",
      m: T,
      n: s.C,
      k: s.I,
    });
    await swigluBackward(gpu, { dgate: a.dI2, dup: a.dI3, dh: a.dI1, gate: L.gate, up: L.up }, {
      n: T * s.I,
    });
    // dI2 = dgate, dI3 = dup.
    await weightGrad(n.gate, a.dI2, L.norm2, s.I, s.C);
    await weightGrad(n.up, a.dI3, L.norm2, s.I, s.C);
    await product(context, a.dC, a.dI2, tensor(params, n.gate), {
      form: "dyw",
      m: T,
      n: s.I,
      k: s.C,
    });
    await product(context, a.dC, a.dI3, tensor(params, n.up), {
      form: "dyw",
      m: T,
      n: s.I,
      k: s.C,
      accumulate: true,
    });
    await rmsnormBackward(
      gpu,
      {
        dx: a.dStream,
        dw: normGrad(n.norm2),
        dy: a.dC,
        x: L.middle,
        w: tensor(params, n.norm2),
        rstd: L.rstd2,
      },
      { T, C: s.C, eps: s.eps },
      { accumulate: true, models: context.models },
    );
    // dStream now holds dL/d(middle); the attention branch and the residual both start here.
    await weightGrad(n.o, a.dStream, L.attention, s.C, s.C);
    await product(context, a.dC, a.dStream, tensor(params, n.o), {
      form: "dyw",
      m: T,
      n: s.C,
      k: s.C,
    });
    const o = { dy: a.dStream, x: L.attention, dx: a.dC };
    await lora?.backward(l, "o", o, T, train, context.models);
    // With a prefix, attention saw [prefix; own] keys and values; the prefix's
    // share of their gradient goes to the adapter, the rest to dk and dv.
    const kv = prefix ? prefix.keysAndValues(l) : { k: L.k, v: L.v };
    const dkv = prefix ? prefix.scratch : { dk: a.dk, dv: a.dv };
    await attentionBackward(
      gpu,
      {
        dq: a.dq,
        ...dkv,
        delta: a.delta,
        dout: a.dC,
        out: L.attention,
        q: L.q,
        ...kv,
        lse: L.lse,
        ...(prefix ? {} : { starts: a.starts }),
      },
      { T, H: s.H, Hkv: s.Hkv, headDim: s.D, past: prefix ? prefix.length : 0 },
    );
    await prefix?.backward(l, { dk: a.dk, dv: a.dv }, T, train);
    if (prefixRows) {
      await prefixRows.prefix.backwardRows(l, a.dk, a.dv, prefixRows.models, train);
    }
    const rotary = { table: rope, positions: a.positions };
    const ropeShape = {
      T,
      headDim: s.D,
      maxPositions: config.maxPositions,
      offset: prefix ? prefix.length : 0,
    };
    await ropeBackward(gpu, { x: a.dq, ...rotary }, { ...ropeShape, heads: s.H });
    await ropeBackward(gpu, { x: a.dk, ...rotary }, { ...ropeShape, heads: s.Hkv });
    const needInput = inputGrad || l > 0;
    const projections = [
      ["q", a.dq, n.q, n.qBias, s.C],
      ["k", a.dk, n.k, n.kBias, s.Ckv],
      ["v", a.dv, n.v, n.vBias, s.Ckv],
    ] as const;
    for (const [target, dy, name, biasName, width] of projections) {
      await weightGrad(name, dy, L.norm1, width, s.C);
      if (grads && config.attentionBias) {
        await biasGrad(gpu, { db: tensor(grads, biasName), dy }, { T, C: width });
      }
      if (needInput) {
        await product(context, a.dC, dy, tensor(params, name), {
          form: "dyw",
          m: T,
          n: width,
          k: s.C,
          accumulate: target !== "q",
        });
      }
    }
    if (lora) {
      for (const [target, dy] of projections) {
        const io = { dy, x: L.norm1, dx: needInput ? a.dC : null };
        await lora.backward(l, target, io, T, train, context.models);
      }
    }
    if (!needInput) continue;
    await rmsnormBackward(
      gpu,
      {
        dx: a.dStream,
        dw: normGrad(n.norm1),
        dy: a.dC,
        x: L.input,
        w: tensor(params, n.norm1),
        rstd: L.rstd1,
      },
      { T, C: s.C, eps: s.eps },
      { accumulate: true, models: context.models },
    );
  }
  if (adapter?.kind === "prompt" && train) await adapter.backward(a.dStream, context.models);
  if (grads) {
    await embeddingBackward(
      gpu,
      { dwte: tensor(grads, "model.embed_tokens.weight"), ids: a.ids, dx: a.dStream },
      { T, C: s.C, V: s.V },
      { models: context.models },
    );
  }
}
