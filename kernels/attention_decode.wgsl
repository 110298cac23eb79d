// attention_decode: one step of batched decoding for one layer, fused. Each
// of B sequences brings one new token (its q, k and v rows, before RoPE), at
// position pos_b = positions[b] + offset; a workgroup takes `seqs` sequences
// (its lanes' worth of heads) and, for each sequence b,
// 1. rotates k_b by RoPE and stores it and v_b at row pos_b of the
//    sequence's own cache region (skipped when pos_b ≥ P),
// 2. rotates each head of q_b and attends over keys 0 … min(pos_b, P − 1)
//    of that region:
//      out[b, h] = Σ_j softmax_j(scale · q[b, h]·k[b, j, h/G]) v[b, j, h/G].
// It does the work of two rope dispatches, a cache write and attention_forward
// in one dispatch per layer: a decoding step is mostly per-dispatch overhead.
// TypeScript reference: attentionDecodeReference in src/model/ops/decode.ts.
//
// RoPE is rope.wgsl's arithmetic (HF rotate_half, the (cos, sin) table) and
// the attention is attention_forward's for one query (fma over vec4s, the
// same pairwise lane sum, the same online softmax). A position outside the
// table gives NaN, as in rope.wgsl. HEAD_DIM is substituted per pipeline
// (src/gpu/specialize.ts).

override WG: u32 = 8;
const HEAD_DIM: u32 = 64u;
const D4: u32 = HEAD_DIM / 4u;
const HALF: u32 = HEAD_DIM / 2u;

struct Params {
  H: u32,      // query heads
  Hkv: u32,    // key/value heads (divides H)
  P: u32,      // positions per sequence's region (and rows of the RoPE table)
  offset: i32, // added to every position
  scale: f32,  // usually 1 / sqrt(HEAD_DIM)
  seqs: u32,   // sequences per workgroup
  _pad0: u32,
  _pad1: u32,
}

@group(0) @binding(0) var<storage, read_write> out: array<vec4<f32>>;     // [B, H, D/4]
@group(0) @binding(1) var<storage, read_write> cache_k: array<vec4<f32>>; // [B, P, Hkv, D/4]
@group(0) @binding(2) var<storage, read_write> cache_v: array<vec4<f32>>; // [B, P, Hkv, D/4]
@group(0) @binding(3) var<storage, read> q: array<f32>;                   // [B, H, D]
@group(0) @binding(4) var<storage, read> k: array<f32>;                   // [B, Hkv, D]
@group(0) @binding(5) var<storage, read> v: array<vec4<f32>>;             // [B, Hkv, D/4]
@group(0) @binding(6) var<storage, read> positions: array<i32>;           // [B]
@group(0) @binding(7) var<storage, read> table: array<vec2<f32>>;         // [P, D/2] (cos, sin)
@group(1) @binding(0) var<uniform> p: Params;

// Element d of the head at `base` of q (or k) after the rotation of table row `row`
// (rope.wgsl's arithmetic). WGSL passes no storage pointers, hence the two copies.
fn rotatedQ(base: u32, d: u32, row: u32) -> f32 {
  if (d < HALF) {
    let cs = table[row + d];
    return q[base + d] * cs.x - q[base + d + HALF] * cs.y;
  }
  let cs = table[row + d - HALF];
  return q[base + d] * cs.x + q[base + d - HALF] * cs.y;
}

fn rotatedK(base: u32, d: u32, row: u32) -> f32 {
  if (d < HALF) {
    let cs = table[row + d];
    return k[base + d] * cs.x - k[base + d + HALF] * cs.y;
  }
  let cs = table[row + d - HALF];
  return k[base + d] * cs.x + k[base + d - HALF] * cs.y;
}

