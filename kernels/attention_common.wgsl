// attention_common: declarations every attention kernel shares; kernels/mod.ts
// puts it in front of each attention_*.wgsl.
// - HAS_STARTS: packed sequences, where a token attends only from the first
//   key of its own example, starts[t] (each kernel binds `starts`).
// - HEAD_DIM is substituted per pipeline (specialize in src/gpu/specialize.ts):
//   WGSL sizes function arrays only by constants.
override HAS_STARTS: bool = false;
const HEAD_DIM: u32 = 64u;
const D4: u32 = HEAD_DIM / 4u;

var<workgroup> lowest: atomic<u32>;

// The keys query t may attend from: x = its own first key (s_t = clamp(starts[t],
// 0, last) with HAS_STARTS, else 0) and y = the lowest s over the workgroup,
// where the workgroup's shared key loop begins (identical in every lane).
// Every lane of the workgroup calls it, in uniform control flow.
fn queryKeyRange(t: u32, last: u32, lid: u32) -> vec2u {
  var first = 0u;
  if (HAS_STARTS) {
    first = u32(clamp(starts[t], 0, i32(last)));
    if (lid == 0u) {
      atomicStore(&lowest, first);
    }
    workgroupBarrier();
    atomicMin(&lowest, first);
  }
  var begin = 0u;
  if (HAS_STARTS) {
    begin = workgroupUniformLoad(&lowest);
  }
  return vec2u(first, begin);
}
