/**
 * IID partition: a uniform random permutation cut into near-equal parts —
 * GSM8K's 3 clients (paper.md §5.2). As in the official code's non-Dirichlet
 * branch, the first k−1 clients get ⌊N/k⌋ examples and the last one the rest.
 *
 * @module
 */

import { RandomStream } from "../../random/stream.ts";

/**
 * Splits `n` examples IID over `clients` clients.
 *
 * @example
 * ```ts
 * import { iidPartition } from "./iid.ts";
 * console.log(iidPartition(10, 3, 7).map((p) => p.length)); // [3, 3, 4]
 * ```
 */
export function iidPartition(n: number, clients: number, seed: number): number[][] {
  if (!Number.isInteger(n) || n < 0) {
    throw new RangeError(`Cannot partition ${n} examples: expected a non-negative integer`);
  }
  if (!Number.isInteger(clients) || clients < 1 || clients > Math.max(1, n)) {
    throw new RangeError(`Cannot partition ${n} examples over ${clients} clients`);
  }
  const order = new RandomStream(seed, "fl/partition/iid").shuffle(
    Array.from({ length: n }, (_, i) => i),
  );
  const each = Math.floor(n / clients);
  return Array.from(
    { length: clients },
    (_, j) => order.slice(j * each, j === clients - 1 ? n : (j + 1) * each),
  );
}
