/**
 * Every WGSL kernel of the toolkit, loaded by text import so the sources
 * travel with the module graph (also when imported by URL).
 *
 * @module
 */

import type { Kernel } from "../src/gpu/pipelines.ts";
import { unrollWgsl } from "../src/gpu/wgsl_unroll.ts";
import argmaxSource from "./argmax.wgsl" with { type: "text" };
import axpySource from "./axpy.wgsl" with { type: "text" };

/** `y ← y + a·x` on one chunk (reference: `axpyReference`). */
export const axpy: Kernel = { name: "axpy", code: axpySource };

// Transformer layer kernels (src/model/ops/) and optimizer kernels (src/optim/).
import adamUpdateSource from "./adam_update.wgsl" with { type: "text" };
import attentionCommonSource from "./attention_common.wgsl" with { type: "text" };
import attentionDecodeSource from "./attention_decode.wgsl" with { type: "text" };
import kvScatterSource from "./kv_scatter.wgsl" with { type: "text" };
import attentionBackwardKeySource from "./attention_backward_key.wgsl" with { type: "text" };
import attentionBackwardQuerySource from "./attention_backward_query.wgsl" with { type: "text" };
import attentionForwardSource from "./attention_forward.wgsl" with { type: "text" };
import clipByNormSource from "./clip_by_norm.wgsl" with { type: "text" };
import crossentropyBackwardSource from "./crossentropy_backward.wgsl" with { type: "text" };
import crossentropyForwardSource from "./crossentropy_forward.wgsl" with { type: "text" };
import crossentropyMeanSource from "./crossentropy_mean.wgsl" with { type: "text" };
import embeddingBackwardSource from "./embedding_backward.wgsl" with { type: "text" };
import embeddingForwardSource from "./embedding_forward.wgsl" with { type: "text" };
import gradnormFinalizeSource from "./gradnorm_finalize.wgsl" with { type: "text" };
import gradnormPartialSource from "./gradnorm_partial.wgsl" with { type: "text" };
import residualAccumulateSource from "./residual_accumulate.wgsl" with { type: "text" };
import residualForwardSource from "./residual_forward.wgsl" with { type: "text" };
import rmsnormBackwardSource from "./rmsnorm_backward.wgsl" with { type: "text" };
import rmsnormForwardSource from "./rmsnorm_forward.wgsl" with { type: "text" };
import ropeSource from "./rope.wgsl" with { type: "text" };
import sgdUpdateSource from "./sgd_update.wgsl" with { type: "text" };
import swigluBackwardSource from "./swiglu_backward.wgsl" with { type: "text" };
import swigluForwardSource from "./swiglu_forward.wgsl" with { type: "text" };

