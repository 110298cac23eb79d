// attention_backward_query: first half of the attention backward pass.
//   delta[t, h] = dout[t, h] · out[t, h]
//   P_tj = exp(scale · q_t·k_j − lse[t, h]),  dS_tj = P_tj · (dout_t·v_j − delta[t, h])
//   dq[t, h] = scale · Σ_j dS_tj k_j        (written)
// over the same keys as attention_forward. delta is written for
// attention_backward_key, which must run after this kernel.
// TypeScript reference: attentionBackwardReference in src/model/ops/attention.ts.
// Same layout as attention_forward: WG consecutive queries of one head per
// workgroup walking a workgroup-uniform key range, vec4 rows in unrolled
// loops (HEAD_DIM substituted), NaN when llvmpipe's loop limit cut the key
// loop. attention_backward_query_subgroups is the faster variant.

override WG: u32 = 16;

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

@compute @workgroup_size(WG)
fn main(
  @builtin(workgroup_id) wid: vec3u,
  @builtin(num_workgroups) nwg: vec3u,
  @builtin(local_invocation_index) lid: u32,
) {
  let blocks = (p.T + WG - 1u) / WG;
  let index = wid.x + wid.y * nwg.x;
  let h = index / blocks;
  if (h >= p.H) {
    return;
  }
  let t0 = (index % blocks) * WG;
  let t = min(t0 + lid, p.T - 1u);
  let kvh = h / (p.H / p.Hkv);
  let last = p.past + t;
  // This query's first key, and the workgroup's (where the shared key loop begins).
  let range = queryKeyRange(t, last, lid);
  let first = range.x;
  let begin = range.y;
  let end = p.past + min(t0 + WG, p.T);
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
    var kr: array<vec4<f32>, D4>;
    var sv = vec4<f32>(0.0);
    var pv = vec4<f32>(0.0);
    for (var i = 0u; i < D4; i++) {
      kr[i] = k[ko + i];
      sv = fma(qr[i], kr[i], sv);
      pv = fma(gr[i], v[ko + i], pv);
    }
    let s = (sv.x + sv.y) + (sv.z + sv.w);
    let dp = (pv.x + pv.y) + (pv.z + pv.w);
    let valid = j >= first && j <= last;
    let ds = select(0.0, exp(s - ls) * (dp - dl), valid);
    for (var i = 0u; i < D4; i++) {
      acc[i] = fma(vec4<f32>(ds), kr[i], acc[i]);
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
