// attention_backward_query_subgroups: attention_backward_query (same bindings,
// results and reference: attentionBackwardReference in src/model/ops/attention.ts)
// for devices with subgroups of ≥ 8 lanes and a head dimension that is a
// multiple of 32. As in attention_forward_subgroups, the workgroup's 8 lanes
// (8 consecutive queries of one head) share every key and value row: each
// lane loads one vec4 of every 8 and subgroupBroadcast hands it to the others.
// Registers and steps written out by hand appear here as `//! for` loops; kernels/mod.ts expands
// them to plain WGSL before compiling (src/gpu/wgsl_unroll.ts).

const G8: u32 = HEAD_DIM / 32u; // groups of 8 vec4s in a row

struct Params {
  T: u32,
  H: u32,
  Hkv: u32,
  past: u32,
  scale: f32,
  _pad0: u32,
  _pad1: u32,
  _pad2: u32,
}

@group(0) @binding(0) var<storage, read_write> dq: array<vec4<f32>>; // [T, H, D/4]
@group(0) @binding(1) var<storage, read_write> delta: array<f32>;    // [T, H]
@group(0) @binding(2) var<storage, read> dout: array<vec4<f32>>;     // [T, H, D/4]
@group(0) @binding(3) var<storage, read> out: array<vec4<f32>>;      // [T, H, D/4]
@group(0) @binding(4) var<storage, read> q: array<vec4<f32>>;        // [T, H, D/4]
@group(0) @binding(5) var<storage, read> k: array<vec4<f32>>;        // [past + T, Hkv, D/4]
@group(0) @binding(6) var<storage, read> v: array<vec4<f32>>;        // [past + T, Hkv, D/4]
@group(0) @binding(7) var<storage, read> lse: array<f32>;            // [T, H]
@group(0) @binding(8) var<storage, read> starts: array<i32>;         // [T] (HAS_STARTS)
@group(1) @binding(0) var<uniform> p: Params;

@compute @workgroup_size(8)
fn main(
  @builtin(workgroup_id) wid: vec3u,
  @builtin(num_workgroups) nwg: vec3u,
  @builtin(local_invocation_index) lid: u32,
  @builtin(subgroup_invocation_id) sl: u32,
) {
  let blocks = (p.T + 7u) / 8u;
  let index = wid.x + wid.y * nwg.x;
  let h = index / blocks;
  if (h >= p.H) {
    return; // the whole workgroup leaves together, before any subgroup operation
  }
  let t0 = (index % blocks) * 8u;
  let t = min(t0 + lid, p.T - 1u);
  let lane8 = sl & 7u;
  let kvh = h / (p.H / p.Hkv);
  let last = p.past + t;
  // This query's first key, and the workgroup's (where the shared key loop begins).
  let range = queryKeyRange(t, last, lid);
  let first = range.x;
  let begin = range.y;
  let end = p.past + min(t0 + 8u, p.T);
  var qr: array<vec4<f32>, D4>;
  var gr: array<vec4<f32>, D4>;
  var acc: array<vec4<f32>, D4>;
  let row = t * p.H + h;
  let qo = row * D4;
  var dv = vec4<f32>(0.0);
  for (var i = 0u; i < D4; i++) {
    qr[i] = q[qo + i] * p.scale;
    gr[i] = dout[qo + i];
    acc[i] = vec4<f32>(0.0);
    dv = fma(gr[i], out[qo + i], dv);
  }
  let dl = (dv.x + dv.y) + (dv.z + dv.w);
  let ls = lse[row];
  let kstride = p.Hkv * D4;
  var j = begin;
  for (; j < end; j++) {
    let ko = j * kstride + kvh * D4;
    var mk: array<vec4<f32>, G8>;
    var sv = vec4<f32>(0.0);
    var pv = vec4<f32>(0.0);
    for (var g = 0u; g < G8; g++) {
      mk[g] = k[ko + g * 8u + lane8];
      let mv = v[ko + g * 8u + lane8];
      let b = g * 8u;
      sv = fma(qr[b], subgroupBroadcast(mk[g], 0u), sv);
      //! for i in 1..8
      sv = fma(qr[b + {i}u], subgroupBroadcast(mk[g], {i}u), sv);
      //! end
      pv = fma(gr[b], subgroupBroadcast(mv, 0u), pv);
      //! for i in 1..8
      pv = fma(gr[b + {i}u], subgroupBroadcast(mv, {i}u), pv);
      //! end
    }
    let s = (sv.x + sv.y) + (sv.z + sv.w);
    let dp = (pv.x + pv.y) + (pv.z + pv.w);
    let valid = j >= first && j <= last;
    let ds = vec4<f32>(select(0.0, exp(s - ls) * (dp - dl), valid));
    for (var g = 0u; g < G8; g++) {
      let b = g * 8u;
      acc[b] = fma(ds, subgroupBroadcast(mk[g], 0u), acc[b]);
      //! for i in 1..8
      acc[b + {i}u] = fma(ds, subgroupBroadcast(mk[g], {i}u), acc[b + {i}u]);
      //! end
    }
  }
  if (t0 + lid >= p.T) {
    return;
  }
  var scale = p.scale;
  if (j != end) {
    scale = bitcast<f32>(0x7fc00000u | (p.T & 0u));
  }
  delta[row] = dl;
  for (var i = 0u; i < D4; i++) {
    dq[qo + i] = acc[i] * scale;
  }
}
