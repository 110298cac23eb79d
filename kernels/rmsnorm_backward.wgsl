// rmsnorm_backward: dx (written, or added when ACCUMULATE) and dw (always added).
//   dx[t, i] = rstd·w_i·dy_i − rstd³/C · x_i · Σ_j w_j·dy_j·x_j
//   dw[i]   += Σ_t dy[t, i] · x[t, i] · rstd[t]
// TypeScript reference: rmsnormBackwardReference in src/model/ops/rmsnorm.ts.
// One dispatch, two kinds of lane: lanes 0 … T−1 own a row of dx, lanes
// T … T+C−1 own a column of dw and sum over rows in order (deterministic, no
// atomics). Both only read x, dy, w and rstd, so they never race.
// Many models per dispatch (src/model/ops/_common.ts, ModelRows): row t
// belongs to model b = t / rows, whose w and dw sit b · stride elements past
// the bindings' starts. The dw lanes are then B·C, lane T + b·C + i owning
// column i of model b: it sums over model b's rows only, in order and in
// blocks of 4 counted from the model's first row — exactly what this kernel
// does for that model alone (one model: rows = T, stride 0, as ever).

override WG: u32 = 64;
override ACCUMULATE: bool = false;

struct Params {
  T: u32,      // rows of all models
  C: u32,      // channels
  rows: u32,   // rows per model (≥ 1; T for one model)
  stride: u32, // elements from one model's w (and dw) to the next model's (0 for one model)
}

@group(0) @binding(0) var<storage, read_write> dx: array<f32>; // [T, C]
@group(0) @binding(1) var<storage, read_write> dw: array<f32>; // [C] per model, accumulated
@group(0) @binding(2) var<storage, read> dy: array<f32>;       // [T, C]
@group(0) @binding(3) var<storage, read> x: array<f32>;        // [T, C]
@group(0) @binding(4) var<storage, read> w: array<f32>;        // [C] per model
@group(0) @binding(5) var<storage, read> rstd: array<f32>;     // [T] from the forward pass
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
  let C = min(p.C, arrayLength(&w));
  let rows = max(min(p.rows, T), 1u);
  if (lane < T) {
    let row = lane * C;
    let wb = (lane / rows) * p.stride; // this row's model's weights
    let r = rstd[lane];
    // Blocks of 4 keep loop counts at C/4 and rows/4 (llvmpipe ends loops after
    // 65535 iterations per invocation; constant 4-trip loops are unrolled).
    var sv = vec4<f32>(0.0);
    var c = 0u;
    for (; c + 4u <= C; c += 4u) {
      for (var i = 0u; i < 4u; i++) {
        sv[i] = fma(w[wb + c + i] * dy[row + c + i], x[row + c + i], sv[i]);
      }
    }
    for (; c < C; c++) {
      sv.x = fma(w[wb + c] * dy[row + c], x[row + c], sv.x);
    }
    let s = (sv.x + sv.y) + (sv.z + sv.w);
    let k = r * r * r * s / f32(C);
    c = 0u;
    for (; c + 4u <= C; c += 4u) {
      for (var i = 0u; i < 4u; i++) {
        var g = r * w[wb + c + i] * dy[row + c + i] - k * x[row + c + i];
        if (ACCUMULATE) {
          g += dx[row + c + i];
        }
        dx[row + c + i] = g;
      }
    }
    for (; c < C; c++) {
      var g = r * w[wb + c] * dy[row + c] - k * x[row + c];
      if (ACCUMULATE) {
        g += dx[row + c];
      }
      dx[row + c] = g;
    }
    return;
  }
  let q = lane - T;
  if (q >= (T / rows) * C) {
    return;
  }
  let b = q / C;
  let c = q % C;
  let t0 = b * rows; // the model's first row
  let out = b * p.stride + c;
  var acc = dw[out];
  var t = 0u;
  for (; t + 4u <= rows; t += 4u) {
    for (var i = 0u; i < 4u; i++) {
      let at = (t0 + t + i) * C + c;
      acc = fma(dy[at] * x[at], rstd[t0 + t + i], acc);
    }
  }
  for (; t < rows; t++) {
    let at = (t0 + t) * C + c;
    acc = fma(dy[at] * x[at], rstd[t0 + t], acc);
  }
  dw[out] = acc;
}
