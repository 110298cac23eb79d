// Library snippet (no entry point): Philox4x32-10 and the basis distributions.
// Prepended to the kernels that generate bases (kernels/mod.ts concatenates).
// TypeScript references: philox4x32 in src/random/philox.ts (bit-identical) and
// basisElements in src/random/basis.ts, whose JSDoc is the wire format:
//   key     = (seed mod 2^32, seed / 2^32)
//   counter = (granule mod 2^32, basis k, block l, tag<<24 | draw<<16 | granule / 2^32)
// Registers and steps written out by hand appear here as `//! for` loops; kernels/mod.ts expands
// them to plain WGSL before compiling (src/gpu/wgsl_unroll.ts).

const PHILOX_M0: u32 = 0xd2511f53u;
const PHILOX_M1: u32 = 0xcd9e8d57u;
const PHILOX_W0: u32 = 0x9e3779b9u;
const PHILOX_W1: u32 = 0xbb67ae85u;

// High 32 bits of a·M for the two Philox multipliers, from 16-bit halves (WGSL has no u64).
// Written out with literal halves: on CPU adapters this is 1.6× faster than a generic mulhi.
fn philox_mulhi0(a: u32) -> u32 {
  let a_lo = a & 0xffffu;
  let a_hi = a >> 16u;
  let t1 = a_hi * 0x1f53u + ((a_lo * 0x1f53u) >> 16u); // < 2^32
  let t2 = a_lo * 0xd251u + (t1 & 0xffffu);            // < 2^32
  return a_hi * 0xd251u + (t1 >> 16u) + (t2 >> 16u);
}

fn philox_mulhi1(a: u32) -> u32 {
  let a_lo = a & 0xffffu;
  let a_hi = a >> 16u;
  let t1 = a_hi * 0x8d57u + ((a_lo * 0x8d57u) >> 16u);
  let t2 = a_lo * 0xcd9eu + (t1 & 0xffffu);
  return a_hi * 0xcd9eu + (t1 >> 16u) + (t2 >> 16u);
}

// Philox4x32-10, the ten rounds unrolled (round r uses key + r·(W0, W1)).
fn philox4x32(counter: vec4u, key: vec2u) -> vec4u {
  var c = counter;
  //! for i in 0..10
  {
    let hi0 = philox_mulhi0(c.x);
    let lo0 = PHILOX_M0 * c.x;
    let hi1 = philox_mulhi1(c.z);
    let lo1 = PHILOX_M1 * c.z;
    c = vec4u(hi1 ^ c.y ^ (key.x + {i}u * PHILOX_W0), lo1, hi0 ^ c.w ^ (key.y + {i}u * PHILOX_W1), lo0);
  }
  //! end
  return c;
}

// Per-block constants of a basis (BasisParams in src/random/basis.ts), 12 words.
struct BasisBlock {
  levels: u32,      // truncnormal: flat levels H of the 16-bit main draw
  flat2: u32,       // truncnormal: threshold T' of the flat part in the slow path
  a: f32,           // truncation bound 1/sqrt(d_l) (rademacher: the ± value)
  scale: f32,       // truncnormal: flat-part scale S = 2a/H
  offset: f32,      // truncnormal: flat-part offset O = S/2 - a
  one_minus_m: f32, // truncnormal: 1 - exp(-a^2/2)
  block: u32,       // block index l (counter word c2)
  count: u32,       // K_l, bases of this block
  coef: u32,        // index of the block's first coefficient / coordinate
  _pad0: u32,
  _pad1: u32,
  _pad2: u32,
}

const TAG_TRUNCNORMAL: u32 = 1u;
const TAG_GAUSSIAN: u32 = 2u;
const TAG_RADEMACHER: u32 = 3u;
const TWO_M23: f32 = 1.1920928955078125e-7;
const TWO_M24: f32 = 5.9604644775390625e-8;

// 1 - exp(-t) without cancellation for small t.
fn one_minus_exp(t: f32) -> f32 {
  if (t < 0.01) {
    return t * (1.0 - (t * 0.5) * (1.0 - t / 3.0));
  }
  return 1.0 - exp(-t);
}

