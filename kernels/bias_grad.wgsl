// bias_grad: db[c] += Σ_t dy[t, c], the gradient of a bias added to every row, accumulated
// into the gradient like the weights' (over the micro-batches of a step). One lane sums one
// vec4 of columns over the T rows, in row order.
// TypeScript reference: biasGradReference in src/model/ops/bias.ts.

override WG: u32 = 64;

struct Params {
  T: u32,  // rows of dy
  c4: u32, // vec4s per row: C / 4
  _pad0: u32,
  _pad1: u32,
}

@group(0) @binding(0) var<storage, read_write> db: array<vec4<f32>>; // [C/4]
@group(0) @binding(1) var<storage, read> dy: array<vec4<f32>>;      // [T, C/4]
@group(1) @binding(0) var<uniform> p: Params;

@compute @workgroup_size(WG)
fn main(
  @builtin(workgroup_id) wid: vec3u,
  @builtin(num_workgroups) nwg: vec3u,
  @builtin(local_invocation_index) lid: u32,
) {
  let j = (wid.x + wid.y * nwg.x) * WG + lid;
  if (j >= p.c4) {
    return;
  }
  // The row count passes through arrayLength so no driver folds the uniform into the loop
  // (lavapipe would recompile the shader at every dispatch; see src/model/ops/_common.ts).
  let rows = min(p.T, arrayLength(&dy));
  var sum = vec4<f32>(0.0);
  for (var t = 0u; t < rows; t++) {
    sum += dy[t * p.c4 + j];
  }
  db[j] = db[j] + sum;
}
