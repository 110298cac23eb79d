// matmul_common: what every matmul kernel shares — per-call sizes, the three bindings and the
// rank-4 update and clipped store helpers. One dispatch may compute the products of several
// models at once (src/model/model_batch.ts): each model's A, B and OUT sit a fixed number of
// values after the previous model's, and the workgroups are the models' tiles one model after
// another; a model's tile is computed exactly as a lone product's. kernels/mod.ts prepends it to each matmul kernel
// (WGSL has no includes); each kernel's own header gives its form's shapes.

struct Params {
  rows: u32,       // rows of OUT
  cols: u32,       // columns of OUT
  depth: u32,      // length of the reduction
  a_stride4: u32,  // vec4s per row of A
  b_stride4: u32,  // vec4s per row of B
  col_tiles: u32,  // workgroups across OUT's columns
  tiles: u32,      // workgroups in all (the grid may hold a few more)
  alpha: f32,      // scale of the product
  accumulate: u32, // 1: OUT += alpha·product, 0: OUT = alpha·product
  model_tiles: u32, // workgroups per model: workgroup w computes tile w % model_tiles of model w / model_tiles
  a_model4: u32,    // vec4s from one model's A to the next's
  b_model4: u32,    // vec4s from one model's B to the next's (0: one B shared by every model)
  out_model: u32,   // floats from one model's OUT to the next's
  _pad0: u32,
  _pad1: u32,
  _pad2: u32,
}
@group(1) @binding(0) var<uniform> p: Params;
@group(0) @binding(0) var<storage, read_write> out: array<f32>;   // OUT [rows, cols] (read too when accumulating)
@group(0) @binding(1) var<storage, read> a: array<vec4<f32>>;     // A: rows of a_stride4 vec4s (X for xwt, dY for dyw and dytx)
@group(0) @binding(2) var<storage, read> b: array<vec4<f32>>;     // B: rows of b_stride4 vec4s (W for xwt and dyw, X for dytx)

// acc + Σ_s b[s]·t_s: four rank-1 steps of the reduction, fused.
fn rank4(acc: vec4<f32>, b: vec4<f32>, t0: vec4<f32>, t1: vec4<f32>, t2: vec4<f32>, t3: vec4<f32>) -> vec4<f32> {
  let a = fma(vec4<f32>(b.x), t0, acc);
  return fma(vec4<f32>(b.w), t3, fma(vec4<f32>(b.z), t2, fma(vec4<f32>(b.y), t1, a)));
}

// OUT[i, j..j+3] = alpha·v (+ OUT when accumulating) of the model whose OUT starts at `base`,
// clipped to the output's bounds.
fn store4(base: u32, i: u32, j: u32, v: vec4<f32>) {
  if (i >= p.rows || j >= p.cols) {
    return;
  }
  let o = base + i * p.cols + j;
  let n = min(p.cols - j, 4u);
  var old = vec4<f32>(0.0);
  if (min(p.accumulate, arrayLength(&out)) != 0u) { // arrayLength: see main
    old.x = out[o];
    if (n > 1u) { old.y = out[o + 1u]; }
    if (n > 2u) { old.z = out[o + 2u]; }
    if (n > 3u) { old.w = out[o + 3u]; }
  }
  let r = fma(vec4<f32>(p.alpha), v, old);
  out[o] = r.x;
  if (n > 1u) { out[o + 1u] = r.y; }
  if (n > 2u) { out[o + 2u] = r.z; }
  if (n > 3u) { out[o + 3u] = r.w; }
}
