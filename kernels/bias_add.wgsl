// bias_add: y[t, c] += b[c] for T rows of C values, in place: the q/k/v projection biases
// (Qwen2). C is a multiple of 4, so a row is whole vec4s.
// TypeScript reference: biasAddReference in src/model/ops/bias.ts.

override WG: u32 = 64;

struct Params {
  n4: u32,       // vec4s of y: T · C / 4
  c4: u32,       // vec4s per row: C / 4
  per_lane: u32, // vec4s per invocation
  _pad: u32,
}

@group(0) @binding(0) var<storage, read_write> y: array<vec4<f32>>; // [T, C/4]
@group(0) @binding(1) var<storage, read> b: array<vec4<f32>>;       // [C/4]
@group(1) @binding(0) var<uniform> p: Params;

@compute @workgroup_size(WG)
fn main(
  @builtin(workgroup_id) wid: vec3u,
  @builtin(num_workgroups) nwg: vec3u,
  @builtin(local_invocation_index) lid: u32,
) {
  let lane = (wid.x + wid.y * nwg.x) * WG + lid;
  let begin = lane * p.per_lane;
  let end = min(begin + p.per_lane, p.n4);
  for (var i = begin; i < end; i++) {
    y[i] = y[i] + b[i % p.c4];
  }
}
