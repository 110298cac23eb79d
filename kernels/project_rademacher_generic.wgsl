// project_rademacher_generic: per-lane partial sums of γ_{l,k} = Σ_i v_{l,k}[i]·x[i] (or the
// zeroth-order terms of project_terms.wgsl) over one chunk for Rademacher bases, for any row of
// the tile table: granules at a tile's edge or misaligned in the chunk, a block's last partial
// group of bases, the zeroth-order objectives. The fast path is project_rademacher.wgsl; this
// one reloads x for every basis and stays small (it compiles in a fraction of the time).
// TypeScript reference: projectReference in src/projection/reference.ts.
// Prepended with kernels/philox.wgsl, kernels/basis_tiles.wgsl and kernels/project_terms.wgsl.
// Second pass: project_reduce. A lane runs about per_lane·33·33 loop iterations at most (a `for`
// loop runs one more, masked, pass on llvmpipe); the plan keeps per_lane ≤ 32.
// Registers and steps written out by hand appear here as `//! for` loops; kernels/mod.ts expands
// them to plain WGSL before compiling (src/gpu/wgsl_unroll.ts).

@compute @workgroup_size(WG)
fn main(
  @builtin(workgroup_id) wid: vec3u,
  @builtin(num_workgroups) nwg: vec3u,
  @builtin(local_invocation_index) lid: u32,
) {
  let ti = wid.x + wid.y * nwg.x;
  if (ti >= p.tile_count) {
    return;
  }
  let t = tiles[p.tile_base + ti];
  let b = blocks[t.blk];
  let granules = tile_granules(t, 128u);
  let gbegin = min(lid * t.per_lane, granules);
  let gend = min(gbegin + t.per_lane, granules);
  let nb = min(32u, b.count - t.kb); // bases in this row (uniform over the workgroup)
  // Partial sums of bases 4a … 4a+3, named rather than an array so that they stay in registers.
  //! for i in 0..8
  var a{i} = vec4f(0.0);
  //! end
  for (var gi = gbegin; gi < gend; gi++) {
    let g = tile_granule(t, gi);
    // The vec4s of the granule that meet the tile.
    let e0 = gi * 128u;
    let cbegin = (max(e0, t.skip) - e0) / 4u;
    let cend = (min(e0 + 128u, t.skip + t.n) - e0 + 3u) / 4u;
    for (var r = 0u; r < nb; r++) {
      let w = philox4x32(counter(g, t.kb + r, b), p.key);
      var s = 0.0;
      for (var c = cbegin; c < cend; c++) {
        var m: vec4f;
        let xv = load4_masked(t, gi, 128u, c, &m);
        s += term(rademacher4(w, c, b.a), xv, m);
      }
      //! for i in 0..8
      a{i} += s * onehot(r, {i}u);
      //! end
    }
  }
  let sums = array<vec4f, 8>(a0, a1, a2, a3, a4, a5, a6, a7);
  let base = t.partial + lid;
  for (var r = 0u; r < nb; r++) {
    partials[base + r * t.stride] = sums[r >> 2u][r & 3u];
  }
}
