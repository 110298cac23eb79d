// embedding_backward: dwte[ids[t], :] += dx[t, :] for t = 0 … T−1, in that order.
// TypeScript reference: embeddingBackwardReference in src/model/ops/embedding.ts.
// One lane per channel scans the tokens in order: lanes own disjoint columns,
// so there is no race and no float atomic, and the sum order is fixed — the
// result is bit-reproducible. Ids outside [0, V) are skipped (the forward
// pass already turned them into NaN rows).
// Many models per dispatch (src/model/ops/_common.ts, ModelRows): B·C lanes,
// lane b·C + c owning column c of model b's dwte (b · stride elements past
// the binding's start), scanning only model b's tokens b·rows … b·rows +
// rows − 1, in order and in blocks of 4 counted from the model's first token
// — exactly what this kernel does for that model alone (one model: rows = T,
// stride 0, as ever).

override WG: u32 = 64;

struct Params {
  T: u32,      // tokens of all models
  C: u32,      // channels
  V: u32,      // vocabulary rows of dwte
  rows: u32,   // tokens per model (≥ 1; T for one model)
  stride: u32, // elements from one model's dwte to the next model's (0 for one model)
  _pad0: u32,
  _pad1: u32,
  _pad2: u32,
}

@group(0) @binding(0) var<storage, read_write> dwte: array<f32>; // [V, C] per model, accumulated
@group(0) @binding(1) var<storage, read> ids: array<i32>;        // [T]
@group(0) @binding(2) var<storage, read> dx: array<f32>;         // [T, C]
@group(1) @binding(0) var<uniform> p: Params;

@compute @workgroup_size(WG)
fn main(
  @builtin(workgroup_id) wid: vec3u,
  @builtin(num_workgroups) nwg: vec3u,
  @builtin(local_invocation_index) lid: u32,
) {
  let lane = (wid.x + wid.y * nwg.x) * WG + lid;
  // Blocks of 4 tokens keep the loop count at rows/4 (llvmpipe ends loops after
  // 65535 iterations per invocation; constant 4-trip loops are unrolled).
  // Also bounded by arrayLength, so no driver folds the uniform into the loops (lavapipe would
  // then recompile the shader at every dispatch; see src/model/ops/_common.ts).
  let T = min(p.T, arrayLength(&ids));
  let rows = max(min(p.rows, T), 1u);
  if (lane >= (T / rows) * p.C) {
    return;
  }
  let b = lane / p.C;
  let c = lane % p.C;
  let t0 = b * rows; // the model's first token
  let base = b * p.stride + c; // column c of the model's dwte
  var t = 0u;
  for (; t + 4u <= rows; t += 4u) {
    for (var i = 0u; i < 4u; i++) {
      let id = ids[t0 + t + i];
      if (id >= 0 && u32(id) < p.V) {
        let at = base + u32(id) * p.C;
        dwte[at] = dwte[at] + dx[(t0 + t + i) * p.C + c];
      }
    }
  }
  for (; t < rows; t++) {
    let id = ids[t0 + t];
    if (id >= 0 && u32(id) < p.V) {
      let at = base + u32(id) * p.C;
      dwte[at] = dwte[at] + dx[(t0 + t) * p.C + c];
    }
  }
}
