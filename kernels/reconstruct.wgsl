// Library snippet (no entry point) — reconstruct: x[i] (+)= Σ_k s_l·c[base + coef_l + k]·v_{l,k}[i]
// over one chunk for truncated-normal and Gaussian bases, generated in registers and never
// materialised (memory O(d) whatever K). With one basis and c = ε this is the zeroth-order
// perturbation x += ε·z(seed). Rademacher bases: reconstruct_rademacher.wgsl.
// TypeScript reference: reconstructReference in src/projection/reference.ts.
// Prepended with kernels/philox.wgsl, kernels/basis_tiles.wgsl and kernels/reconstruct_terms.wgsl;
// followed by an entry point, reconstruct_main.wgsl (portable) or reconstruct_subgroups.wgsl,
// which defines `step_coefficient` (how the 8 coefficients of a step reach the lanes) and
// `subgroup_granules` (how many granules the lanes of a subgroup step through together).
//
// Each lane owns a run of granules and sums the row's bases (all K_l of the block, or a pass over
// part of them) of a granule in registers before one store, GROUP bases per step (8 spelled out;
// the last step padded with zero coefficients). Shaped by how llvmpipe runs control flow: a branch whose condition may differ
// between lanes runs its body for all of them (masked) unless it is uniform in a way the compiler
// can see, and a `for` loop runs one more, masked, pass of its body after the last; so the hot
// loops test at the bottom, tiles of whole aligned granules (WHOLE) take branch-free vec4 loads
// and stores, and the truncated normal's rare slow path is out of the hot loop altogether: the
// loop adds the fast-path values and records the first two steps where some element needs the
// slow path; after the lane's last granule those steps (and, if there were more, all later
// ones) are corrected in place. The plan sizes runs and passes so that a lane's loops, the
// corrections included, stay under llvmpipe's 65535 iterations (src/projection/_tiles.ts).
// Registers and steps written out by hand appear here as `//! for` loops; kernels/mod.ts expands
// them to plain WGSL before compiling (src/gpu/wgsl_unroll.ts).

override WHOLE: bool = true; // every granule lies inside its tile, 4-aligned in the chunk
override GROUP: u32 = 8u;    // bases per step: 8 (K_l ≥ 8) or 1

// Largest 16-bit truncated-normal draw seen in the current step.
var<private> top: vec4u;

fn granule_size() -> u32 {
  return select(4u, 8u, DIST == TAG_TRUNCNORMAL);
}

// s_l·c_k, 0 from basis `end` on (padding of a row's last step).
fn coefficient(c0: u32, k: u32, end: u32, s: f32) -> f32 {
  return select(0.0, s * coef[c0 + min(k, end - 1u)], k < end);
}

// c·v_k on one granule (elements 0–3, 4–7; gaussian: 0–3 only), truncated normal by its fast path.
fn basis_terms(g: vec2u, k: u32, b: BasisBlock, c: f32) -> array<vec4f, 2> {
  let w = philox4x32(counter(g, k, b), p.key);
  if (DIST == TAG_TRUNCNORMAL) {
    let h_lo = vec4u(w.x & 0xffffu, w.x >> 16u, w.y & 0xffffu, w.y >> 16u);
    let h_hi = vec4u(w.z & 0xffffu, w.z >> 16u, w.w & 0xffffu, w.w >> 16u);
    top = max(top, max(h_lo, h_hi));
    return array<vec4f, 2>(c * (vec4f(h_lo) * b.scale + b.offset), c * (vec4f(h_hi) * b.scale + b.offset));
  }
  return array<vec4f, 2>(c * gaussian4(w), vec4f(0.0));
}

// c·v_k for k = kb + r, added to v.
fn add_basis(v: ptr<function, array<vec4f, 2>>, g: vec2u, kb: u32, r: u32, b: BasisBlock, c: f32) {
  let u = basis_terms(g, kb + r, b, c);
  (*v)[0] += u[0];
  (*v)[1] += u[1];
}

// Σ c_k·v_k over the step's bases kb … kb+GROUP−1 (fast-path values; `top` records the draws),
// the 8 generator calls spelled out. Call in control flow uniform over the subgroup.
fn step(g: vec2u, kb: u32, end: u32, b: BasisBlock, s: f32, c0: u32) -> array<vec4f, 2> {
  if (GROUP == 8u) {
    let mine = step_coefficient(c0, kb, end, s);
    var v = basis_terms(g, kb, b, step_coefficient_of(mine, c0, kb, 0u, end, s));
    //! for i in 1..8
    add_basis(&v, g, kb, {i}u, b, step_coefficient_of(mine, c0, kb, {i}u, end, s));
    //! end
    return v;
  }
  return basis_terms(g, kb, b, coefficient(c0, kb, end, s));
}

// The largest 16-bit truncated-normal draw among the step's bases (its slow-path check).
fn step_draws(g: vec2u, kb: u32, end: u32, b: BasisBlock) -> vec4u {
  var m = vec4u(0u);
  for (var k = kb; k < min(kb + GROUP, end); k++) {
    let w = philox4x32(counter(g, k, b), p.key);
    m = max(m, max(w & vec4u(0xffffu), w >> vec4u(16u)));
  }
  return m;
}

