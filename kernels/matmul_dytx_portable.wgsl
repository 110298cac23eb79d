// matmul_dytx_portable: OUT[n,k] = alpha·A[m,n]ᵀ·B[m,k] (+ OUT) — dW = dYᵀ·X, the weight
// gradient of a linear layer (usually accumulated).
// TypeScript reference: matmulReference (form "dytx") in src/model/ops/matmul.ts.
//
// Portable path (no subgroups, e.g. the GL backend). On CPU adapters every storage load runs as a
// scalar loop over the SIMD lanes, so the kernel is bound by loads; workgroup memory is loaded the
// same way and does not help. Each lane keeps a 16 × 8 block of OUT in registers and makes 24 vec4
// loads per 512 FMAs. The 32 accumulators are spelled out because loops over private arrays are
// not unrolled by every compiler and cost a gather per access there. Rows and columns past the
// edges are clamped on load (computed, not stored); reduction steps past the end are zeroed.
// Rows of A and B are vec4 aligned: the wrapper pads a row length that is not a multiple of 4
// with zero columns first (matmul_pad).
// Registers and steps written out by hand appear here as `//! for` loops; kernels/mod.ts expands
// them to plain WGSL before compiling (src/gpu/wgsl_unroll.ts).

override WG: u32 = 8; // lanes per workgroup

// Params, the bindings (out, a, b), rank4 and store4: kernels/matmul_common.wgsl.

@compute @workgroup_size(WG)
fn main(
  @builtin(workgroup_id) wid: vec3u,
  @builtin(num_workgroups) nwg: vec3u,
  @builtin(local_invocation_index) lid: u32,
) {
  let flat = wid.x + wid.y * nwg.x;
  if (flat >= p.tiles) {
    return;
  }
  let model = flat / p.model_tiles;
  let tile = flat % p.model_tiles;
  let mA = model * p.a_model4; // where this model's A, B and OUT start
  let mB = model * p.b_model4;
  let mOut = model * p.out_model;
  let i0 = (tile / p.col_tiles) * 16u; // first row of OUT in this tile
  let j0 = ((tile % p.col_tiles) * WG + lid) * 8u; // this lane's first column of OUT
  // The reduction length and the accumulate flag also pass through arrayLength, so no driver folds
  // the uniforms into the code (lavapipe would then recompile the shader at every dispatch; see
  // src/model/ops/_common.ts). last: the last row of A and B (the reduction runs over them).
  let last = min(p.depth, arrayLength(&a)) - 1u;
  // OUT's rows i0 + 4t..i0 + 4t + 3 are A's vec4 column ac{t} (clamped).
  let ac0 = mA + min(i0 / 4u + 0u, p.a_stride4 - 1u);
  let ac1 = mA + min(i0 / 4u + 1u, p.a_stride4 - 1u);
  let ac2 = mA + min(i0 / 4u + 2u, p.a_stride4 - 1u);
  let ac3 = mA + min(i0 / 4u + 3u, p.a_stride4 - 1u);
  let bc0 = mB + min(j0 / 4u, p.b_stride4 - 1u);
  let bc1 = mB + min(j0 / 4u + 1u, p.b_stride4 - 1u);
  // a{r}_{g}: OUT[i0 + r, j0 + 4g..j0 + 4g + 3]
  //! for i in 0..16
  var a{i}_0 = vec4<f32>(0.0);
  var a{i}_1 = vec4<f32>(0.0);
  //! end
  for (var p0 = 0u; p0 <= last; p0 += 4u) {
    // x{g}_{s} = B[p0 + s, j0 + 4g..], d{s}_{t} = A[p0 + s, i0 + 4t..i0 + 4t + 3]; rows past m are zero.
    //! for i in 0..4
    let live{i} = p0 + {i}u <= last;
    let arow{i} = min(p0 + {i}u, last) * p.a_stride4;
    let brow{i} = min(p0 + {i}u, last) * p.b_stride4;
    let x0_{i} = select(vec4<f32>(0.0), b[brow{i} + bc0], live{i});
    let x1_{i} = select(vec4<f32>(0.0), b[brow{i} + bc1], live{i});
    let d{i}_0 = select(vec4<f32>(0.0), a[arow{i} + ac0], live{i});
    let d{i}_1 = select(vec4<f32>(0.0), a[arow{i} + ac1], live{i});
    let d{i}_2 = select(vec4<f32>(0.0), a[arow{i} + ac2], live{i});
    let d{i}_3 = select(vec4<f32>(0.0), a[arow{i} + ac3], live{i});
    //! end
    //! for i in 0..4
    let e{4*i} = vec4<f32>(d0_{i}.x, d1_{i}.x, d2_{i}.x, d3_{i}.x);
    a{4*i}_0 = rank4(a{4*i}_0, e{4*i}, x0_0, x0_1, x0_2, x0_3);
    a{4*i}_1 = rank4(a{4*i}_1, e{4*i}, x1_0, x1_1, x1_2, x1_3);
    let e{4*i+1} = vec4<f32>(d0_{i}.y, d1_{i}.y, d2_{i}.y, d3_{i}.y);
    a{4*i+1}_0 = rank4(a{4*i+1}_0, e{4*i+1}, x0_0, x0_1, x0_2, x0_3);
    a{4*i+1}_1 = rank4(a{4*i+1}_1, e{4*i+1}, x1_0, x1_1, x1_2, x1_3);
    let e{4*i+2} = vec4<f32>(d0_{i}.z, d1_{i}.z, d2_{i}.z, d3_{i}.z);
    a{4*i+2}_0 = rank4(a{4*i+2}_0, e{4*i+2}, x0_0, x0_1, x0_2, x0_3);
    a{4*i+2}_1 = rank4(a{4*i+2}_1, e{4*i+2}, x1_0, x1_1, x1_2, x1_3);
    let e{4*i+3} = vec4<f32>(d0_{i}.w, d1_{i}.w, d2_{i}.w, d3_{i}.w);
    a{4*i+3}_0 = rank4(a{4*i+3}_0, e{4*i+3}, x0_0, x0_1, x0_2, x0_3);
    a{4*i+3}_1 = rank4(a{4*i+3}_1, e{4*i+3}, x1_0, x1_1, x1_2, x1_3);
    //! end
  }
  //! for i in 0..16
  store4(mOut, i0 + {i}u, j0 + 0u, a{i}_0);
  store4(mOut, i0 + {i}u, j0 + 4u, a{i}_1);
  //! end
}
