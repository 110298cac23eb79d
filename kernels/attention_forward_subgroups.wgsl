// attention_forward_subgroups: attention_forward (same bindings, results and
// reference: attentionForwardReference in src/model/ops/attention.ts) for
// devices with subgroups of ≥ 8 lanes and a head dimension that is a
// multiple of 32.
// Why: CPU adapters run every storage load as a scalar loop over the SIMD
// lanes, so the portable kernel, where all 8 lanes of a SIMD group load the
// same key row, is bound by loads. Here the workgroup's 8 lanes (8
// consecutive queries of one head) each load one vec4 of every 8 of a key or
// value row and subgroupBroadcast hands it to the others: each float is
// loaded once per 8 queries. The 8 broadcasts of a group are spelled out
// (their lane must be a constant); loops over the D/32 groups have constant
// trip counts ≤ 4 and are unrolled, so rows stay in registers.
// Key ranges as in attention_forward: workgroup-uniform, masked per lane;
// a key loop cut short by llvmpipe's loop limit writes NaN.
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

@group(0) @binding(0) var<storage, read_write> out: array<vec4<f32>>; // [T, H, D/4]
@group(0) @binding(1) var<storage, read_write> lse: array<f32>;       // [T, H]
@group(0) @binding(2) var<storage, read> q: array<vec4<f32>>;         // [T, H, D/4]
@group(0) @binding(3) var<storage, read> k: array<vec4<f32>>;         // [past + T, Hkv, D/4]
@group(0) @binding(4) var<storage, read> v: array<vec4<f32>>;         // [past + T, Hkv, D/4]
@group(0) @binding(5) var<storage, read> starts: array<i32>;          // [T] (HAS_STARTS)
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
  var acc: array<vec4<f32>, D4>;
  let qo = (t * p.H + h) * D4;
  for (var i = 0u; i < D4; i++) {
    qr[i] = q[qo + i] * p.scale;
    acc[i] = vec4<f32>(0.0);
  }
  let kstride = p.Hkv * D4;
  var m = -3.0e38;
  var l = 0.0;
  var j = begin;
  for (; j < end; j++) {
    let ko = j * kstride + kvh * D4;
    var sv = vec4<f32>(0.0);
    for (var g = 0u; g < G8; g++) {
      let mine = k[ko + g * 8u + lane8];
      let b = g * 8u;
      sv = fma(qr[b], subgroupBroadcast(mine, 0u), sv);
      //! for i in 1..8
      sv = fma(qr[b + {i}u], subgroupBroadcast(mine, {i}u), sv);
      //! end
    }
    let valid = j >= first && j <= last;
    let s = select(-3.0e38, (sv.x + sv.y) + (sv.z + sv.w), valid);
    if (s > m) {
      let c = exp(m - s);
      l *= c;
      for (var i = 0u; i < D4; i++) {
        acc[i] *= c;
      }
      m = s;
    }
    let e = vec4<f32>(select(0.0, exp(s - m), valid));
    l += e.x;
    for (var g = 0u; g < G8; g++) {
      let mine = v[ko + g * 8u + lane8];
      let b = g * 8u;
      acc[b] = fma(e, subgroupBroadcast(mine, 0u), acc[b]);
      //! for i in 1..8
      acc[b + {i}u] = fma(e, subgroupBroadcast(mine, {i}u), acc[b + {i}u]);
      //! end
    }
  }
  if (t0 + lid >= p.T) {
    return;
  }
  var inv = 1.0 / l;
  if (j != end) {
    inv = bitcast<f32>(0x7fc00000u | (p.T & 0u));
  }
  for (var i = 0u; i < D4; i++) {
    out[qo + i] = acc[i] * inv;
  }
  lse[t * p.H + h] = m + log(l) + (inv - inv);
}
