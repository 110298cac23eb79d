// project_rademacher: per-lane partial sums of γ_{l,k} = Σ_i v_{l,k}[i]·x[i] over one chunk for
// Rademacher bases, generated in registers and never materialised — the fast path: every granule
// of a row lies inside its tile and starts 4-aligned in the chunk, every row holds 32 bases and
// the objective is the dot product. Everything else (tile edges, misaligned blocks, a block's last
// partial group of bases, the zeroth-order objectives) goes to project_rademacher_generic.wgsl.
// TypeScript reference: projectReference in src/projection/reference.ts.
// Prepended with kernels/philox.wgsl, kernels/basis_tiles.wgsl and kernels/project_terms.wgsl.
// Second pass: project_reduce.
//
// Why this shape (CPU adapters; DESIGN.md §4): one generator call gives a granule of 128 signs,
// so loading the granule's 128 elements of x costs as much as generating ~15 bases. A workgroup
// therefore takes one tile and a group of 32 bases: each lane loads a granule once (32 vec4s) and
// sums it under 32 sign patterns by flipping sign bits (±x; the common factor a is applied to the
// partial sums). Everything is spelled out with constant indices: llvmpipe turns a private array
// indexed at run time into a ladder of branches (and such code here multiplied the compile time).
// 64 bases per row would be ~10% faster but compiles for many seconds.
// Registers and steps written out by hand appear here as `//! for` loops; kernels/mod.ts expands
// them to plain WGSL before compiling (src/gpu/wgsl_unroll.ts).

// Σ ±x over x[c0 … c0+7] (32 elements) whose signs are the bits of `word` (set: negative).
fn flip_sum(word: u32, xs: ptr<function, array<vec4f, 32>>, c0: u32) -> vec4f {
  let w = vec4u(word);
  let m = vec4u(0x80000000u);
  let s = vec4u(31u, 30u, 29u, 28u);
  return bitcast<vec4f>(bitcast<vec4u>((*xs)[c0]) ^ ((w << s) & m)) +
    //! for i in 0..6
    bitcast<vec4f>(bitcast<vec4u>((*xs)[c0 + {i+1}u]) ^ ((w << (s - vec4u({4*i+4}u))) & m)) +
    //! end
    bitcast<vec4f>(bitcast<vec4u>((*xs)[c0 + 7u]) ^ ((w << (s - vec4u(28u))) & m));
}

// Σ_i ±x_i over a granule for basis k (dot product, without the factor a).
fn flip_granule(g: vec2u, k: u32, b: BasisBlock, xs: ptr<function, array<vec4f, 32>>) -> f32 {
  let w = philox4x32(counter(g, k, b), p.key);
  let acc = flip_sum(w.x, xs, 0u) + flip_sum(w.y, xs, 8u) + flip_sum(w.z, xs, 16u) +
    flip_sum(w.w, xs, 24u);
  return acc.x + acc.y + acc.z + acc.w;
}

// Four bases kb … kb+3 on one granule.
fn flip4(g: vec2u, kb: u32, b: BasisBlock, xs: ptr<function, array<vec4f, 32>>) -> vec4f {
  return vec4f(flip_granule(g, kb, b, xs), flip_granule(g, kb + 1u, b, xs),
    flip_granule(g, kb + 2u, b, xs), flip_granule(g, kb + 3u, b, xs));
}

// The 128 elements of granule gi (inside the tile, 4-aligned in the chunk).
fn load_granule(t: Tile, gi: u32) -> array<vec4f, 32> {
  let q = granule_index(t, gi, 128u) >> 2u;
  return array<vec4f, 32>(
    x[q], x[q + 1u], x[q + 2u], x[q + 3u], x[q + 4u], x[q + 5u], x[q + 6u], x[q + 7u],
    x[q + 8u], x[q + 9u], x[q + 10u], x[q + 11u], x[q + 12u], x[q + 13u], x[q + 14u],
    x[q + 15u], x[q + 16u], x[q + 17u], x[q + 18u], x[q + 19u], x[q + 20u], x[q + 21u],
    x[q + 22u], x[q + 23u], x[q + 24u], x[q + 25u], x[q + 26u], x[q + 27u], x[q + 28u],
    x[q + 29u], x[q + 30u], x[q + 31u],
  );
}

// Partial sums of bases r … r+3 of this lane.
fn store4(base: u32, stride: u32, r: u32, v: vec4f) {
  partials[base + r * stride] = v.x;
  partials[base + (r + 1u) * stride] = v.y;
  partials[base + (r + 2u) * stride] = v.z;
  partials[base + (r + 3u) * stride] = v.w;
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
  let granules = tile_granules(t, 128u);
  let gbegin = min(lid * t.per_lane, granules);
  let gend = min(gbegin + t.per_lane, granules);
  // Partial sums of bases 4a … 4a+3, named rather than an array so that they stay in registers.
  //! for i in 0..8
  var a{i} = vec4f(0.0);
  //! end
  // Tested at the bottom: on llvmpipe a `for` loop runs one more, masked, pass of its body.
  if (gbegin < gend) {
    var gi = gbegin;
    loop {
      var xs = load_granule(t, gi);
      let g = tile_granule(t, gi);
      a0 += flip4(g, t.kb, b, &xs);
      //! for i in 0..7
      a{i+1} += flip4(g, t.kb + {4*i+4}u, b, &xs);
      //! end
      continuing {
        gi++;
        break if gi >= gend;
      }
    }
  }
  let base = t.partial + lid;
  //! for i in 0..8
  store4(base, t.stride, {4*i}u, a{i} * b.a);
  //! end
}
