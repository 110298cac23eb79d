/**
 * Ferret's blocks (paper.md §1.3 Eq. 8, §7 item 3): how the flat parameter
 * vector (tensors laid out one after another in `named_parameters()` order)
 * is cut into L contiguous blocks.
 *
 * @module
 */

import type { Segment } from "../gpu/vector.ts";

/** A named tensor of the flat vector, in layout order. */
export interface TensorInfo {
  /** Hugging Face name, e.g. `model.layers.0.self_attn.q_proj.weight`. */
  readonly name: string;
  /** Number of elements. */
  readonly size: number;
}

/** A block: a contiguous run of whole tensors. */
export interface Block extends Segment {
  /** Names of the tensors in the block, in order. */
  readonly tensors: readonly string[];
}

/** How tensors are grouped into blocks. */
export type GroupingRule = "per-tensor" | "official" | "single";

/**
 * Every grouping rule.
 *
 * @example
 * ```ts
 * import { GROUPING_RULES } from "./blocks.ts";
 * console.log(GROUPING_RULES.includes("official")); // true
 * ```
 */
export const GROUPING_RULES: readonly GroupingRule[] = ["per-tensor", "official", "single"];

function median(values: readonly number[]): number {
  const sorted = values.slice().sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/**
 * Groups tensors into blocks.
 *
 * - `per-tensor`: one block per tensor.
 * - `official`: the released code's `_group_parameters` — walk the tensors in
 *   order with target = int(c × median(numel)), c = `multiplier` (0.9); start
 *   a new block when current + next > target and the current one is non-empty
 *   (so a tensor larger than the target is its own block and small ones merge).
 *   Gives L = 194 for DataJuicer-1.3B's shapes (paper.md §4 Fig. 5).
 * - `single`: one block (L = 1).
 *
 * @example
 * ```ts
 * import { groupTensors } from "./blocks.ts";
 * const tensors = [{ name: "a", size: 100 }, { name: "b", size: 4 }, { name: "c", size: 4 }, { name: "d", size: 100 }];
 * console.log(groupTensors(tensors, "official").map((b) => b.tensors.join("+"))); // ["a", "b+c", "d"]
 * ```
 */
export function groupTensors(
  tensors: readonly TensorInfo[],
  rule: GroupingRule,
  multiplier = 0.9,
): Block[] {
  if (tensors.length === 0) throw new RangeError("Cannot group tensors: there are none");
  for (const t of tensors) {
    if (!Number.isSafeInteger(t.size) || t.size < 1) {
      throw new RangeError(`Cannot group tensor "${t.name}" of size ${t.size}`);
    }
  }
  const starts: number[] = [];
  let offset = 0;
  for (const t of tensors) {
    starts.push(offset);
    offset += t.size;
  }
  const make = (from: number, to: number): Block => ({
    start: starts[from]!,
    length: starts[to - 1]! + tensors[to - 1]!.size - starts[from]!,
    tensors: tensors.slice(from, to).map((t) => t.name),
  });
  if (rule === "single") return [make(0, tensors.length)];
  if (rule === "per-tensor") return tensors.map((_, i) => make(i, i + 1));
  if (rule !== "official") {
    throw new TypeError(`Cannot group tensors by "${rule}": expected ${GROUPING_RULES}`);
  }
  if (!(multiplier > 0)) throw new RangeError(`Cannot group with multiplier ${multiplier}`);
  const target = Math.trunc(multiplier * median(tensors.map((t) => t.size)));
  const blocks: Block[] = [];
  let first = 0;
  let current = 0;
  tensors.forEach((t, i) => {
    if (current > 0 && current + t.size > target) {
      blocks.push(make(first, i));
      first = i;
      current = 0;
    }
    current += t.size;
  });
  blocks.push(make(first, tensors.length));
  return blocks;
}
