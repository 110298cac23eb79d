// kv_scatter: rows of keys and values into chosen rows of a KV cache,
//   cache_k[rows[r]] = k[r],  cache_v[rows[r]] = v[r]   (rows of Ckv values),
// for r < R = arrayLength(&rows). Batched generation (src/model/generate.ts)
// moves every prompt's keys and values from a packed pass to its own cache
// region with one dispatch per layer instead of two copies per prompt.
// TypeScript reference: kvScatterReference in src/model/ops/decode.ts.

override WG: u32 = 64;

struct Params {
  ckv4: u32, // Ckv / 4
  _pad0: u32,
  _pad1: u32,
  _pad2: u32,
}

@group(0) @binding(0) var<storage, read_write> cache_k: array<vec4<f32>>; // [cache rows, Ckv/4]
@group(0) @binding(1) var<storage, read_write> cache_v: array<vec4<f32>>; // [cache rows, Ckv/4]
@group(0) @binding(2) var<storage, read> k: array<vec4<f32>>;             // [R, Ckv/4]
@group(0) @binding(3) var<storage, read> v: array<vec4<f32>>;             // [R, Ckv/4]
@group(0) @binding(4) var<storage, read> rows: array<u32>;                // [R]
@group(1) @binding(0) var<uniform> p: Params;

@compute @workgroup_size(WG)
fn main(
  @builtin(workgroup_id) wid: vec3u,
  @builtin(num_workgroups) nwg: vec3u,
  @builtin(local_invocation_index) lid: u32,
) {
  let lane = (wid.x + wid.y * nwg.x) * WG + lid;
  if (lane >= arrayLength(&rows) * p.ckv4) {
    return;
  }
  let r = lane / p.ckv4;
  let at = rows[r] * p.ckv4 + lane % p.ckv4;
  cache_k[at] = k[lane];
  cache_v[at] = v[lane];
}