/** Token embedding lookup (reference: `embeddingForwardReference`). */
export const embeddingForward: Kernel = {
  name: "embedding_forward",
  code: embeddingForwardSource,
};
/** Deterministic scatter-add into the embedding gradient (reference: `embeddingBackwardReference`). */
export const embeddingBackward: Kernel = {
  name: "embedding_backward",
  code: embeddingBackwardSource,
};
/** RMSNorm, saving rstd (reference: `rmsnormForwardReference`). */
export const rmsnormForward: Kernel = { name: "rmsnorm_forward", code: rmsnormForwardSource };
/** RMSNorm backward: dx and accumulated dw (reference: `rmsnormBackwardReference`). */
export const rmsnormBackward: Kernel = { name: "rmsnorm_backward", code: rmsnormBackwardSource };
/** Rotary position embedding in place, forward or backward (reference: `ropeForwardReference`). */
export const rope: Kernel = { name: "rope", code: ropeSource };
/** Causal grouped-KV attention forward (reference: `attentionForwardReference`). */
export const attentionForward: Kernel = {
  name: "attention_forward",
  code: `${attentionCommonSource}\n${attentionForwardSource}`,
};
/** Attention backward, dq and delta (reference: `attentionBackwardReference`). */
export const attentionBackwardQuery: Kernel = {
  name: "attention_backward_query",
  code: `${attentionCommonSource}\n${attentionBackwardQuerySource}`,
};
/** Attention backward, dk and dv (reference: `attentionBackwardReference`). */
export const attentionBackwardKey: Kernel = {
  name: "attention_backward_key",
  code: `${attentionCommonSource}\n${attentionBackwardKeySource}`,
};
/** SwiGLU `silu(gate) · up` (reference: `swigluForwardReference`). */
export const swigluForward: Kernel = { name: "swiglu_forward", code: swigluForwardSource };
/** SwiGLU backward (reference: `swigluBackwardReference`). */
export const swigluBackward: Kernel = { name: "swiglu_backward", code: swigluBackwardSource };
/** `out = a + b` (reference: `residualForwardReference`). */
export const residualForward: Kernel = { name: "residual_forward", code: residualForwardSource };
/** `y += x` (reference: `residualAccumulateReference`). */
export const residualAccumulate: Kernel = {
  name: "residual_accumulate",
  code: residualAccumulateSource,
};
/** Per-token cross-entropy with label masking (reference: `crossEntropyForwardReference`). */
export const crossentropyForward: Kernel = {
  name: "crossentropy_forward",
  code: crossentropyForwardSource,
};
/** Fused cross-entropy loss and in-place dlogits (reference: `crossEntropyBackwardReference`). */
export const crossentropyBackward: Kernel = {
  name: "crossentropy_backward",
  code: crossentropyBackwardSource,
};
/** Mean loss over unmasked tokens (reference: `crossEntropyMeanReference`). */
export const crossentropyMean: Kernel = {
  name: "crossentropy_mean",
  code: crossentropyMeanSource,
};
/** One SGD step on a chunk (reference: `sgdReference`). */
export const sgdUpdate: Kernel = { name: "sgd_update", code: sgdUpdateSource };
/** One Adam/AdamW step on a chunk (reference: `adamReference`). */
export const adamUpdate: Kernel = { name: "adam_update", code: adamUpdateSource };
/** Per-workgroup sums of squares (reference: `gradNormReference`). */
export const gradnormPartial: Kernel = { name: "gradnorm_partial", code: gradnormPartialSource };
/** ℓ2 norm from the partial sums (reference: `gradNormReference`). */
export const gradnormFinalize: Kernel = {
  name: "gradnorm_finalize",
  code: gradnormFinalizeSource,
};
/** Scale by min(1, max_norm / norm) read from the GPU (reference: `clipByNormReference`). */
export const clipByNorm: Kernel = { name: "clip_by_norm", code: clipByNormSource };

// Shared randomness and fused projection (src/random/, src/projection/).
import philoxWgsl from "./philox.wgsl" with { type: "text" };
const philoxSource = unrollWgsl(philoxWgsl); // compile-time loops: src/gpu/wgsl_unroll.ts
import basisTilesSource from "./basis_tiles.wgsl" with { type: "text" };
import basisGenerateSource from "./basis_generate.wgsl" with { type: "text" };
import projectTermsSource from "./project_terms.wgsl" with { type: "text" };
import projectSource from "./project.wgsl" with { type: "text" };
import projectRademacherWgsl from "./project_rademacher.wgsl" with { type: "text" };
const projectRademacherSource = unrollWgsl(projectRademacherWgsl); // compile-time loops: src/gpu/wgsl_unroll.ts
import projectRademacherGenericWgsl from "./project_rademacher_generic.wgsl" with { type: "text" };
const projectRademacherGenericSource = unrollWgsl(projectRademacherGenericWgsl); // compile-time loops: src/gpu/wgsl_unroll.ts
import projectReduceSource from "./project_reduce.wgsl" with { type: "text" };
import reconstructTermsSource from "./reconstruct_terms.wgsl" with { type: "text" };
import reconstructWgsl from "./reconstruct.wgsl" with { type: "text" };
const reconstructSource = unrollWgsl(reconstructWgsl); // compile-time loops: src/gpu/wgsl_unroll.ts
import reconstructMainSource from "./reconstruct_main.wgsl" with { type: "text" };
import reconstructSubgroupsWgsl from "./reconstruct_subgroups.wgsl" with { type: "text" };
const reconstructSubgroupsSource = unrollWgsl(reconstructSubgroupsWgsl); // compile-time loops: src/gpu/wgsl_unroll.ts
import reconstructRademacherWgsl from "./reconstruct_rademacher.wgsl" with { type: "text" };
const reconstructRademacherSource = unrollWgsl(reconstructRademacherWgsl); // compile-time loops: src/gpu/wgsl_unroll.ts

