// crossentropy_backward: fused loss and gradient, in place on the logits:
//   loss[t]       = logsumexp(logits[t, :]) − logits[t, labels[t]]
//   logits[t, c] ← scale · (softmax(logits[t, :])_c − [c = labels[t]]) / count
// where count is the number of labels ≠ −100 (the loss is their mean); rows
// with label −100 get loss 0 and gradient 0. `scale` is dLoss/dmean (1 for
// plain training). A label outside [0, V) gives NaN in its row.
// With HAS_WEIGHTS the row's factor is scale · weights[t] instead of
// scale / count: a packed row of several sequences weights each token by
// 1 / (its own sequence's count), so the gradient is the sum of the
// sequences' mean-loss gradients (src/model/transformer.ts).
// TypeScript references: crossEntropyForwardReference / crossEntropyBackwardReference
// in src/model/ops/cross_entropy.ts.
// One lane per row, streaming it twice in blocks of 8 (online max and sum,
// then the gradient). Each workgroup counts the unmasked labels itself
// (lanes count slices, an integer workgroup atomic adds them: exact), which
// is cheaper than another dispatch. Loops run ≤ V/8 + T/WG iterations per
// invocation, inside llvmpipe's limit of 65535 (a loop cut short gives NaN).

override WG: u32 = 64;
override HAS_WEIGHTS: bool = false;

struct Params {
  T: u32,
  V: u32,
  scale: f32,
  _pad: u32,
}

@group(0) @binding(0) var<storage, read_write> losses: array<f32>; // [T]
@group(0) @binding(1) var<storage, read_write> logits: array<f32>; // [T, V] in: logits, out: dlogits
@group(0) @binding(2) var<storage, read> labels: array<i32>;       // [T]
@group(0) @binding(3) var<storage, read> weights: array<f32>;      // [T] (HAS_WEIGHTS)
@group(1) @binding(0) var<uniform> p: Params;

var<workgroup> unmasked: atomic<u32>;

@compute @workgroup_size(WG)
fn main(
  @builtin(workgroup_id) wid: vec3u,
  @builtin(num_workgroups) nwg: vec3u,
  @builtin(local_invocation_index) lid: u32,
) {
  if (lid == 0u) {
    atomicStore(&unmasked, 0u);
  }
  workgroupBarrier();
  let per = (p.T + WG - 1u) / WG;
  var mine = 0u;
  for (var i = lid * per; i < min(lid * per + per, p.T); i++) {
    mine += select(0u, 1u, labels[i] != -100);
  }
  atomicAdd(&unmasked, mine);
  workgroupBarrier();
  let count = atomicLoad(&unmasked);

  let t = (wid.x + wid.y * nwg.x) * WG + lid;
  if (t >= p.T) {
    return;
  }
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
    factor = p.scale * weights[t];
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