// c·(exact − fast-path value) of basis k on one granule (truncated normal), 0 where they agree.
fn basis_fix(g: vec2u, k: u32, b: BasisBlock, c: f32) -> array<vec4f, 2> {
  let w = philox4x32(counter(g, k, b), p.key);
  let v = truncnormal8(w, g.x, g.y, k, b, p.key);
  let h_lo = vec4u(w.x & 0xffffu, w.x >> 16u, w.y & 0xffffu, w.y >> 16u);
  let h_hi = vec4u(w.z & 0xffffu, w.z >> 16u, w.w & 0xffffu, w.w >> 16u);
  let levels = vec4u(b.levels);
  return array<vec4f, 2>(
    select(vec4f(0.0), c * v.lo - c * (vec4f(h_lo) * b.scale + b.offset), h_lo >= levels),
    select(vec4f(0.0), c * v.hi - c * (vec4f(h_hi) * b.scale + b.offset), h_hi >= levels),
  );
}

// Adds (lo, hi) to granule gi (or writes it, when keep is false).
fn add_granule(t: Tile, gi: u32, lo: vec4f, hi: vec4f, keep: bool) {
  let G = granule_size();
  if (WHOLE) {
    let q = granule_index(t, gi, G) >> 2u;
    x[q] = select(vec4f(0.0), x[q], keep) + lo;
    if (DIST == TAG_TRUNCNORMAL) {
      x[q + 1u] = select(vec4f(0.0), x[q + 1u], keep) + hi;
    }
  } else {
    store4_masked(t, gi, G, 0u, lo, keep);
    if (DIST == TAG_TRUNCNORMAL) {
      store4_masked(t, gi, G, 1u, hi, keep);
    }
  }
}

// The kernel, called by the entry points.
fn reconstruct(wid: vec3u, nwg: vec3u, lid: u32) {
  let ti = wid.x + wid.y * nwg.x;
  if (ti >= p.tile_count) {
    return;
  }
  let t = tiles[p.tile_base + ti];
  let b = blocks[t.blk];
  let s = scales[t.blk];
  let c0 = p.coef_base + b.coef;
  let granules = tile_granules(t, granule_size());
  let gbegin = min(lid * t.per_lane, granules);
  let gend = min(gbegin + t.per_lane, granules);
  // This row's bases (a pass: the plan splits a block's bases when its loops would run too long).
  let kbase = t.kb;
  let kend = t.kb + t.stride;
  let steps = (t.stride + GROUP - 1u) / GROUP; // per granule
  // Lanes step through `rounds` granules together (subgroup variant: the most of any lane in the
  // subgroup, so that its broadcasts run in uniform control flow; lanes past their last granule
  // compute on a clamped one and store nothing).
  let rounds = subgroup_granules(gend - gbegin);
  // The first two (granule, step) pairs with slow truncated-normal elements, and their count.
  var slow0 = vec2u(0u);
  var slow1 = vec2u(0u);
  var slow_count = 0u;
  if (rounds > 0u) {
    var i = 0u;
    loop {
      let gi = gbegin + i;
      let mine = gi < gend;
      let g = tile_granule(t, min(gi, granules - 1u));
      var lo = vec4f(0.0);
      var hi = vec4f(0.0);
      var j = 0u;
      loop {
        top = vec4u(0u);
        let v = step(g, kbase + j * GROUP, kend, b, s, c0);
        lo += v[0];
        hi += v[1];
        if (DIST == TAG_TRUNCNORMAL) {
          let hit = mine && any(top >= vec4u(b.levels));
          slow0 = select(slow0, vec2u(gi, j), hit && slow_count == 0u);
          slow1 = select(slow1, vec2u(gi, j), hit && slow_count == 1u);
          slow_count += select(0u, 1u, hit);
        }
        continuing {
          j++;
          break if j >= steps;
        }
      }
      if (mine) {
        add_granule(t, gi, lo, hi, p.accumulate == 1u);
      }
      continuing {
        i++;
        break if i >= rounds;
      }
    }
  }
  if (DIST == TAG_TRUNCNORMAL && slow_count > 0u) {
    // Candidates: the two recorded steps and, when there were more, every step after the second
    // (in the lane's order, step j of granule gi being number (gi − gbegin)·steps + j).
    let second = (slow1.x - gbegin) * steps + slow1.y;
    let candidates = select(min(slow_count, 2u), 1u + (gend - gbegin) * steps - second, slow_count > 2u);
    for (var i = 0u; i < candidates; i++) {
      let n = select(select(second + i - 1u, second, i == 1u), (slow0.x - gbegin) * steps + slow0.y, i == 0u);
      let gi = gbegin + n / steps;
      let kb = kbase + (n % steps) * GROUP;
      let g = tile_granule(t, gi);
      if (any(step_draws(g, kb, kend, b) >= vec4u(b.levels))) {
        var lo = vec4f(0.0);
        var hi = vec4f(0.0);
        for (var k = kb; k < min(kb + GROUP, kend); k++) {
          let f = basis_fix(g, k, b, coefficient(c0, k, kend, s));
          lo += f[0];
          hi += f[1];
        }
        add_granule(t, gi, lo, hi, true);
      }
    }
  }
}