// Slow path of truncated-normal element j (0..7) of granule (g_lo, g_hi): draws 1 + 8r + j.
// Draw r = 0 first decides flat part (w.x < T') vs residual; the residual density
// ∝ exp(-x^2/2) - exp(-a^2/2) is sampled by rejection, x from w.y and u from w.z.
fn truncnormal_slow(g_lo: u32, g_hi: u32, k: u32, b: BasisBlock, key: vec2u, j: u32) -> f32 {
  let a = b.a;
  var x = 0.0;
  for (var r = 0u; r < 31u; r++) {
    let draw = 1u + 8u * r + j;
    let w = philox4x32(vec4u(g_lo, k, b.block, (TAG_TRUNCNORMAL << 24u) | (draw << 16u) | g_hi), key);
    x = (f32(w.y >> 9u) + 0.5) * TWO_M23 * (2.0 * a) - a;
    if (r == 0u && w.x < b.flat2) {
      break;
    }
    let u = (f32(w.z >> 9u) + 0.5) * TWO_M23;
    let half_x2 = x * x * 0.5;
    let rhs = exp(-half_x2) * one_minus_exp(a * a * 0.5 - half_x2);
    if (u * b.one_minus_m < rhs) {
      break;
    }
  }
  return x;
}

// Eight truncated-normal elements (a granule) from one Philox block: element j takes the
// 16-bit half (j & 1) of word j >> 1; a half below H is a flat-part level, the rest go slow.
struct Basis8 {
  lo: vec4f, // elements 0..3
  hi: vec4f, // elements 4..7
}

fn truncnormal8(w: vec4u, g_lo: u32, g_hi: u32, k: u32, b: BasisBlock, key: vec2u) -> Basis8 {
  let h_lo = vec4u(w.x & 0xffffu, w.x >> 16u, w.y & 0xffffu, w.y >> 16u);
  let h_hi = vec4u(w.z & 0xffffu, w.z >> 16u, w.w & 0xffffu, w.w >> 16u);
  var out = Basis8(vec4f(h_lo) * b.scale + b.offset, vec4f(h_hi) * b.scale + b.offset);
  let levels = vec4u(b.levels);
  let flat_lo = h_lo < levels;
  let flat_hi = h_hi < levels;
  if (!all(flat_lo) || !all(flat_hi)) {
    // Rare (≥ 2^-16 per element): one call site keeps the unrolled generator out of the fast path.
    for (var j = 0u; j < 8u; j++) {
      let flat = select(flat_lo[j & 3u], flat_hi[j & 3u], j >= 4u);
      if (!flat) {
        let v = truncnormal_slow(g_lo, g_hi, k, b, key, j);
        if (j < 4u) {
          out.lo[j] = v;
        } else {
          out.hi[j - 4u] = v;
        }
      }
    }
  }
  return out;
}

// Four N(0, 1) elements (two Box–Muller pairs) from one Philox block.
fn gaussian4(w: vec4u) -> vec4f {
  let u1 = (vec2f(vec2u(w.x, w.z) >> vec2u(9u)) + 0.5) * TWO_M23;
  let u2 = vec2f(vec2u(w.y, w.w) >> vec2u(8u)) * TWO_M24;
  let r = sqrt(-2.0 * log(u1));
  let theta = 6.2831854820251465 * u2;
  return vec4f(r.x * cos(theta.x), r.x * sin(theta.x), r.y * cos(theta.y), r.y * sin(theta.y));
}

// Sign bits (bit 31 set = negative) of elements 4q..4q+3 of a Rademacher granule of 128.
fn rademacher_signs(w: vec4u, q: u32) -> vec4u {
  return (vec4u(w[q >> 3u]) >> (vec4u(0u, 1u, 2u, 3u) + 4u * (q & 7u))) << vec4u(31u);
}

// Elements 4q..4q+3 (±a) of a Rademacher granule.
fn rademacher4(w: vec4u, q: u32, a: f32) -> vec4f {
  return bitcast<vec4f>(bitcast<vec4u>(vec4f(a)) ^ rademacher_signs(w, q));
}