/** Raw Philox words or one basis's elements (reference: `philox4x32`, `basisElements`). */
export const basisGenerate: Kernel = {
  name: "basis_generate",
  code: `${philoxSource}\n${basisGenerateSource}`,
};
/** Fused per-lane projection partial sums, truncnormal/gaussian (reference: `projectReference`). */
export const project: Kernel = {
  name: "project",
  code: `${philoxSource}\n${basisTilesSource}\n${projectTermsSource}\n${projectSource}`,
};
/** Fused projection partial sums, Rademacher fast path: aligned whole granules, 32 bases, dot. */
export const projectRademacher: Kernel = {
  name: "project_rademacher",
  code: `${philoxSource}\n${basisTilesSource}\n${projectTermsSource}\n${projectRademacherSource}`,
};
/** Fused projection partial sums, Rademacher, any tile row and objective (reference: `projectReference`). */
export const projectRademacherGeneric: Kernel = {
  name: "project_rademacher_generic",
  code:
    `${philoxSource}\n${basisTilesSource}\n${projectTermsSource}\n${projectRademacherGenericSource}`,
};
/** Second pass of the projections: sums the partials of each coordinate (reference: `projectReference`). */
export const projectReduce: Kernel = { name: "project_reduce", code: projectReduceSource };
const reconstructBody =
  `${philoxSource}\n${basisTilesSource}\n${reconstructTermsSource}\n${reconstructSource}`;
/** Fused reconstruction Σ c·v into a chunk, truncnormal/gaussian (reference: `reconstructReference`). */
export const reconstruct: Kernel = {
  name: "reconstruct",
  code: `${reconstructBody}\n${reconstructMainSource}`,
};
/** The same with subgroup broadcasts of the coefficients (needs subgroups of ≥ 8 lanes). */
export const reconstructSubgroups: Kernel = {
  name: "reconstruct_subgroups",
  code: `${reconstructBody}\n${reconstructSubgroupsSource}`,
};
/** Fused reconstruction Σ c·v into a chunk, Rademacher (reference: `reconstructReference`). */
export const reconstructRademacher: Kernel = {
  name: "reconstruct_rademacher",
  code:
    `${philoxSource}\n${basisTilesSource}\n${reconstructTermsSource}\n${reconstructRademacherSource}`,
};

/** Greedy next token of each of several logits rows, stored step-major (reference: `argmaxReference`). */
export const argmax: Kernel = { name: "argmax", code: argmaxSource };
/** Batched decoding's cache write at each row's position (reference: `kvScatterReference`). */
export const kvScatter: Kernel = { name: "kv_scatter", code: kvScatterSource };
/** Batched decoding's attention over each row's own cache region (reference: `attentionDecodeReference`). */
export const attentionDecode: Kernel = { name: "attention_decode", code: attentionDecodeSource };

// Projection biases (Qwen2's q/k/v; src/model/ops/bias.ts).
import biasAddSource from "./bias_add.wgsl" with { type: "text" };
import biasGradSource from "./bias_grad.wgsl" with { type: "text" };

/** `y[t, c] += b[c]` in place (reference: `biasAddReference`). */
export const biasAdd: Kernel = { name: "bias_add", code: biasAddSource };
/** `db[c] += Σ_t dy[t, c]` (reference: `biasGradReference`). */
export const biasGrad: Kernel = { name: "bias_grad", code: biasGradSource };

