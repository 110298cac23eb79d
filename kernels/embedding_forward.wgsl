// embedding_forward: x[t, :] = wte[ids[t], :] (token embedding lookup).
// TypeScript reference: embeddingForwardReference in src/model/ops/embedding.ts.
// One lane per (token, block of BLOCK channels): contiguous copies per lane.
// An id outside [0, V) yields a NaN row, so a bad id cannot pass unnoticed.
// Many models per dispatch (src/model/ops/_common.ts, ModelRows): token t
// belongs to model t / rows and looks up that model's table, which sits
// model · stride elements past the start of wte. One model: rows = T,
// stride 0 (model 0 for every token, as ever).

override WG: u32 = 64;
const BLOCK: u32 = 16u;

struct Params {
  T: u32,      // tokens
  C: u32,      // channels
  V: u32,      // vocabulary rows of wte
  blocks: u32, // ceil(C / BLOCK)
  rows: u32,   // tokens per model (≥ 1; T for one model)
  stride: u32, // elements from one model's wte to the next model's (0 for one model)
  _pad0: u32,
  _pad1: u32,
}

@group(0) @binding(0) var<storage, read_write> x: array<f32>; // [T, C] output
@group(0) @binding(1) var<storage, read> ids: array<i32>;     // [T]
@group(0) @binding(2) var<storage, read> wte: array<f32>;     // [V, C] per model, stride apart
@group(1) @binding(0) var<uniform> p: Params;

@compute @workgroup_size(WG)
fn main(
  @builtin(workgroup_id) wid: vec3u,
  @builtin(num_workgroups) nwg: vec3u,
  @builtin(local_invocation_index) lid: u32,
) {
  let lane = (wid.x + wid.y * nwg.x) * WG + lid;
  if (lane >= p.T * p.blocks) {
    return;
  }
  let t = lane / p.blocks;
  let c0 = (lane % p.blocks) * BLOCK;
  let c1 = min(c0 + BLOCK, p.C);
  let id = ids[t];
  let out = t * p.C;
  if (id < 0 || u32(id) >= p.V) {
    // A runtime NaN (a constant one would be folded and rejected by the compiler).
    let nan = bitcast<f32>(0x7fc00000u | (p.T & 0u));
    for (var c = c0; c < c1; c++) {
      x[out + c] = nan;
    }
    return;
  }
  let row = (t / p.rows) * p.stride + u32(id) * p.C; // in this token's model's table
  for (var c = c0; c < c1; c++) {
    x[out + c] = wte[row + c];
  }
}
