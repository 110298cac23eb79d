/**
 * Partitions by an attribute of each example: one client per distinct value.
 * CodeAlpaca is split by programming language into 9 clients and Natural
 * Instructions has one task per client (paper.md §5.1–5.2). No randomness:
 * examples keep their input order inside a client.
 *
 * @module
 */

/** Clients keyed by attribute value. */
export interface AttributePartition {
  /** The attribute value of each client. */
  readonly keys: string[];
  /** Indices into the input of each client's examples. */
  readonly parts: number[][];
}

/**
 * One client per distinct key. Clients are ordered by `order` when given
 * (keys absent from it are refused), else by first appearance.
 *
 * @example
 * ```ts
 * import { partitionByAttribute } from "./by_attribute.ts";
 * console.log(partitionByAttribute(["py", "js", "py"])); // { keys: ["py", "js"], parts: [[0, 2], [1]] }
 * ```
 */
export function partitionByAttribute(
  keys: readonly string[],
  order?: readonly string[],
): AttributePartition {
  const names = order ? [...order] : [...new Set(keys)];
  const index = new Map(names.map((k, i) => [k, i]));
  if (index.size !== names.length) {
    throw new TypeError(`Cannot partition by attribute: the order lists a key twice`);
  }
  const parts: number[][] = names.map(() => []);
  keys.forEach((k, i) => {
    const j = index.get(k);
    if (j === undefined) {
      throw new RangeError(`Cannot partition by attribute: key "${k}" is not in the given order`);
    }
    parts[j]!.push(i);
  });
  return { keys: names, parts };
}

/**
 * One task per client (Natural Instructions): tasks in first-appearance order.
 *
 * @example
 * ```ts
 * import { partitionOneTaskPerClient } from "./by_attribute.ts";
 * console.log(partitionOneTaskPerClient(["t1", "t1", "t2"]).parts); // [[0, 1], [2]]
 * ```
 */
export function partitionOneTaskPerClient(tasks: readonly string[]): AttributePartition {
  return partitionByAttribute(tasks);
}

/**
 * The items of each part.
 *
 * @example
 * ```ts
 * import { applyPartition } from "./by_attribute.ts";
 * console.log(applyPartition(["a", "b", "c"], [[2, 0], [1]])); // [["c", "a"], ["b"]]
 * ```
 */
export function applyPartition<T>(
  items: readonly T[],
  parts: readonly (readonly number[])[],
): T[][] {
  return parts.map((part) =>
    part.map((i) => {
      if (!Number.isInteger(i) || i < 0 || i >= items.length) {
        throw new RangeError(`Cannot apply partition: index ${i} outside 0..${items.length - 1}`);
      }
      return items[i]!;
    })
  );
}