// Matrix products of the linear layers (src/model/ops/matmul.ts): subgroup and portable families.
import matmulXwtWgsl from "./matmul_xwt.wgsl" with { type: "text" };
const matmulXwtSource = unrollWgsl(matmulXwtWgsl); // compile-time loops: src/gpu/wgsl_unroll.ts
import matmulDywWgsl from "./matmul_dyw.wgsl" with { type: "text" };
const matmulDywSource = unrollWgsl(matmulDywWgsl); // compile-time loops: src/gpu/wgsl_unroll.ts
import matmulDytxWgsl from "./matmul_dytx.wgsl" with { type: "text" };
const matmulDytxSource = unrollWgsl(matmulDytxWgsl); // compile-time loops: src/gpu/wgsl_unroll.ts
import matmulXwtPortableWgsl from "./matmul_xwt_portable.wgsl" with { type: "text" };
const matmulXwtPortableSource = unrollWgsl(matmulXwtPortableWgsl); // compile-time loops: src/gpu/wgsl_unroll.ts
import matmulDywPortableWgsl from "./matmul_dyw_portable.wgsl" with { type: "text" };
const matmulDywPortableSource = unrollWgsl(matmulDywPortableWgsl); // compile-time loops: src/gpu/wgsl_unroll.ts
import matmulDytxPortableWgsl from "./matmul_dytx_portable.wgsl" with { type: "text" };
const matmulDytxPortableSource = unrollWgsl(matmulDytxPortableWgsl); // compile-time loops: src/gpu/wgsl_unroll.ts
import matmulPadSource from "./matmul_pad.wgsl" with { type: "text" };
import matmulCommonSource from "./matmul_common.wgsl" with { type: "text" };

/** `Y = alpha·X·Wᵀ (+ Y)` with subgroup broadcasts (reference: `matmulReference`, form "xwt"). */
export const matmulXwt: Kernel = {
  name: "matmul_xwt",
  code: `${matmulCommonSource}\n${matmulXwtSource}`,
};
/** `dX = alpha·dY·W (+ dX)` with subgroup broadcasts (reference: `matmulReference`, form "dyw"). */
export const matmulDyw: Kernel = {
  name: "matmul_dyw",
  code: `${matmulCommonSource}\n${matmulDywSource}`,
};
/** `dW = alpha·dYᵀ·X (+ dW)` with subgroup broadcasts (reference: `matmulReference`, form "dytx"). */
export const matmulDytx: Kernel = {
  name: "matmul_dytx",
  code: `${matmulCommonSource}\n${matmulDytxSource}`,
};
/** Portable `Y = alpha·X·Wᵀ (+ Y)` (reference: `matmulReference`, form "xwt"). */
export const matmulXwtPortable: Kernel = {
  name: "matmul_xwt_portable",
  code: `${matmulCommonSource}\n${matmulXwtPortableSource}`,
};
/** Portable `dX = alpha·dY·W (+ dX)` (reference: `matmulReference`, form "dyw"). */
export const matmulDywPortable: Kernel = {
  name: "matmul_dyw_portable",
  code: `${matmulCommonSource}\n${matmulDywPortableSource}`,
};
/** Portable `dW = alpha·dYᵀ·X (+ dW)` (reference: `matmulReference`, form "dytx"). */
export const matmulDytxPortable: Kernel = {
  name: "matmul_dytx_portable",
  code: `${matmulCommonSource}\n${matmulDytxPortableSource}`,
};
/** Zero-pads matrix rows to whole vec4s for the matmul kernels (reference: `padColumnsReference`). */
export const matmulPad: Kernel = { name: "matmul_pad", code: matmulPadSource };

// Attention kernels for devices with subgroups (src/model/ops/attention.ts picks them).
import attentionBackwardKeySubgroupsWgsl from "./attention_backward_key_subgroups.wgsl" with {
  type: "text",
};
const attentionBackwardKeySubgroupsSource = unrollWgsl(attentionBackwardKeySubgroupsWgsl); // compile-time loops: src/gpu/wgsl_unroll.ts
import attentionBackwardQuerySubgroupsWgsl from "./attention_backward_query_subgroups.wgsl" with {
  type: "text",
};
const attentionBackwardQuerySubgroupsSource = unrollWgsl(attentionBackwardQuerySubgroupsWgsl); // compile-time loops: src/gpu/wgsl_unroll.ts
import attentionForwardSubgroupsWgsl from "./attention_forward_subgroups.wgsl" with {
  type: "text",
};
const attentionForwardSubgroupsSource = unrollWgsl(attentionForwardSubgroupsWgsl); // compile-time loops: src/gpu/wgsl_unroll.ts

