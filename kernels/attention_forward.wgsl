// attention_forward: causal multi-head attention with grouped KV heads.
//   out[t, h] = Σ_j softmax_j(scale · q[t, h]·k[j, h/G]) v[j, h/G],   G = H / Hkv,
// over keys j = s_t … past + t, where s_t = clamp(starts[t], 0, past + t) with
// HAS_STARTS (packed sequences: the first key of the token's example) and 0
// without. Keys 0 … past − 1 are a KV cache, keys past … past + T − 1 belong
// to the T queries. Saves lse[t, h] = log Σ_j exp(scale · q·k_j) for the
// backward pass.
// TypeScript reference: attentionForwardReference in src/model/ops/attention.ts.
//
// Portable layout (attention_forward_subgroups is the faster variant for
// devices with subgroups and D a multiple of 32):
// - A workgroup holds WG consecutive queries of one head, and every lane
//   walks the same keys (the workgroup's union, masked per lane), so lanes
//   read the same k and v rows in step (one cache line serves them all).
// - Rows are vec4s and the loops over a row have a constant trip count
//   D4 = HEAD_DIM / 4 ≤ 32, which the shader compiler unrolls, so the query
//   and the output row live in registers. HEAD_DIM is substituted per
//   pipeline (WGSL sizes function arrays only by constants).
// - llvmpipe stops any loop after 65535 iterations per invocation in total;
//   a key loop cut short that way writes NaN instead of a wrong result.

override WG: u32 = 16;

struct Params {
  T: u32,     // queries
  H: u32,     // query heads
  Hkv: u32,   // key/value heads (divides H)
  past: u32,  // cached keys before the first query
  scale: f32, // usually 1 / sqrt(HEAD_DIM)
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
    for (var i = 0u; i < D4; i++) {
      sv = fma(qr[i], k[ko + i], sv);
    }
    let valid = j >= first && j <= last;
    let s = select(-3.0e38, (sv.x + sv.y) + (sv.z + sv.w), valid);
    if (s > m) {
      // Rescale what was summed under the old maximum.
      let c = exp(m - s);
      l *= c;
      for (var i = 0u; i < D4; i++) {
        acc[i] *= c;
      }
      m = s;
    }
    let e = select(0.0, exp(s - m), valid);
    l += e;
    for (var i = 0u; i < D4; i++) {
      acc[i] = fma(vec4<f32>(e), v[ko + i], acc[i]);
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
