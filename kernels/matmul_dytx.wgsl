// matmul_dytx: OUT[n,k] = alpha·A[m,n]ᵀ·B[m,k] (+ OUT) — dW = dYᵀ·X, the weight
// gradient of a linear layer (usually accumulated).
// TypeScript reference: matmulReference (form "dytx") in src/model/ops/matmul.ts.
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
  // The reduction length and the accumulate flag also pass through arrayLength, so no driver folds
  // the uniforms into the code (lavapipe would then recompile the shader at every dispatch; see
  // src/model/ops/_common.ts). last: the last row of A and B (the reduction runs over them).
  let last = min(p.depth, arrayLength(&a)) - 1u;
  // OUT's rows i0 + 4t..i0 + 4t + 3 are A's vec4 column ac{t} (clamped).
  //! for i in 0..8
  let ac{i} = mA + min(i0 / 4u + {i}u, p.a_stride4 - 1u);
  //! end
  let bc = mB + min(j0 / 4u, p.b_stride4 - 1u); // OUT's columns j0..j0+3 are B's vec4 column bc
  // a{r}: OUT[i0 + r, j0..j0+3]
  //! for i in 0..32
  var a{i} = vec4<f32>(0.0);
  //! end
  for (var p0 = 0u; p0 <= last; p0 += 8u) {
    // Lane s fetches row p0 + s of A (8 vec4s: OUT's 32 rows); rows past m are zero.
    let arow = p0 + lane8;
    let abase = min(arow, last) * p.a_stride4;
    let alive = arow <= last;
    //! for i in 0..8
    let f{i} = select(vec4<f32>(0.0), a[abase + ac{i}], alive);
    //! end
    // Reduction rows p0 + 0..p0 + 3: x_s = B[p0 + s, j0..j0+3], d_s = A[p0 + s, 4-row slice].
    let x0_0 = select(vec4<f32>(0.0), b[min(p0 + 0u, last) * p.b_stride4 + bc], p0 + 0u <= last);
    let x1_0 = select(vec4<f32>(0.0), b[min(p0 + 1u, last) * p.b_stride4 + bc], p0 + 1u <= last);
    let x2_0 = select(vec4<f32>(0.0), b[min(p0 + 2u, last) * p.b_stride4 + bc], p0 + 2u <= last);
    let x3_0 = select(vec4<f32>(0.0), b[min(p0 + 3u, last) * p.b_stride4 + bc], p0 + 3u <= last);
    //! for i in 0..8
    let d0_0_{i} = subgroupBroadcast(f{i}, 0u);
    let d1_0_{i} = subgroupBroadcast(f{i}, 1u);
    let d2_0_{i} = subgroupBroadcast(f{i}, 2u);
    let d3_0_{i} = subgroupBroadcast(f{i}, 3u);
    a{4*i} = rank4(a{4*i}, vec4<f32>(d0_0_{i}.x, d1_0_{i}.x, d2_0_{i}.x, d3_0_{i}.x), x0_0, x1_0, x2_0, x3_0);
    a{4*i+1} = rank4(a{4*i+1}, vec4<f32>(d0_0_{i}.y, d1_0_{i}.y, d2_0_{i}.y, d3_0_{i}.y), x0_0, x1_0, x2_0, x3_0);
    a{4*i+2} = rank4(a{4*i+2}, vec4<f32>(d0_0_{i}.z, d1_0_{i}.z, d2_0_{i}.z, d3_0_{i}.z), x0_0, x1_0, x2_0, x3_0);
    a{4*i+3} = rank4(a{4*i+3}, vec4<f32>(d0_0_{i}.w, d1_0_{i}.w, d2_0_{i}.w, d3_0_{i}.w), x0_0, x1_0, x2_0, x3_0);
    //! end
    // Reduction rows p0 + 4..p0 + 7: x_s = B[p0 + s, j0..j0+3], d_s = A[p0 + s, 4-row slice].
    let x0_1 = select(vec4<f32>(0.0), b[min(p0 + 4u, last) * p.b_stride4 + bc], p0 + 4u <= last);
    let x1_1 = select(vec4<f32>(0.0), b[min(p0 + 5u, last) * p.b_stride4 + bc], p0 + 5u <= last);
    let x2_1 = select(vec4<f32>(0.0), b[min(p0 + 6u, last) * p.b_stride4 + bc], p0 + 6u <= last);
    let x3_1 = select(vec4<f32>(0.0), b[min(p0 + 7u, last) * p.b_stride4 + bc], p0 + 7u <= last);
    //! for i in 0..8
    let d0_1_{i} = subgroupBroadcast(f{i}, 4u);
    let d1_1_{i} = subgroupBroadcast(f{i}, 5u);
    let d2_1_{i} = subgroupBroadcast(f{i}, 6u);
    let d3_1_{i} = subgroupBroadcast(f{i}, 7u);
    a{4*i} = rank4(a{4*i}, vec4<f32>(d0_1_{i}.x, d1_1_{i}.x, d2_1_{i}.x, d3_1_{i}.x), x0_1, x1_1, x2_1, x3_1);
    a{4*i+1} = rank4(a{4*i+1}, vec4<f32>(d0_1_{i}.y, d1_1_{i}.y, d2_1_{i}.y, d3_1_{i}.y), x0_1, x1_1, x2_1, x3_1);
    a{4*i+2} = rank4(a{4*i+2}, vec4<f32>(d0_1_{i}.z, d1_1_{i}.z, d2_1_{i}.z, d3_1_{i}.z), x0_1, x1_1, x2_1, x3_1);
    a{4*i+3} = rank4(a{4*i+3}, vec4<f32>(d0_1_{i}.w, d1_1_{i}.w, d2_1_{i}.w, d3_1_{i}.w), x0_1, x1_1, x2_1, x3_1);
    //! end
  }
  //! for i in 0..32
  store4(mOut, i0 + {i}u, j0, a{i});
  //! end
}