/** Attention forward sharing key rows by subgroup broadcasts (reference: `attentionForwardReference`). */
export const attentionForwardSubgroups: Kernel = {
  name: "attention_forward_subgroups",
  code: `${attentionCommonSource}\n${attentionForwardSubgroupsSource}`,
};
/** Attention backward, dq and delta, with subgroup broadcasts (reference: `attentionBackwardReference`). */
export const attentionBackwardQuerySubgroups: Kernel = {
  name: "attention_backward_query_subgroups",
  code: `${attentionCommonSource}\n${attentionBackwardQuerySubgroupsSource}`,
};
/** Attention backward, dk and dv, with subgroup broadcasts (reference: `attentionBackwardReference`). */
export const attentionBackwardKeySubgroups: Kernel = {
  name: "attention_backward_key_subgroups",
  code: `${attentionCommonSource}\n${attentionBackwardKeySubgroupsSource}`,
};

// Zeroth-order federated baselines (src/fl/algorithms/fed_kseed.ts, fed_zo.ts).
import zoCoefficientSource from "./zo_coefficient.wgsl" with { type: "text" };
import zoReplaySource from "./zo_replay.wgsl" with { type: "text" };
import zoScaleSource from "./zo_scale.wgsl" with { type: "text" };

/** Finite-difference scalars and update coefficients of one ZO iteration (reference: `zoCoefficientReference`). */
export const zoCoefficient: Kernel = { name: "zo_coefficient", code: zoCoefficientSource };
/** Σ_k c_k·z(seed_k) over a chunk, all K Gaussian directions in one pass (reference: `replayReference`). */
export const zoReplay: Kernel = {
  name: "zo_replay",
  code: `${philoxSource}\n${unrollWgsl(zoReplaySource)}`, // compile-time loops: src/gpu/wgsl_unroll.ts
};
/** `x ← f·x` with f read from a GPU buffer (reference: `zoScaleReference`). */
export const zoScale: Kernel = { name: "zo_scale", code: zoScaleSource };

// Federation (src/fl/): per-block norms of an update.
import segmentSumsqSource from "./segment_sumsq.wgsl" with { type: "text" };

/** Squared norms of the tiles of segments of a chunk (reference: `segmentSumSquaresReference`). */
export const segmentSumsq: Kernel = { name: "segment_sumsq", code: segmentSumsqSource };

// Engine fast paths (src/model/ops/): vec4 layer kernels and small-m matrix products.
import rmsnormBackwardVec4Source from "./rmsnorm_backward_vec4.wgsl" with { type: "text" };
import matmulXwtRowsSource from "./matmul_xwt_rows.wgsl" with { type: "text" };
import rmsnormForwardVec4Source from "./rmsnorm_forward_vec4.wgsl" with { type: "text" };

/** RMSNorm forward for C a multiple of 4, on vec4s (reference: `rmsnormForwardReference`). */
export const rmsnormForwardVec4: Kernel = {
  name: "rmsnorm_forward_vec4",
  code: rmsnormForwardVec4Source,
};
/** RMSNorm backward for C a multiple of 4, on vec4s (reference: `rmsnormBackwardReference`). */
export const rmsnormBackwardVec4: Kernel = {
  name: "rmsnorm_backward_vec4",
  code: rmsnormBackwardVec4Source,
};
/** `Y = alpha·X·Wᵀ (+ Y)` for at most 8 rows of X, portable (reference: `matmulReference`, form "xwt"). */
export const matmulXwtRows: Kernel = {
  name: "matmul_xwt_rows",
  code: `${matmulCommonSource}\n${matmulXwtRowsSource}`,
};
