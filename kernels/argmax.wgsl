// argmax: greedy choices of several logits rows at once. Workgroup g takes
// the pair picks[g] = (logits row, sequence column), finds the row's largest
// logit and writes its id to generated[step·width + column] (the sequences'
// tokens, step-major) and to next[column] (where the next decoding pass reads
// its input). Batched generation (src/model/generate.ts) picks every
// sequence's token in one dispatch, so generation runs on the GPU without a
// readback per token.
// TypeScript reference: argmaxReference in src/model/generate.ts (ties → lowest id).

override WG: u32 = 64;

struct Params {
  vocab: u32, // V
  width: u32, // columns of `generated` (sequences generated together)
  step: u32,  // row of `generated`
  _pad: u32,
}

@group(0) @binding(0) var<storage, read_write> generated: array<i32>; // [steps, width]
@group(0) @binding(1) var<storage, read_write> next: array<i32>;      // [width]
@group(0) @binding(2) var<storage, read> logits: array<f32>;          // [rows, V]
@group(0) @binding(3) var<storage, read> picks: array<vec2<u32>>;     // [workgroups]
@group(1) @binding(0) var<uniform> p: Params;

var<workgroup> best_value: array<f32, WG>;
var<workgroup> best_index: array<u32, WG>;

@compute @workgroup_size(WG)
fn main(
  @builtin(workgroup_id) wid: vec3u,
  @builtin(num_workgroups) nwg: vec3u,
  @builtin(local_invocation_index) lane: u32,
) {
  let g = wid.x + wid.y * nwg.x;
  if (g >= arrayLength(&picks)) {
    return; // whole workgroups only: the barriers below see all lanes or none
  }
  let pick = picks[g];
  let base = pick.x * p.vocab;
  var value = -3.4028235e38;
  var index = 0u;
  for (var c = lane; c < p.vocab; c += WG) {
    let x = logits[base + c];
    if (x > value) { value = x; index = c; }
  }
  best_value[lane] = value;
  best_index[lane] = index;
  workgroupBarrier();
  for (var stride = WG / 2u; stride > 0u; stride /= 2u) {
    if (lane < stride) {
      let v = best_value[lane + stride];
      let i = best_index[lane + stride];
      if (v > best_value[lane] || (v == best_value[lane] && i < best_index[lane])) {
        best_value[lane] = v;
        best_index[lane] = i;
      }
    }
    workgroupBarrier();
  }
  if (lane == 0u) {
    generated[p.step * p.width + pick.y] = i32(best_index[0]);
    next[pick.y] = i32(best_index[0]);
  }
}
