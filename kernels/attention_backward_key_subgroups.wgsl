// attention_backward_key_subgroups: attention_backward_key (same bindings,
// results and reference: attentionBackwardReference in src/model/ops/attention.ts)
// for devices with subgroups of ≥ 8 lanes and a head dimension that is a
// multiple of 32. The workgroup's 8 lanes (8 consecutive keys of one KV head)
// share every query and output-gradient row: each lane loads one vec4 of
// every 8 and subgroupBroadcast hands it to the others. Query ranges per
// dispatch, ACCUMULATE and the NaN on a cut loop as in attention_backward_key.
// Registers and steps written out by hand appear here as `//! for` loops; kernels/mod.ts expands
// them to plain WGSL before compiling (src/gpu/wgsl_unroll.ts).

override ACCUMULATE: bool = false;
const G8: u32 = HEAD_DIM / 32u; // groups of 8 vec4s in a row

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

@compute @workgroup_size(8)
fn main(
  @builtin(workgroup_id) wid: vec3u,
  @builtin(num_workgroups) nwg: vec3u,
  @builtin(local_invocation_index) lid: u32,
  @builtin(subgroup_invocation_id) sl: u32,
) {
  let keys = p.past + p.T;
  let blocks = (keys + 7u) / 8u;
  let index = wid.x + wid.y * nwg.x;
  let kvh = index / blocks;
  if (kvh >= p.Hkv) {
    return; // the whole workgroup leaves together, before any subgroup operation
  }
  let j0 = (index % blocks) * 8u;
  let j = min(j0 + lid, keys - 1u);
  let lane8 = sl & 7u;
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
  var begin = p.t_begin;
  if (j0 > p.past) {
    begin = max(begin, j0 - p.past);
  }
  // Examples are contiguous (starts never decrease), so once a query's example starts after
  // the workgroup's last key no later query sees any of its keys: the loop stops there (a row
  // of several examples or models then costs each key its own example's queries only, and
  // another example's values never meet this one's, even NaN ones).
  let last_key = min(j0 + 8u - 1u, keys - 1u);
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
      var mq: array<vec4<f32>, G8>;
      var mg: array<vec4<f32>, G8>;
      var sv = vec4<f32>(0.0);
      var pv = vec4<f32>(0.0);
      for (var g = 0u; g < G8; g++) {
        mq[g] = q[qo + g * 8u + lane8];
        mg[g] = dout[qo + g * 8u + lane8];
        let b = g * 8u;
        sv = fma(subgroupBroadcast(mq[g], 0u), kr[b], sv);
        //! for i in 1..8
        sv = fma(subgroupBroadcast(mq[g], {i}u), kr[b + {i}u], sv);
        //! end
        pv = fma(subgroupBroadcast(mg[g], 0u), vr[b], pv);
        //! for i in 1..8
        pv = fma(subgroupBroadcast(mg[g], {i}u), vr[b + {i}u], pv);
        //! end
      }
      let s = (sv.x + sv.y) + (sv.z + sv.w);
      let dp = (pv.x + pv.y) + (pv.z + pv.w);
      let pr = select(0.0, exp(s - lse[row]), valid);
      let ds = vec4<f32>(pr * (dp - delta[row]));
      let pv4 = vec4<f32>(pr);
      for (var g = 0u; g < G8; g++) {
        let b = g * 8u;
        dva[b] = fma(pv4, subgroupBroadcast(mg[g], 0u), dva[b]);
        //! for i in 1..8
        dva[b + {i}u] = fma(pv4, subgroupBroadcast(mg[g], {i}u), dva[b + {i}u]);
        //! end
        dka[b] = fma(ds, subgroupBroadcast(mq[g], 0u), dka[b]);
        //! for i in 1..8
        dka[b + {i}u] = fma(ds, subgroupBroadcast(mq[g], {i}u), dka[b + {i}u]);
        //! end
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
