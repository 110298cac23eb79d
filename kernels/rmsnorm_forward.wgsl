// rmsnorm_forward: y[t, :] = w ⊙ (x[t, :] · rstd[t]), rstd[t] = 1 / sqrt(mean(x[t, :]²) + eps)
// (LLaMA RMSNorm; rstd is saved for the backward pass).
// TypeScript reference: rmsnormForwardReference in src/model/ops/rmsnorm.ts.
// One lane per row, streaming its row twice: no barriers, contiguous reads
// per lane (what CPU adapters run fastest), and no constraint on C.
// Many models per dispatch (src/model/ops/_common.ts, ModelRows): row t
// belongs to model t / rows and is scaled by that model's weights, which sit
// model · stride elements past the start of w. One model: rows = T, stride 0
// (model 0 for every row, so the same loads and results as ever).

override WG: u32 = 64;

struct Params {
  T: u32,      // rows of all models
  C: u32,      // channels
  eps: f32,    // added to the mean square
  rows: u32,   // rows per model (≥ 1; T for one model)
  stride: u32, // elements from one model's w to the next model's (0 for one model)
  _pad0: u32,
  _pad1: u32,
  _pad2: u32,
}

@group(0) @binding(0) var<storage, read_write> y: array<f32>;    // [T, C]
@group(0) @binding(1) var<storage, read_write> rstd: array<f32>; // [T]
@group(0) @binding(2) var<storage, read> x: array<f32>;          // [T, C]
@group(0) @binding(3) var<storage, read> w: array<f32>;          // [C] per model, stride apart
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
  let C = min(p.C, arrayLength(&w));
  let row = t * C;
  let wb = (t / p.rows) * p.stride; // this row's model's weights
  // Four partial sums: independent chains pipeline better and round less.
  var s = vec4<f32>(0.0);
  var c = 0u;
  for (; c + 4u <= C; c += 4u) {
    let v = vec4<f32>(x[row + c], x[row + c + 1u], x[row + c + 2u], x[row + c + 3u]);
    s = fma(v, v, s);
  }
  for (; c < C; c++) {
    let v = x[row + c];
    s.x = fma(v, v, s.x);
  }
  let r = 1.0 / sqrt((s.x + s.y + s.z + s.w) / f32(C) + p.eps);
  rstd[t] = r;
  // Blocks of 4 keep the loop count at C/4 (llvmpipe ends loops after 65535
  // iterations per invocation; constant 4-trip loops are unrolled).
  for (c = 0u; c + 4u <= C; c += 4u) {
    for (var i = 0u; i < 4u; i++) {
      y[row + c + i] = w[wb + c + i] * (x[row + c + i] * r);
    }
  }
  for (; c < C; c++) {
    y[row + c] = w[wb + c] * (x[row + c] * r);
  }
}
