// attention_backward_key: second half of the attention backward pass.
//   dv[j, g] = Σ_{h in group g} Σ_t P_tj dout[t, h]                 (written or added)
//   dk[j, g] = scale · Σ_{h in group g} Σ_t dS_tj q[t, h]           (written or added)
// over the queries t = t_begin … t_end − 1 that attend key j (j ≤ past + t and
// s_t ≤ j), with P, dS and delta as in attention_backward_query, which must
// run first. The wrapper splits long query ranges over several dispatches
// (ACCUMULATE after the first) to stay inside llvmpipe's loop limit.
// TypeScript reference: attentionBackwardReference in src/model/ops/attention.ts.
// A workgroup holds WG consecutive keys of one KV head and walks a
// workgroup-uniform range of queries, so its lanes read the same q, dout,
// lse and delta rows in step; vec4 rows in unrolled loops (HEAD_DIM
// substituted). attention_backward_key_subgroups is the faster variant.
// Sums run in a fixed order: no atomics, bit-reproducible.

override WG: u32 = 16;
override ACCUMULATE: bool = false;

struct Params {
  T: u32,
  H: u32,
  Hkv: u32,
  past: u32,
  scale: f32,
  t_begin: u32, // first query of this dispatch
  t_end: u32,   // one past its last query
  _pad: u32,
}

@group(0) @binding(0) var<storage, read_write> dk: array<vec4<f32>>; // [past + T, Hkv, D/4]
@group(0) @binding(1) var<storage, read_write> dv: array<vec4<f32>>; // [past + T, Hkv, D/4]
@group(0) @binding(2) var<storage, read> dout: array<vec4<f32>>;     // [T, H, D/4]
@group(0) @binding(3) var<storage, read> q: array<vec4<f32>>;        // [T, H, D/4]
@group(0) @binding(4) var<storage, read> k: array<vec4<f32>>;        // [past + T, Hkv, D/4]
@group(0) @binding(5) var<storage, read> v: array<vec4<f32>>;        // [past + T, Hkv, D/4]
@group(0) @binding(6) var<storage, read> lse: array<f32>;            // [T, H]
@group(0) @binding(7) var<storage, read> delta: array<f32>;          // [T, H]
@group(0) @binding(8) var<storage, read> starts: array<i32>;         // [T] (HAS_STARTS)
@group(1) @binding(0) var<uniform> p: Params;

@compute @workgroup_size(WG)
fn main(
  @builtin(workgroup_id) wid: vec3u,
  @builtin(num_workgroups) nwg: vec3u,
  @builtin(local_invocation_index) lid: u32,
) {
  let keys = p.past + p.T;
  let blocks = (keys + WG - 1u) / WG;
  let index = wid.x + wid.y * nwg.x;
  let kvh = index / blocks;
  if (kvh >= p.Hkv) {
    return;
  }
  let j0 = (index % blocks) * WG;
  let j = min(j0 + lid, keys - 1u);
  let group_size = p.H / p.Hkv;
  var kr: array<vec4<f32>, D4>;
  var vr: array<vec4<f32>, D4>;
  var dka: array<vec4<f32>, D4>;
  var dva: array<vec4<f32>, D4>;
  let ko = (j * p.Hkv + kvh) * D4;
  for (var i = 0u; i < D4; i++) {
    kr[i] = k[ko + i] * p.scale;
    vr[i] = v[ko + i];
    dka[i] = vec4<f32>(0.0);
    dva[i] = vec4<f32>(0.0);
  }
  // Queries t ≥ j0 − past can see a key of this workgroup (causality).
  var begin = p.t_begin;
  if (j0 > p.past) {
    begin = max(begin, j0 - p.past);
  }
  // Examples are contiguous (starts never decrease), so once a query's example starts after
  // the workgroup's last key no later query sees any of its keys: the loop stops there (a row
  // of several examples or models then costs each key its own example's queries only, and
  // another example's values never meet this one's, even NaN ones).
  let last_key = min(j0 + WG - 1u, keys - 1u);
  var stop = p.t_end;
  var t = begin;
  var steps = 0u;
  for (; t < p.t_end; t++) {
    var first = 0u;
    if (HAS_STARTS) {
      first = u32(clamp(starts[t], 0, i32(p.past + t)));
      if (first > last_key) {
        stop = t;
        break;
      }
    }
    let valid = j <= p.past + t && first <= j;
    for (var h = kvh * group_size; h < (kvh + 1u) * group_size; h++) {
      let row = t * p.H + h;
      let qo = row * D4;
      var qr: array<vec4<f32>, D4>;
      var gr: array<vec4<f32>, D4>;
      var sv = vec4<f32>(0.0);
      var pv = vec4<f32>(0.0);
      for (var i = 0u; i < D4; i++) {
        qr[i] = q[qo + i];
        gr[i] = dout[qo + i];
        sv = fma(qr[i], kr[i], sv);
        pv = fma(gr[i], vr[i], pv);
      }
      let s = (sv.x + sv.y) + (sv.z + sv.w);
      let dp = (pv.x + pv.y) + (pv.z + pv.w);
      let pr = select(0.0, exp(s - lse[row]), valid);
      let ds = pr * (dp - delta[row]);
      for (var i = 0u; i < D4; i++) {
        dva[i] = fma(vec4<f32>(pr), gr[i], dva[i]);
        dka[i] = fma(vec4<f32>(ds), qr[i], dka[i]);
      }
      steps++;
    }
  }
  if (j0 + lid >= keys) {
    return;
  }
  var scale = p.scale;
  let pairs = select(0u, (stop - begin) * group_size, stop > begin);
  if (t < stop || steps != pairs) {
    scale = bitcast<f32>(0x7fc00000u | (p.T & 0u));
  }
  for (var i = 0u; i < D4; i++) {
    var a = dka[i] * scale;
    var b = dva[i] + vec4<f32>(scale - scale);
    if (ACCUMULATE) {
      a += dk[ko + i];
      b += dv[ko + i];
    }
    dk[ko + i] = a;
    dv[ko + i] = b;
  }
}
