/**
 * Dirichlet label-skew partition with a minimum client size — the split
 * behind Dolly-15K's 200 clients (paper.md §5.1: `--iid dir0.5`, α = 0.5,
 * at least 10 samples per client).
 *
 * The algorithm is the classic per-class Dirichlet split the official code
 * uses (FedKSeed/Ferret `partition_idx_labeldir`, the same as FedLab's `dir`
 * partition): for every class in turn, shuffle its indices, draw client
 * proportions p ~ Dir(α·1), zero the share of clients that already hold
 * ≥ N/clients examples, renormalise, and cut the class at
 * ⌊cumsum(p)·n_k⌋. If the smallest client ends with fewer than `minSize`
 * examples the whole split is drawn again. Finally each client's indices
 * are shuffled. All draws come from one named {@linkcode RandomStream}, so
 * the partition is a pure function of (labels, options).
 *
 * @module
 */

import { RandomStream } from "../../random/stream.ts";

/** Options of {@linkcode dirichletPartition}. */
export interface DirichletOptions {
  /** Number of clients (200 for Dolly at paper scale). */
  readonly clients: number;
  /** Concentration α of the symmetric Dirichlet (0.5 in the paper's runs). */
  readonly alpha: number;
  /** Redraw until every client has at least this many examples (10). */
  readonly minSize?: number;
  /** Run seed (u32). */
  readonly seed: number;
  /** Give up after this many draws (default 10 000). */
  readonly maxAttempts?: number;
}

/** The result: indices per client, and how many draws it took. */
export interface DirichletPartition {
  /** Indices into the input of each client's examples. */
  readonly parts: number[][];
  /** Draws until the minimum size held (1 = first draw). */
  readonly attempts: number;
}

/**
 * Splits examples over clients by Dirichlet label skew.
 *
 * @param labels one label per example; classes are the distinct labels in
 *   sorted order (as `pd.Categorical` codes them)
 *
 * @example
 * ```ts
 * import { dirichletPartition } from "./dirichlet.ts";
 * const labels = Array.from({ length: 100 }, (_, i) => i % 4);
 * const { parts } = dirichletPartition(labels, { clients: 5, alpha: 0.5, minSize: 10, seed: 1 });
 * console.log(parts.map((p) => p.length).reduce((a, b) => a + b)); // 100
 * ```
 */
export function dirichletPartition(
  labels: readonly (string | number)[],
  options: DirichletOptions,
): DirichletPartition {
  const { clients, alpha, seed } = options;
  const minSize = options.minSize ?? 10;
  const maxAttempts = options.maxAttempts ?? 10_000;
  const n = labels.length;
  if (!Number.isInteger(clients) || clients < 1) {
    throw new RangeError(`Cannot partition over ${clients} clients: expected a positive integer`);
  }
  if (!(alpha > 0) || !Number.isFinite(alpha)) {
    throw new RangeError(`Cannot partition with Dirichlet α = ${alpha}: α must be positive`);
  }
  if (!Number.isInteger(minSize) || minSize < 0) {
    throw new RangeError(`Cannot partition with minimum client size ${minSize}`);
  }
  if (n < clients * minSize) {
    throw new RangeError(
      `Cannot give ${clients} clients at least ${minSize} examples each: only ${n} examples`,
    );
  }
  const byClass = classIndices(labels);
  const stream = new RandomStream(seed, "fl/partition/dirichlet");
  for (let attempt = 1; attempt <= maxAttempts; attempt++) {
    const parts: number[][] = Array.from({ length: clients }, () => []);
    for (const members of byClass) {
      const idx = stream.shuffle(members);
      const p = stream.dirichlet(alpha, clients);
      // Balance: clients already holding ≥ N/clients examples get no more.
      let sum = 0;
      for (let j = 0; j < clients; j++) {
        if (!(parts[j]!.length < n / clients)) p[j] = 0;
        sum += p[j]!;
      }
      let cum = 0, start = 0;
      for (let j = 0; j < clients; j++) {
        let end: number;
        if (j === clients - 1) end = idx.length;
        else {
          cum += p[j]! / sum;
          end = Math.min(idx.length, Math.max(start, Math.floor(cum * idx.length)));
        }
        for (let i = start; i < end; i++) parts[j]!.push(idx[i]!);
        start = end;
      }
    }
    if (Math.min(...parts.map((part) => part.length)) >= minSize) {
      return { parts: parts.map((part) => stream.shuffle(part)), attempts: attempt };
    }
  }
  throw new RangeError(
    `Cannot reach ${minSize} examples per client for ${clients} clients with α = ${alpha} ` +
      `in ${maxAttempts} draws`,
  );
}

/** Indices of each class, classes in sorted label order (numbers numerically). */
export function classIndices(labels: readonly (string | number)[]): number[][] {
  const keys = [...new Set(labels)];
  keys.sort((a, b) =>
    typeof a === "number" && typeof b === "number" ? a - b : String(a) < String(b) ? -1 : 1
  );
  const index = new Map(keys.map((k, i) => [k, i]));
  const out: number[][] = keys.map(() => []);
  labels.forEach((l, i) => out[index.get(l)!]!.push(i));
  return out;
}
