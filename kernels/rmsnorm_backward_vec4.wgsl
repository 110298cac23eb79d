// rmsnorm_backward_vec4: rmsnorm_backward for C a multiple of 4, on vec4s.
//   dx[t, i] = rstd·w_i·dy_i − rstd³/C · x_i · Σ_j w_j·dy_j·x_j
//   dw[i]   += Σ_t dy[t, i] · x[t, i] · rstd[t]
// TypeScript reference: rmsnormBackwardReference in src/model/ops/rmsnorm.ts.
// Same lanes and summation orders as rmsnorm_backward (so the same results):
// lanes 0 … T−1 own a row of dx, lanes T … T+C/4−1 own 4 columns of dw and
// sum over rows in order. Rows start on vec4 boundaries, so every load and
// store moves 4 values: CPU adapters run each storage access as a loop over
// the SIMD lanes, and a vec4 costs about what a scalar does.
// Many models per dispatch (src/model/ops/_common.ts, ModelRows): row t
// belongs to model b = t / rows, whose w and dw sit b · stride elements (a
// multiple of 4) past the bindings' starts. The dw lanes are then B·C/4,
// lane T + b·C/4 + q owning columns 4q … 4q+3 of model b: it sums over model
// b's rows only, in order and in blocks of 4 counted from the model's first
// row — exactly what this kernel does for that model alone (one model:
// rows = T, stride 0, as ever).

override WG: u32 = 64;
override ACCUMULATE: bool = false;

struct Params {
  T: u32,      // rows of all models
  C: u32,      // channels, a multiple of 4
  rows: u32,   // rows per model (≥ 1; T for one model)
  stride: u32, // elements from one model's w (and dw) to the next model's, a multiple of 4
}

@group(0) @binding(0) var<storage, read_write> dx: array<vec4<f32>>; // [T, C/4]
@group(0) @binding(1) var<storage, read_write> dw: array<vec4<f32>>; // [C/4] per model, accumulated
@group(0) @binding(2) var<storage, read> dy: array<vec4<f32>>;       // [T, C/4]
@group(0) @binding(3) var<storage, read> x: array<vec4<f32>>;        // [T, C/4]
@group(0) @binding(4) var<storage, read> w: array<vec4<f32>>;        // [C/4] per model
@group(0) @binding(5) var<storage, read> rstd: array<f32>;           // [T] from the forward pass
@group(1) @binding(0) var<uniform> p: Params;

@compute @workgroup_size(WG)
fn main(
  @builtin(workgroup_id) wid: vec3u,
  @builtin(num_workgroups) nwg: vec3u,
  @builtin(local_invocation_index) lid: u32,
) {
  let lane = (wid.x + wid.y * nwg.x) * WG + lid;
  // Sizes are also bounded by arrayLength, so no driver folds the uniforms into the loops
  // (lavapipe would then recompile the shader at every dispatch; see src/model/ops/_common.ts).
  let T = min(p.T, arrayLength(&rstd));
  let C4 = min(p.C / 4u, arrayLength(&w));
  let rows = max(min(p.rows, T), 1u);
  let stride4 = p.stride / 4u;
  if (lane < T) {
    let row = lane * C4;
    let wb = (lane / rows) * stride4; // this row's model's weights
    let r = rstd[lane];
    var sv = vec4<f32>(0.0);
    for (var c = 0u; c < C4; c++) {
      sv = fma(w[wb + c] * dy[row + c], x[row + c], sv);
    }
    let s = (sv.x + sv.y) + (sv.z + sv.w);
    let k = r * r * r * s / f32(C4 * 4u);
    for (var c = 0u; c < C4; c++) {
      var g = r * w[wb + c] * dy[row + c] - k * x[row + c];
      if (ACCUMULATE) {
        g += dx[row + c];
      }
      dx[row + c] = g;
    }
    return;
  }
  let lq = lane - T;
  if (lq >= (T / rows) * C4) {
    return;
  }
  let b = lq / C4;
  let q = lq % C4;
  let t0 = b * rows; // the model's first row
  let out = b * stride4 + q;
  // Blocks of 4 rows keep the loop count at rows/4 (llvmpipe ends loops after 65535 iterations per
  // invocation; constant 4-trip loops are unrolled).
  var acc = dw[out];
  var t = 0u;
  for (; t + 4u <= rows; t += 4u) {
    for (var i = 0u; i < 4u; i++) {
      let at = (t0 + t + i) * C4 + q;
      acc = fma(dy[at] * x[at], vec4<f32>(rstd[t0 + t + i]), acc);
    }
  }
  for (; t < rows; t++) {
    let at = (t0 + t) * C4 + q;
    acc = fma(dy[at] * x[at], vec4<f32>(rstd[t0 + t]), acc);
  }
  dw[out] = acc;
}
