// crossentropy_mean: result = (Σ_t loss[t] over labels ≠ −100) / count, count,
// or (0, 0) when every label is masked, over tokens first … first + T − 1
// (one sequence of a packed row).
// TypeScript reference: crossEntropyMeanReference in src/model/ops/cross_entropy.ts.
// A single lane sums in token order: T is at most a few thousand, far below
// the cost of a launch, and the fixed order makes the mean bit-reproducible.
// Several models (src/model/model_batch.ts): workgroup m takes model m's tokens
// m·rows + first … and writes its pair at result[result_first + m·result_stride], summing as
// a lone model's call does.

struct Params {
  T: u32,
  first: u32,
  rows: u32,          // tokens from one model's first token to the next's
  result_stride: u32, // floats from one model's (mean, count) to the next's
  result_first: u32,  // float of the first model's (mean, count)
  _pad0: u32,
  _pad1: u32,
  _pad2: u32,
}

@group(0) @binding(0) var<storage, read_write> result: array<f32>; // [2] (mean, count)
@group(0) @binding(1) var<storage, read> losses: array<f32>;       // [T]
@group(0) @binding(2) var<storage, read> labels: array<i32>;       // [T]
@group(1) @binding(0) var<uniform> p: Params;

@compute @workgroup_size(1)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let model = wid.x + wid.y * nwg.x;
  var sum = 0.0;
  var count = 0u;
  // Blocks of 4 keep the loop count at T/4 (llvmpipe ends loops after 65535
  // iterations per invocation; constant 4-trip loops are unrolled).
  // Also bounded by arrayLength, so no driver folds the uniform into the loops (lavapipe would
  // then recompile the shader at every dispatch; see src/model/ops/_common.ts).
  let first = min(model * p.rows + p.first, arrayLength(&labels));
  let T = first + min(p.T, arrayLength(&labels) - first);
  var t = first;
  for (; t + 4u <= T; t += 4u) {
    for (var i = 0u; i < 4u; i++) {
      if (labels[t + i] != -100) {
        sum += losses[t + i];
        count++;
      }
    }
  }
  for (; t < T; t++) {
    if (labels[t] != -100) {
      sum += losses[t];
      count++;
    }
  }
  let at = p.result_first + model * p.result_stride;
  result[at] = select(0.0, sum / f32(count), count > 0u);
  result[at + 1u] = f32(count);
}
