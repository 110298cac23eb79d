// reconstruct_subgroups (entry point with subgroup operations; needs subgroups of ≥ 8 lanes):
// x[i] (+)= Σ_k s_l·c[base + coef_l + k]·v_{l,k}[i] over one chunk, truncated-normal and Gaussian
// bases; the kernel is kernels/reconstruct.wgsl, prepended with philox.wgsl, basis_tiles.wgsl,
// reconstruct_terms.wgsl and reconstruct.wgsl. Portable twin: reconstruct_main.wgsl.
// TypeScript reference: reconstructReference in src/projection/reference.ts.
//
// On CPU adapters every storage load is a scalar loop over the SIMD lanes, even when all lanes
// read the same address, so 8 coefficient loads per step cost an eighth of the throughput. Here
// lane r of each 8 loads coefficient kb + r and subgroupBroadcast hands it to the others: one load
// per step. Broadcasts need control flow uniform over the subgroup: the lanes of a subgroup step
// through the same number of granules (`subgroup_granules`).
// Registers and steps written out by hand appear here as `//! for` loops; kernels/mod.ts expands
// them to plain WGSL before compiling (src/gpu/wgsl_unroll.ts).

// Coefficient kb + (lane mod 8) of the step: this lane's share of the loads.
fn step_coefficient(c0: u32, kb: u32, end: u32, s: f32) -> f32 {
  return coefficient(c0, kb + (lane_index & 7u), end, s);
}

// Coefficient kb + r of the step, from lane r of the subgroup.
fn step_coefficient_of(mine: f32, c0: u32, kb: u32, r: u32, end: u32, s: f32) -> f32 {
  switch (r) {
    //! for i in 0..7
    case {i}u: {
      return subgroupBroadcast(mine, {i}u);
    }
    //! end
    default: {
      return subgroupBroadcast(mine, 7u);
    }
  }
}

// The most granules of any lane in the subgroup.
fn subgroup_granules(n: u32) -> u32 {
  return subgroupMax(n);
}

var<private> lane_index: u32;

@compute @workgroup_size(WG)
fn main(
  @builtin(workgroup_id) wid: vec3u,
  @builtin(num_workgroups) nwg: vec3u,
  @builtin(local_invocation_index) lid: u32,
  @builtin(subgroup_invocation_id) sid: u32,
) {
  lane_index = sid;
  reconstruct(wid, nwg, lid);
}
