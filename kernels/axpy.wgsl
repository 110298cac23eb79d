// axpy: y ← y + a·x over one chunk of two equally chunked vectors.
// TypeScript reference: axpyReference in src/gpu/axpy.ts.
// Each lane owns a contiguous range of vec4s (sequential streams run fastest
// on CPU adapters); buffers are zero padded to 16 bytes, so the padding stays 0.

override WG: u32 = 64;

struct Params {
  n4: u32,       // vec4s in this chunk: ceil(length / 4)
  per_lane: u32, // vec4s per invocation
  a: f32,        // the scalar
  _pad: u32,
}

@group(0) @binding(0) var<storage, read_write> y: array<vec4<f32>>; // [n4] in/out
@group(0) @binding(1) var<storage, read> x: array<vec4<f32>>;       // [n4]
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
  let a = vec4<f32>(p.a);
  for (var i = begin; i < end; i++) {
    y[i] = fma(a, x[i], y[i]);
  }
}
