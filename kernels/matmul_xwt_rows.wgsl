// matmul_xwt_rows: OUT[m,n] = alpha·A[m,k]·B[n,k]ᵀ (+ OUT) for few rows (m ≤ 8): Y = X·Wᵀ of
// single-token generation passes and short prompts.
// TypeScript reference: matmulReference (form "xwt") in src/model/ops/matmul.ts.
// Portable (no optional feature); both device paths use it for small m.
//
// Why this shape: with one row of X the product is a matrix-vector product, bound by reading W
// once. The 32-row tiles of matmul_xwt would compute 31 wasted rows per real one; here a workgroup
// covers R rows (R = 1, 2, 4 or 8, the smallest that holds m) and each lane 4 columns of OUT, so a
// lane reads its 4 rows of W as one vec4 each per 4 reduction steps (every storage access costs
// about the same on CPU adapters, whatever its width) and one vec4 of each of its R rows of X.
// Each output is summed in exactly the order of matmul_xwt (4 reduction steps per fused rank4,
// then alpha and the old value), so both kernels give bit-identical results on one device.
// Rows and columns past the edges are clamped on load (computed, not stored). Rows of A and B are
// vec4 aligned: the wrapper pads a row length that is not a multiple of 4 with zero columns first.

override WG: u32 = 8; // lanes per workgroup

const R: u32 = 1u; // rows of OUT per workgroup; the wrapper specializes it to 1, 2, 4 or 8

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
  let i0 = (tile / p.col_tiles) * R; // first row of OUT in this tile
  let j0 = ((tile % p.col_tiles) * WG + lid) * 4u; // this lane's first column of OUT
  // Rows of B behind the lane's 4 columns, and the tile's rows of A (all clamped).
  let br0 = mB + min(j0 + 0u, p.cols - 1u) * p.b_stride4;
  let br1 = mB + min(j0 + 1u, p.cols - 1u) * p.b_stride4;
  let br2 = mB + min(j0 + 2u, p.cols - 1u) * p.b_stride4;
  let br3 = mB + min(j0 + 3u, p.cols - 1u) * p.b_stride4;
  // Constant-trip loops over R (≤ 8) are unrolled, so these arrays live in registers.
  var ar: array<u32, R>;
  var acc: array<vec4<f32>, R>; // acc[r]: OUT[i0 + r, j0..j0+3]
  for (var r = 0u; r < R; r++) {
    ar[r] = mA + min(i0 + r, p.rows - 1u) * p.a_stride4;
    acc[r] = vec4<f32>(0.0);
  }
  // The reduction length and the accumulate flag also pass through arrayLength, so no driver folds
  // the uniforms into the code (lavapipe would then recompile the shader at every dispatch; see
  // src/model/ops/_common.ts).
  let steps = min((p.depth + 3u) / 4u, arrayLength(&a));
  for (var kk = 0u; kk < steps; kk++) {
    let w0 = b[br0 + kk];
    let w1 = b[br1 + kk];
    let w2 = b[br2 + kk];
    let w3 = b[br3 + kk];
    // t_s = W[j0..j0+3, 4·kk + s]: a transpose that is free where vectors are SIMD-across-lanes.
    let t0 = vec4<f32>(w0.x, w1.x, w2.x, w3.x);
    let t1 = vec4<f32>(w0.y, w1.y, w2.y, w3.y);
    let t2 = vec4<f32>(w0.z, w1.z, w2.z, w3.z);
    let t3 = vec4<f32>(w0.w, w1.w, w2.w, w3.w);
    for (var r = 0u; r < R; r++) {
      acc[r] = rank4(acc[r], a[ar[r] + kk], t0, t1, t2, t3);
    }
  }
  for (var r = 0u; r < R; r++) {
    store4(mOut, i0 + r, j0, acc[r]);
  }
}
