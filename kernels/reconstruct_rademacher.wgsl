// reconstruct_rademacher: x[i] (+)= Σ_k s_l·c[base + coef_l + k]·v_{l,k}[i] over one chunk for
// Rademacher bases, generated in registers and never materialised (memory O(d) whatever K).
// TypeScript reference: reconstructReference in src/projection/reference.ts.
// Prepended with kernels/philox.wgsl, kernels/basis_tiles.wgsl and kernels/reconstruct_terms.wgsl.
//
// Each lane owns a run of granules of 128 elements and sums all K_l bases of a granule in 32 vec4
// registers before one store: a basis adds ±c·a to each element by flipping the sign bit of c·a.
// Every private-array index is a compile-time constant (llvmpipe turns run-time indices into
// ladders of branches), the loops test at the bottom (a `for` loop runs one more, masked, pass of
// its body on llvmpipe) and tiles of whole aligned granules (WHOLE) store whole vec4s without a
// branch. A lane runs per_lane × (the row's bases) loop iterations; the plan keeps that under
// llvmpipe's 65535.
// Registers and steps written out by hand appear here as `//! for` loops; kernels/mod.ts expands
// them to plain WGSL before compiling (src/gpu/wgsl_unroll.ts).

override WHOLE: bool = true; // every granule lies inside its tile, 4-aligned in the chunk

// acc[c0 … c0+7] += ±c over 32 elements whose signs are the bits of `word` (set: negative);
// `cv` holds the bits of c.
fn flip_add(acc: ptr<function, array<vec4f, 32>>, word: u32, c0: u32, cv: vec4u) {
  let w = vec4u(word);
  let m = vec4u(0x80000000u);
  let s = vec4u(31u, 30u, 29u, 28u);
  //! for i in 0..8
  (*acc)[c0 + {i}u] += bitcast<vec4f>(cv ^ ((w << (s - vec4u({4*i}u))) & m));
  //! end
}

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
  let sa = scales[t.blk] * b.a;
  let c0 = p.coef_base + b.coef;
  let granules = tile_granules(t, 128u);
  let gbegin = min(lid * t.per_lane, granules);
  let gend = min(gbegin + t.per_lane, granules);
  if (gbegin >= gend) {
    return;
  }
  var gi = gbegin;
  loop {
    let g = tile_granule(t, gi);
    var acc = array<vec4f, 32>(); // zero
    var k = t.kb; // this row's bases: t.kb … t.kb + t.stride − 1 (a pass, see the plan)
    loop {
      let w = philox4x32(counter(g, k, b), p.key);
      let cv = vec4u(bitcast<u32>(sa * coef[c0 + k]));
      flip_add(&acc, w.x, 0u, cv);
      flip_add(&acc, w.y, 8u, cv);
      flip_add(&acc, w.z, 16u, cv);
      flip_add(&acc, w.w, 24u, cv);
      continuing {
        k++;
        break if k >= t.kb + t.stride;
      }
    }
    let keep = p.accumulate == 1u;
    if (WHOLE) {
      let q = granule_index(t, gi, 128u) >> 2u;
      //! for i in 0..32
      x[q + {i}u] = select(vec4f(0.0), x[q + {i}u], keep) + acc[{i}];
      //! end
    } else {
      //! for i in 0..32
      store4_masked(t, gi, 128u, {i}u, acc[{i}], keep);
      //! end
    }
    continuing {
      gi++;
      break if gi >= gend;
    }
  }
}
