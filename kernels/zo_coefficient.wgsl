// zo_coefficient: the scalar side of one zeroth-order iteration, on the GPU so that a local step
// needs no readback (paper.md §6: FedKSeed's two-point step, FedZO's averaged estimate).
// TypeScript reference: zoCoefficientReference in src/fl/algorithms/_zo_step.ts.
//
// For direction j of iteration t, with the b₁ per-sample mean losses of each evaluation:
//   central: g_j = (mean_i L(w + εz_j) − mean_i L(w − εz_j)) / (2ε)
//   forward: g_j = (mean_i L(w + εz_j) − mean_i L(w)) / ε
// A direction is skipped (g_j := 0) when g_j is not finite, or when clip > 0 and |g_j| > clip
// (the step is dropped, as FedKSeed's optimiser does). Written:
//   coef[4 + j]  = −lr·g_j / b₂, plus the restore term of the last perturbation when `combine`
//                  (central: +ε after w − εz; forward: −ε after w + εz)
//   coef[4 + b₂] = 1 − lr·wd when some direction was taken, else 1 (weight-decay factor)
//   records[2(t·b₂ + j)] = g_j (0 when skipped), records[2(t·b₂ + j) + 1] = 1 if skipped.
// Evaluation slots of iteration t start at t·M (M evaluations, each a (mean, count) pair):
//   central: plus of direction j at (2j)·b₁ + i, minus at (2j + 1)·b₁ + i
//   forward: base at i, plus of direction j at (1 + j)·b₁ + i.
// One invocation: b₁·b₂ is small (FedKSeed and the cost tables use 1·1).

struct Params {
  step: u32,       // iteration t
  evals: u32,      // M: evaluations per iteration
  samples: u32,    // b₁
  directions: u32, // b₂
  forward: u32,    // 1: forward difference, 0: central
  combine: u32,    // 1: fold the restore of the last perturbation into its update coefficient
  coef_stride: u32,   // floats from one model's coefficients to the next's (several models)
  record_stride: u32, // floats from one model's records to the next's
  eps: f32,        // ε
  lr: f32,         // η
  clip: f32,       // |g| bound (≤ 0: none)
  decay: f32,      // η·wd
  loss_stride: u32,   // floats from one model's losses to the next's
  _pad0: u32,
  _pad1: u32,
  _pad2: u32,
}

@group(0) @binding(0) var<storage, read_write> coef: array<f32>;    // [4 + b₂ + 1]
@group(0) @binding(1) var<storage, read_write> records: array<f32>; // [2·steps·b₂]
@group(0) @binding(2) var<storage, read> losses: array<f32>;        // [2·steps·M] (mean, count)
@group(1) @binding(0) var<uniform> p: Params;

// Finite without relying on NaN comparisons (a compiler may assume there are none).
fn finite(x: f32) -> bool {
  return (bitcast<u32>(x) & 0x7f800000u) != 0x7f800000u;
}

fn mean_of(base: u32, first: u32) -> f32 {
  var sum = 0.0;
  for (var i = 0u; i < p.samples; i++) {
    sum += losses[base + 2u * (p.step * p.evals + first + i)];
  }
  return sum / f32(p.samples);
}

// Workgroup m steps model m (one workgroup: one model), whose coefficients, records and losses
// sit m strides past the first model's.
@compute @workgroup_size(1)
fn main(@builtin(workgroup_id) wid: vec3u) {
  let model = wid.x;
  let c0 = model * p.coef_stride;
  let r0 = model * p.record_stride;
  let l0 = model * p.loss_stride;
  let b1 = p.samples;
  var taken = false;
  for (var j = 0u; j < p.directions; j++) {
    var g: f32;
    if (p.forward == 1u) {
      g = (mean_of(l0, (1u + j) * b1) - mean_of(l0, 0u)) / p.eps;
    } else {
      g = (mean_of(l0, 2u * j * b1) - mean_of(l0, (2u * j + 1u) * b1)) / (2.0 * p.eps);
    }
    let ok = finite(g) && (p.clip <= 0.0 || abs(g) <= p.clip);
    let ge = select(0.0, g, ok);
    taken = taken || ok;
    let r = r0 + 2u * (p.step * p.directions + j);
    records[r] = ge;
    records[r + 1u] = select(1.0, 0.0, ok);
    coef[c0 + 4u + j] = -p.lr * ge / f32(p.directions);
  }
  if (p.combine == 1u) {
    let last = c0 + 4u + p.directions - 1u;
    coef[last] = coef[last] + select(p.eps, -p.eps, p.forward == 1u);
  }
  coef[c0 + 4u + p.directions] = select(1.0, 1.0 - p.decay, taken);
}
