// zo_replay: x[i] (+)= Σ_k c[k]·z_k[i] over one chunk, where z_k is the N(0, 1) direction of seed
// keys[k] (block 0, basis 0 of the wire format in src/random/basis.ts: a one-block plan over the
// whole vector with K_l = 1). This is FedKSeed's server rebuild w = w₀ − η Σ_s pool[s]·z_s
// (paper.md §6) in one pass over memory: every element generates all K directions in registers,
// O(K·d) random numbers, the "Global Aggr." cost of paper.md §3 Tables 4, 5, 10.
// TypeScript reference: replayReference in src/fl/algorithms/_zo_replay.ts.
// Prepended with kernels/philox.wgsl.
//
// Each lane owns GPL consecutive granules (4 elements each) and walks the seeds once, so a
// seed's key and coefficient are loaded once per GPL granules. Loops: llvmpipe ends an
// invocation's loops after 65535 iterations in total; a lane runs one iteration per seed (the
// granules are written out by kernels/mod.ts's unrolling), and the caller splits K into
// dispatches of at most 8192 seeds (REPLAY_SEEDS_PER_DISPATCH).
//
// Several models (src/model/model_batch.ts, zeroth-order steps of a batch of clients): the chunk
// holds the models one after another, model_granules granules apart (a multiple of GPL, so a
// lane stays within one model), each with its own seeds and coefficients (key_stride and
// coef_stride apart); a model's granules are numbered from its own start, so its directions are
// those of a lone vector. One model: model_granules is 0xffffffff.

override WG: u32 = 64;

const GPL: u32 = 8u; // granules per lane (the `//! for q in 0..8` blocks spell them out)

struct Params {
  granule0: u32,    // global granule index of the chunk's first element (chunk start / 4)
  n: u32,           // elements in this chunk
  seed_base: u32,   // first seed of this dispatch (index into `keys`)
  count: u32,       // seeds in this dispatch
  coef_base: u32,   // coefficient of seed seed_base + k is coef[coef_base + k]
  accumulate: u32,  // 1: x += Σ…, 0: x = Σ…
  model_granules: u32, // granules from one model's start to the next's
  key_stride: u32,     // seeds from one model's to the next's
  coef_stride: u32,    // coefficients from one model's to the next's
  model_n: u32,        // elements of one model (n with one model)
  _pad0: u32,
  _pad1: u32,
}

// Whole vec4s: a storage access costs a loop over the SIMD lanes on CPU adapters, so one vec4
// access per granule instead of four scalar ones. The chunk is zero padded to 16 bytes, and the
// padding is kept zero.
@group(0) @binding(0) var<storage, read_write> x: array<vec4f>; // [ceil(n / 4)] in/out
@group(0) @binding(1) var<storage, read> coef: array<f32>;      // [coef_base + count]
@group(0) @binding(2) var<storage, read> keys: array<vec2u>;    // [seed_base + count] (lo, hi)
@group(1) @binding(0) var<uniform> p: Params;

@compute @workgroup_size(WG)
fn main(
  @builtin(workgroup_id) wid: vec3u,
  @builtin(num_workgroups) nwg: vec3u,
  @builtin(local_invocation_index) lid: u32,
) {
  let lane = (wid.x + wid.y * nwg.x) * WG + lid;
  let granules = (p.n + 3u) / 4u;
  let first = lane * GPL;
  if (first >= granules) {
    return;
  }
  let model = first / p.model_granules;
  let local = first % p.model_granules; // the lane's first granule within its model
  let seed_base = p.seed_base + model * p.key_stride;
  let coef_base = p.coef_base + model * p.coef_stride;
  // The GPL accumulators are spelled out: a private array indexed in a loop that is not
  // unrolled costs a gather per access on CPU adapters.
  let g0 = p.granule0 + local;
  //! for q in 0..8
  var acc{q} = vec4f(0.0);
  //! end
  for (var k = 0u; k < p.count; k++) {
    let key = keys[seed_base + k];
    let c = coef[coef_base + k];
    //! for q in 0..8
    acc{q} += c * gaussian4(philox4x32(vec4u(g0 + {q}u, 0u, 0u, TAG_GAUSSIAN << 24u), key));
    //! end
  }
  let keep = p.accumulate == 1u;
  //! for q in 0..8
  store(first + {q}u, local + {q}u, granules, keep, acc{q});
  //! end
}

// x[g] (+)= acc for a granule of the dispatch (its model's granule `local`); elements past the
// model's n (its last granule's padding, the gap to the next model) stay 0.
fn store(g: u32, local: u32, granules: u32, keep: bool, acc: vec4f) {
  if (g < granules) {
    let inside = vec4u(4u * local) + vec4u(0u, 1u, 2u, 3u) < vec4u(p.model_n);
    let old = select(vec4f(0.0), x[g], keep);
    x[g] = select(vec4f(0.0), old + acc, inside);
  }
}
