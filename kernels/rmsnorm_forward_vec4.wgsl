// rmsnorm_forward_vec4: rmsnorm_forward for C a multiple of 4, on vec4s.
//   y[t, :] = w ⊙ (x[t, :] · rstd[t]), rstd[t] = 1 / sqrt(mean(x[t, :]²) + eps)
// TypeScript reference: rmsnormForwardReference in src/model/ops/rmsnorm.ts.
// Same lanes and arithmetic as rmsnorm_forward (so the same results): one lane
// per row, four partial sums of squares, then y = w·(x·r) element by element.
// Rows start on vec4 boundaries, so every load and store moves 4 values: CPU
// adapters run each storage access as a loop over the SIMD lanes, and a vec4
// costs about what a scalar does.
// Many models per dispatch (src/model/ops/_common.ts, ModelRows): row t
// belongs to model t / rows and is scaled by that model's weights, which sit
// model · stride elements (a multiple of 4) past the start of w. One model:
// rows = T, stride 0.

override WG: u32 = 64;

struct Params {
  T: u32,      // rows of all models
  C: u32,      // channels, a multiple of 4
  eps: f32,    // added to the mean square
  rows: u32,   // rows per model (≥ 1; T for one model)
  stride: u32, // elements from one model's w to the next model's, a multiple of 4
  _pad0: u32,
  _pad1: u32,
  _pad2: u32,
}

@group(0) @binding(0) var<storage, read_write> y: array<vec4<f32>>; // [T, C/4]
@group(0) @binding(1) var<storage, read_write> rstd: array<f32>;    // [T]
@group(0) @binding(2) var<storage, read> x: array<vec4<f32>>;       // [T, C/4]
@group(0) @binding(3) var<storage, read> w: array<vec4<f32>>;       // [C/4] per model, stride apart
@group(1) @binding(0) var<uniform> p: Params;

@compute @workgroup_size(WG)
fn main(
  @builtin(workgroup_id) wid: vec3u,
  @builtin(num_workgroups) nwg: vec3u,
  @builtin(local_invocation_index) lid: u32,
) {
  let t = (wid.x + wid.y * nwg.x) * WG + lid;
  if (t >= p.T) {
    return;
  }
  // Also bounded by arrayLength, so no driver folds the uniform into the loops (lavapipe would
  // then recompile the shader at every dispatch; see src/model/ops/_common.ts).
  let C4 = min(p.C / 4u, arrayLength(&w));
  let row = t * C4;
  let wb = (t / p.rows) * (p.stride / 4u); // this row's model's weights
  var s = vec4<f32>(0.0);
  for (var c = 0u; c < C4; c++) {
    let v = x[row + c];
    s = fma(v, v, s);
  }
  let r = 1.0 / sqrt((s.x + s.y + s.z + s.w) / f32(p.C) + p.eps);
  rstd[t] = r;
  for (var c = 0u; c < C4; c++) {
    y[row + c] = w[wb + c] * (x[row + c] * r);
  }
}
