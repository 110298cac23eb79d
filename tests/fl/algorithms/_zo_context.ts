/**
 * Shared fixtures of the zeroth-order baselines' tests (which run the
 * algorithms through the simulator): random sequences and clients for the
 * `ci` model, the simulator's stream names, and the hand-rolled reference
 * pieces (perturb with a CPU coefficient, read a loss back) that the tests
 * compare the GPU-only steps against.
 */

import type { Gpu } from "../../../src/gpu/gpu.ts";
import type { GpuVector } from "../../../src/gpu/vector.ts";
import type { Sequence, Transformer } from "../../../src/model/transformer.ts";
import type { BasisPlan } from "../../../src/projection/plan.ts";
import type { Seed } from "../../../src/random/basis.ts";
import { RandomStream } from "../../../src/random/stream.ts";
import type { ClientData } from "../../../src/fl/types.ts";

/** `count` random sequences of `T` byte tokens, the first `prompt` targets masked. */
export function randomSequences(
  seed: number,
  count: number,
  T: number,
  prompt = 4,
): Sequence[] {
  const r = new RandomStream(seed, "test/sequences");
  return Array.from({ length: count }, () => ({
    tokens: Int32Array.from({ length: T }, () => r.int(256)),
    targets: Int32Array.from({ length: T }, (_, t) => (t < prompt ? -100 : r.int(256))),
  }));
}

/**
 * Clients 0 … n − 1 with `perClient` sequences each, or client i with
 * `perClient[i]` of them (n = its length): with the simulator's default
 * `samples` weighting, client i's aggregation weight is its share of the sequences.
 */
export function randomClients(
  seed: number,
  n: number,
  perClient: number | readonly number[],
  T: number,
): ClientData[] {
  const sizes = typeof perClient === "number" ? Array<number>(n).fill(perClient) : perClient;
  if (sizes.length !== n) throw new RangeError(`Cannot give ${n} clients ${sizes.length} sizes`);
  return sizes.map((count, id) => ({ id, sequences: randomSequences(seed * 1000 + id, count, T) }));
}

/** The name the simulator gives the round stream `name` of `round` (`fl/round=<round>/<name>`). */
export function streamName(round: number, name: string): string {
  return `fl/round=${round}/${name}`;
}

/** x += c·z(seed), c given on the CPU (rounded to f32, as the GPU holds it). */
export async function perturb(
  gpu: Gpu,
  plan: BasisPlan,
  x: GpuVector,
  seed: Seed,
  c: number,
): Promise<void> {
  const coef = gpu.upload(new Float32Array([c]));
  await plan.reconstruct(x, seed, coef);
  await gpu.sync();
  coef.destroy();
}

/**
 * The mean over `sequences` of each one's mean response-token loss, read
 * back, summed and divided in f32 as the coefficient kernel does.
 */
export async function meanLoss(
  model: Transformer,
  sequences: readonly Sequence[],
): Promise<number> {
  const values = await model.losses(sequences);
  return Math.fround(values.reduce((s, v) => Math.fround(s + v), 0) / values.length);
}

/** Largest |a − b|. */
export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

/** The same random order a client's data loader follows: successive shuffles. */
export function shuffledOrder(stream: RandomStream, n: number, count: number): number[] {
  const out: number[] = [];
  const all = Array.from({ length: n }, (_, i) => i);
  while (out.length < count) out.push(...stream.shuffle(all));
  return out.slice(0, count);
}