@compute @workgroup_size(WG)
fn main(
  @builtin(workgroup_id) wid: vec3u,
  @builtin(num_workgroups) nwg: vec3u,
  @builtin(local_invocation_index) lid: u32,
) {
  // Sizes through arrayLength, which no compiler can fold: lavapipe would otherwise inline
  // uniform loop bounds and recompile the shader per dispatch (src/model/ops/_common.ts).
  let B = arrayLength(&positions);
  let P = min(p.P, arrayLength(&table) / HALF);
  let offset = i32(min(u32(p.offset), arrayLength(&table)));
  let seqs = min(p.seqs, B);
  let b0 = (wid.x + wid.y * nwg.x) * seqs;
  let ckv4 = p.Hkv * D4;
  // 1. Each sequence's new key (rotated) and value into its region, four elements per lane and pass.
  for (var i = lid; i < seqs * ckv4; i += WG) {
    let b = b0 + i / ckv4;
    let pos = positions[min(b, B - 1u)] + offset;
    if (b < B && pos >= 0 && u32(pos) < P) {
      let e = i % ckv4;
      let base = b * ckv4 * 4u + (e / D4) * HEAD_DIM;
      let d = (e % D4) * 4u;
      let row = u32(pos) * HALF;
      let at = (b * P + u32(pos)) * ckv4 + e;
      cache_k[at] = vec4<f32>(
        rotatedK(base, d, row),
        rotatedK(base, d + 1u, row),
        rotatedK(base, d + 2u, row),
        rotatedK(base, d + 3u, row),
      );
      cache_v[at] = v[b * ckv4 + e];
    }
  }
  storageBarrier();
  // 2. One lane per (sequence, head): its rotated query against the sequence's keys.
  for (var t = lid; t < seqs * p.H; t += WG) {
    let b = b0 + t / p.H;
    if (b >= B) {
      break;
    }
    let h = t % p.H;
    let kvh = h / (p.H / p.Hkv);
    let pos = positions[b] + offset;
    let inside = pos >= 0 && u32(pos) < P;
    let row = u32(clamp(pos, 0, i32(P) - 1)) * HALF;
    let qbase = (b * p.H + h) * HEAD_DIM;
    var qr: array<vec4<f32>, D4>;
    var acc: array<vec4<f32>, D4>;
    for (var i = 0u; i < D4; i++) {
      let d = i * 4u;
      qr[i] = vec4<f32>(
        rotatedQ(qbase, d, row),
        rotatedQ(qbase, d + 1u, row),
        rotatedQ(qbase, d + 2u, row),
        rotatedQ(qbase, d + 3u, row),
      ) * p.scale;
      acc[i] = vec4<f32>(0.0);
    }
    let region = b * P * ckv4 + kvh * D4;
    let last = u32(clamp(pos, 0, i32(P) - 1));
    var m = -3.0e38;
    var l = 0.0;
    var j = 0u;
    loop {
      let ko = region + j * ckv4;
      var sv = vec4<f32>(0.0);
      for (var i = 0u; i < D4; i++) {
        sv = fma(qr[i], cache_k[ko + i], sv);
      }
      let s = (sv.x + sv.y) + (sv.z + sv.w);
      if (s > m) {
        // Rescale what was summed under the old maximum.
        let c = exp(m - s);
        l *= c;
        for (var i = 0u; i < D4; i++) {
          acc[i] *= c;
        }
        m = s;
      }
      let e = exp(s - m);
      l += e;
      for (var i = 0u; i < D4; i++) {
        acc[i] = fma(vec4<f32>(e), cache_v[ko + i], acc[i]);
      }
      j++;
      continuing {
        break if j > last;
      }
    }
    // Outside the table (a sequence past its own budget): NaN, as rope.wgsl gives.
    var inv = 1.0 / l;
    if (!inside) {
      inv = bitcast<f32>(0x7fc00000u | (p.H & 0u));
    }
    for (var i = 0u; i < D4; i++) {
      out[(b * p.H + h) * D4 + i] = acc[i] * inv;
    }
  }
}
