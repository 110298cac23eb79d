// matmul_dyw_portable: OUT[m,k] = alpha·A[m,n]·B[n,k] (+ OUT) — dX = dY·W, the input gradient
// of a linear layer.
// TypeScript reference: matmulReference (form "dyw") in src/model/ops/matmul.ts.
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
  //! for i in 0..16
  let ar{i} = mA + min(i0 + {i}u, p.rows - 1u) * p.a_stride4;
  //! end
  let bc0 = mB + min(j0 / 4u, p.b_stride4 - 1u);
  let bc1 = mB + min(j0 / 4u + 1u, p.b_stride4 - 1u);
  let last = min(p.depth, arrayLength(&b)) - 1u; // last row of B (≤ its length: see below)
  // a{r}_{g}: OUT[i0 + r, j0 + 4g..j0 + 4g + 3]
  //! for i in 0..16
  var a{i}_0 = vec4<f32>(0.0);
  var a{i}_1 = vec4<f32>(0.0);
  //! end
  // The reduction length and the accumulate flag also pass through arrayLength, so no driver folds
  // the uniforms into the code (lavapipe would then recompile the shader at every dispatch; see
  // src/model/ops/_common.ts).
  let steps = min((p.depth + 3u) / 4u, arrayLength(&a));
  for (var kk = 0u; kk < steps; kk++) {
    // t{g}_{s} = W[4·kk + s, j0 + 4g..j0 + 4g + 3]; rows past n are zero.
    let p0 = kk * 4u;
    //! for i in 0..4
    let brow{i} = min(p0 + {i}u, last) * p.b_stride4;
    let live{i} = p0 + {i}u <= last;
    let t0_{i} = select(vec4<f32>(0.0), b[brow{i} + bc0], live{i});
    let t1_{i} = select(vec4<f32>(0.0), b[brow{i} + bc1], live{i});
    //! end
    //! for i in 0..16
    let f{i} = a[ar{i} + kk];
    a{i}_0 = rank4(a{i}_0, f{i}, t0_0, t0_1, t0_2, t0_3);
    a{i}_1 = rank4(a{i}_1, f{i}, t1_0, t1_1, t1_2, t1_3);
    //! end
  }
  //! for i in 0..16
  store4(mOut, i0 + {i}u, j0 + 0u, a{i}_0);
  store4(mOut, i0 + {i}u, j0 + 4u, a{i}_1);
  //! end
}
