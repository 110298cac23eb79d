/**
 * Named random streams for everything drawn on the CPU: data generation,
 * partitions, client sampling, seed choices. A stream is a pure function of
 * (seed, name): Philox4x32-10 keyed by `[seed, fnv1a32(name)]`, counting
 * up from zero. Two streams with different names never share a key, so
 * adding draws to one part of a run never shifts another part's numbers.
 * No `Math.random()` anywhere in the toolkit.
 *
 * @module
 */

import { philox4x32Into } from "./philox.ts";

/**
 * FNV-1a, 32-bit, over the UTF-8 bytes of `text` (names → Philox keys).
 *
 * @example
 * ```ts
 * import { fnv1a32 } from "./stream.ts";
 * console.log(fnv1a32("").toString(16)); // "811c9dc5"
 * ```
 */
export function fnv1a32(text: string): number {
  let hash = 0x811c9dc5;
  for (const byte of new TextEncoder().encode(text)) {
    hash = Math.imul(hash ^ byte, 0x01000193) >>> 0;
  }
  return hash >>> 0;
}

/**
 * A deterministic random stream named by `(seed, name)`.
 *
 * @example
 * ```ts
 * import { RandomStream } from "./stream.ts";
 * const a = new RandomStream(7, "data/ni");
 * const b = new RandomStream(7, "data/ni");
 * console.log(a.uniform() === b.uniform()); // true
 * ```
 */
export class RandomStream {
  /** The run seed. */
  readonly seed: number;
  /** The stream's name (a path such as `fl/sample/round=3`). */
  readonly name: string;
  readonly #key1: number;
  #counter = 0;
  readonly #block = new Uint32Array(4);
  #used = 4;
  #spareNormal: number | null = null;

  /**
   * Creates the stream; nothing is drawn until asked.
   * @param seed a u32 run seed
   * @param name the stream's name
   */
  constructor(seed: number, name: string) {
    if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) {
      throw new RangeError(`Cannot create a random stream with seed ${seed}: expected a u32`);
    }
    this.seed = seed;
    this.name = name;
    this.#key1 = fnv1a32(name);
  }

  /** A new stream whose name extends this one's: `name/child`. */
  derive(child: string | number): RandomStream {
    return new RandomStream(this.seed, `${this.name}/${child}`);
  }

  /** The next uniform u32. */
  u32(): number {
    if (this.#used === 4) {
      const c = this.#counter++;
      philox4x32Into(
        c >>> 0,
        Math.floor(c / 2 ** 32) >>> 0,
        0,
        0,
        this.seed,
        this.#key1,
        this.#block,
      );
      this.#used = 0;
    }
    return this.#block[this.#used++]!;
  }

  /** A uniform double in [0, 1) with 53 random bits. */
  uniform(): number {
    return ((this.u32() >>> 5) * 67108864 + (this.u32() >>> 6)) / 9007199254740992;
  }

  /** A uniform integer in [0, n), unbiased (rejection). */
  int(n: number): number {
    if (!Number.isInteger(n) || n <= 0 || n > 2 ** 32) {
      throw new RangeError(`Cannot draw an integer below ${n}: expected 1 ≤ n ≤ 2³²`);
    }
    const limit = 2 ** 32 - (2 ** 32 % n);
    for (;;) {
      const x = this.u32();
      if (x < limit) return x % n;
    }
  }

  /** A standard normal draw (Box–Muller, both values used). */
  normal(): number {
    if (this.#spareNormal !== null) {
      const spare = this.#spareNormal;
      this.#spareNormal = null;
      return spare;
    }
    const u = 1 - this.uniform();
    const v = this.uniform();
    const r = Math.sqrt(-2 * Math.log(u));
    this.#spareNormal = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  }

  /** A Gamma(shape, 1) draw (Marsaglia–Tsang; boosted for shape < 1). */
  gamma(shape: number): number {
    if (!(shape > 0) || !Number.isFinite(shape)) {
      throw new RangeError(`Cannot draw Gamma(${shape}): the shape must be positive`);
    }
    if (shape < 1) return this.gamma(shape + 1) * this.uniform() ** (1 / shape);
    const d = shape - 1 / 3;
    const c = 1 / Math.sqrt(9 * d);
    for (;;) {
      let x: number, v: number;
      do {
        x = this.normal();
        v = 1 + c * x;
      } while (v <= 0);
      v = v * v * v;
      const u = this.uniform();
      if (u < 1 - 0.0331 * x ** 4 || Math.log(u) < 0.5 * x * x + d * (1 - v + Math.log(v))) {
        return d * v;
      }
    }
  }

  /** A Dirichlet(α, …, α) draw of dimension `k`. */
  dirichlet(alpha: number, k: number): number[] {
    const g = Array.from({ length: k }, () => this.gamma(alpha));
    const sum = g.reduce((a, b) => a + b, 0);
    return g.map((x) => x / sum);
  }

  /** A copy of `items` in random order (Fisher–Yates). */
  shuffle<T>(items: readonly T[]): T[] {
    const out = items.slice();
    for (let i = out.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      [out[i], out[j]] = [out[j]!, out[i]!];
    }
    return out;
  }

  /** `k` distinct indices from [0, n), in draw order. */
  sample(n: number, k: number): number[] {
    if (!Number.isInteger(k) || k < 0 || k > n) {
      throw new RangeError(`Cannot sample ${k} of ${n} without replacement`);
    }
    const pool = Array.from({ length: n }, (_, i) => i);
    for (let i = 0; i < k; i++) {
      const j = i + this.int(n - i);
      [pool[i], pool[j]] = [pool[j]!, pool[i]!];
    }
    return pool.slice(0, k);
  }
}
