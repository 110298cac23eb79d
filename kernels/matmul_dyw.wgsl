// matmul_dyw: OUT[m,k] = alpha·A[m,n]·B[n,k] (+ OUT) — dX = dY·W, the input gradient
// of a linear layer.
// TypeScript reference: matmulReference (form "dyw") in src/model/ops/matmul.ts.
// Fast path: needs the `subgroups` feature with subgroups of at least 8 lanes.
//
// Why this shape: on CPU adapters (llvmpipe, lavapipe) every storage load runs as a scalar loop over
// the SIMD lanes, so matmul is bound by loads, not by FMAs, and workgroup memory (loaded the same
// way) does not help. A workgroup computes a 32 × 4·WG tile of OUT; its lanes share the tile's 32
// rows of the shared operand: lane s of each subgroup loads one vec4 of it and subgroupBroadcast hands
// it to the others, so a loaded float feeds 8 lanes. Each lane loads its own 4 columns of the other
// operand. A lane thus makes 8 vec4 loads per 512 FMAs. The 32 accumulators are spelled out because
// loops over private arrays are not unrolled by every compiler and cost a gather per access there.
// Rows and columns past the edges are clamped on load (computed, not stored); reduction steps past
// the end are zeroed, so padding and clamped rows contribute nothing.
// Rows of A and B are vec4 aligned: the wrapper pads a row length that is not a multiple of 4
// with zero columns first (matmul_pad).
// Registers and steps written out by hand appear here as `//! for` loops; kernels/mod.ts expands
// them to plain WGSL before compiling (src/gpu/wgsl_unroll.ts).

override WG: u32 = 8; // lanes per workgroup; each of its subgroups must have ≥ 8 lanes

// Params, the bindings (out, a, b), rank4 and store4: kernels/matmul_common.wgsl.

@compute @workgroup_size(WG)
fn main(
  @builtin(workgroup_id) wid: vec3u,
  @builtin(num_workgroups) nwg: vec3u,
  @builtin(local_invocation_index) lid: u32,
  @builtin(subgroup_invocation_id) sl: u32,
) {
  let flat = wid.x + wid.y * nwg.x;
  if (flat >= p.tiles) {
    return; // the whole workgroup leaves together, before any subgroup operation
  }
  let model = flat / p.model_tiles;
  let tile = flat % p.model_tiles;
  let mA = model * p.a_model4; // where this model's A, B and OUT start
  let mB = model * p.b_model4;
  let mOut = model * p.out_model;
  let i0 = (tile / p.col_tiles) * 32u; // first row of OUT in this tile
  let j0 = ((tile % p.col_tiles) * WG + lid) * 4u; // this lane's first column of OUT
  let lane8 = sl & 7u;
  // Rows of A this lane fetches for the tile's 4 groups of 8 rows (clamped), and the vec4
  // column of B holding its 4 columns.
  let ar0 = mA + min(i0 + 0u + lane8, p.rows - 1u) * p.a_stride4;
  let ar1 = mA + min(i0 + 8u + lane8, p.rows - 1u) * p.a_stride4;
  let ar2 = mA + min(i0 + 16u + lane8, p.rows - 1u) * p.a_stride4;
  let ar3 = mA + min(i0 + 24u + lane8, p.rows - 1u) * p.a_stride4;
  let bc = mB + min(j0 / 4u, p.b_stride4 - 1u);
  let last = min(p.depth, arrayLength(&b)) - 1u; // last row of B (≤ its length: see below)
  // a{r}: OUT[i0 + r, j0..j0+3]
  //! for i in 0..32
  var a{i} = vec4<f32>(0.0);
  //! end
  // The reduction length and the accumulate flag also pass through arrayLength, so no driver folds
  // the uniforms into the code (lavapipe would then recompile the shader at every dispatch; see
  // src/model/ops/_common.ts).
  let steps = min((p.depth + 3u) / 4u, arrayLength(&a));
  for (var kk = 0u; kk < steps; kk++) {
    // t_s = W[4·kk + s, j0..j0+3]; rows past n are zero (A's padding is zero too, but 0·inf is not).
    let p0 = kk * 4u;
    let t0 = select(vec4<f32>(0.0), b[min(p0 + 0u, last) * p.b_stride4 + bc], p0 + 0u <= last);
    let t1 = select(vec4<f32>(0.0), b[min(p0 + 1u, last) * p.b_stride4 + bc], p0 + 1u <= last);
    let t2 = select(vec4<f32>(0.0), b[min(p0 + 2u, last) * p.b_stride4 + bc], p0 + 2u <= last);
    let t3 = select(vec4<f32>(0.0), b[min(p0 + 3u, last) * p.b_stride4 + bc], p0 + 3u <= last);
    //! for i in 0..4
    let f{i} = a[ar{i} + kk];
    //! for j in 0..8
    a{8*i+j} = rank4(a{8*i+j}, subgroupBroadcast(f{i}, {j}u), t0, t1, t2, t3);
    //! end
    //! end
  }
  //! for i in 0..32
  store4(mOut, i0 + {i}u, j0, a{i});
  //! end
}
