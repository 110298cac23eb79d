// crossentropy_backward: fused loss and gradient, in place on the logits:
//   loss[t]       = logsumexp(logits[t, :]) − logits[t, labels[t]]
//   logits[t, c] ← scale · (softmax(logits[t, :])_c − [c = labels[t]]) / count
// where count is the number of labels ≠ −100 (the loss is their mean); rows
// with label −100 get loss 0 and gradient 0. `scale` is dLoss/dmean (1 for
// plain training). A label outside [0, V) gives NaN in its row.
// With HAS_WEIGHTS the row's factor is scale · weights[t] instead of
// scale / count: a packed row of several sequences weights each token by
// 1 / (its own sequence's count), so the gradient is the sum of the
// sequences' mean-loss gradients (src/model/transformer.ts). A negative
// weight keeps scale / count for its row (its model is one plain sequence).
// Many models per dispatch (src/model/ops/_common.ts, ModelRows): row t
// belongs to model t / rows, and its count is that model's unmasked labels
// only (each model's gradient is that of its own mean loss, as in a call of
// its own). One model: rows = T, the count over all rows, as ever.
// TypeScript references: crossEntropyForwardReference / crossEntropyBackwardReference
// in src/model/ops/cross_entropy.ts.
// One lane per row, streaming it twice in blocks of 8 (online max and sum,
// then the gradient). Each workgroup counts the unmasked labels of the
// models its rows belong to itself (lanes count slices of those models'
// rows, integer workgroup atomics add them per model: exact), which is
// cheaper than another dispatch. Loops run ≤ V/8 + (WG + 2·rows)/WG
// iterations per invocation, inside llvmpipe's limit of 65535 (a loop cut
// short gives NaN).

override WG: u32 = 64;
override HAS_WEIGHTS: bool = false;

struct Params {
  T: u32,     // rows of all models
  V: u32,     // vocabulary (logits per row)
  scale: f32, // dLoss/dmean
  rows: u32,  // rows per model (≥ 1; T for one model)
}

@group(0) @binding(0) var<storage, read_write> losses: array<f32>; // [T]
@group(0) @binding(1) var<storage, read_write> logits: array<f32>; // [T, V] in: logits, out: dlogits
@group(0) @binding(2) var<storage, read> labels: array<i32>;       // [T]
@group(0) @binding(3) var<storage, read> weights: array<f32>;      // [T] (HAS_WEIGHTS)
@group(1) @binding(0) var<uniform> p: Params;

// Unmasked labels per model, slot k for the workgroup's k-th model: its WG rows belong to at most
// WG models.
var<workgroup> unmasked: array<atomic<u32>, WG>;

@compute @workgroup_size(WG)
fn main(
  @builtin(workgroup_id) wid: vec3u,
  @builtin(num_workgroups) nwg: vec3u,
  @builtin(local_invocation_index) lid: u32,
) {
  // Sizes are also bounded by arrayLength, so no driver folds the uniforms into the loops (lavapipe
  // would then recompile the shader at every dispatch; see src/model/ops/_common.ts).
  let T = min(p.T, arrayLength(&labels));
  let rows = max(min(p.rows, T), 1u);
  let first = (wid.x + wid.y * nwg.x) * WG;
  atomicStore(&unmasked[lid], 0u);
  workgroupBarrier();
  // This workgroup's rows g0 … g1 − 1 belong to models m0 …, whose rows are s0 … s1 − 1; the
  // lanes count slices of those, flushing a lane's count at each model boundary it crosses.
  let g0 = min(first, T);
  let g1 = min(first + WG, T);
  let m0 = g0 / rows;
  let s0 = m0 * rows;
  let s1 = select(s0, ((g1 - 1u) / rows + 1u) * rows, g1 > g0);
  let per = (s1 - s0 + WG - 1u) / WG;
  let i0 = s0 + lid * per;
  var slot = i0 / rows - m0;
  var boundary = (i0 / rows + 1u) * rows;
  var mine = 0u;
  for (var i = i0; i < min(i0 + per, s1); i++) {
    if (i == boundary) {
      if (mine > 0u) {
        atomicAdd(&unmasked[slot], mine);
      }
      mine = 0u;
      slot++;
      boundary += rows;
    }
    mine += select(0u, 1u, labels[i] != -100);
  }
  if (mine > 0u) {
    atomicAdd(&unmasked[slot], mine);
  }
  workgroupBarrier();

  let t = first + lid;
  if (t >= T) {
    return;
  }
  let count = atomicLoad(&unmasked[t / rows - m0]);
  // Also bounded by arrayLength, so no driver folds the uniform into the loops (lavapipe would
  // then recompile the shader at every dispatch; see src/model/ops/_common.ts).
  let V = min(p.V, arrayLength(&logits));
  let row = t * V;
  let label = labels[t];
  let nan = bitcast<f32>(0x7fc00000u | (p.T & 0u));
  if (label == -100 || label < 0 || u32(label) >= V) {
    // Masked: loss and gradient 0. Invalid label: NaN in the whole row.
    let fill = select(nan, 0.0, label == -100);
    losses[t] = fill;
    var c = 0u;
    for (; c + 8u <= V; c += 8u) {
      for (var i = 0u; i < 8u; i++) {
        logits[row + c + i] = fill;
      }
    }
    for (; c < V; c++) {
      logits[row + c] = fill;
    }
    return;
  }
  var m = -3.0e38;
  var s = 0.0;
  var c = 0u;
  for (; c + 8u <= V; c += 8u) {
    var z: array<f32, 8>;
    var top = -3.0e38;
    for (var i = 0u; i < 8u; i++) {
      z[i] = logits[row + c + i];
      top = max(top, z[i]);
    }
    if (top > m) {
      s *= exp(m - top);
      m = top;
    }
    for (var i = 0u; i < 8u; i++) {
      s += exp(z[i] - m);
    }
  }
  var complete = c == V - V % 8u;
  for (; c < V; c++) {
    let z = logits[row + c];
    if (z > m) {
      s *= exp(m - z);
      m = z;
    }
    s += exp(z - m);
  }
  complete = complete && c == V;
  let hit = u32(label);
  losses[t] = m + log(s) - logits[row + hit];
  var factor = p.scale / f32(count);
  if (HAS_WEIGHTS) {
    // A negative weight: the row's model is unweighted (scale / count).
    let weight = weights[t];
    factor = select(p.scale * weight, factor, weight < 0.0);
  }
  let k = select(nan, factor, complete);
  let inv = 1.0 / s;
  c = 0u;
  for (; c + 8u <= V; c += 8u) {
    for (var i = 0u; i < 8u; i++) {
      logits[row + c + i] = exp(logits[row + c + i] - m) * inv * k;
    }
  }
  for (; c < V; c++) {
    logits[row + c] = exp(logits[row + c] - m) * inv * k;
  }
  // The one-hot term.
  logits[row + hit] -= k;
  losses[t] = select(nan, losses[t], complete);
}
