/**
 * Statistics of a partition for reports: samples per client, the label
 * histogram of each client, and two numbers that make label skew visible
 * (paper.md §5.1: Dolly is split "with varying levels of label
 * distribution skew").
 *
 * @module
 */

/** Counts describing how examples (and their labels) are spread over clients. */
export interface PartitionStats {
  /** Number of clients. */
  readonly numClients: number;
  /** Training examples over all clients. */
  readonly trainExamples: number;
  /** Examples of each client. */
  readonly samplesPerClient: readonly number[];
  /** Smallest client. */
  readonly minClientSize: number;
  /** Largest client. */
  readonly maxClientSize: number;
  /** Every label seen in training, sorted. */
  readonly labels: readonly string[];
  /** Per client: label → count (labels with zero count left out). */
  readonly labelHistograms: readonly Readonly<Record<string, number>>[];
  /**
   * Mean over clients of the total-variation distance between the client's
   * label distribution and the pooled one: 0 for identical mixes, → 1 for
   * clients that each hold labels nobody else holds.
   */
  readonly meanLabelTv: number;
  /** Mean over clients of the share of the client's most frequent label. */
  readonly meanTopLabelShare: number;
}

/**
 * Statistics of a partition given each client's example labels.
 *
 * @example
 * ```ts
 * import { partitionStats } from "./stats.ts";
 * const s = partitionStats([["a", "a"], ["b", "a"]]);
 * console.log(s.samplesPerClient, s.labelHistograms); // [2, 2] [{ a: 2 }, { a: 1, b: 1 }]
 * ```
 */
export function partitionStats(
  clientLabels: readonly (readonly (string | number)[])[],
): PartitionStats {
  const histograms: Record<string, number>[] = [];
  const pooled = new Map<string, number>();
  let total = 0;
  for (const labels of clientLabels) {
    const h = new Map<string, number>();
    for (const raw of labels) {
      const l = String(raw);
      h.set(l, (h.get(l) ?? 0) + 1);
      pooled.set(l, (pooled.get(l) ?? 0) + 1);
    }
    total += labels.length;
    const rec: Record<string, number> = {};
    for (const k of [...h.keys()].sort()) rec[k] = h.get(k)!;
    histograms.push(rec);
  }
  const labels = [...pooled.keys()].sort();
  let tvSum = 0, topSum = 0, counted = 0;
  for (let c = 0; c < clientLabels.length; c++) {
    const n = clientLabels[c]!.length;
    if (n === 0) continue;
    const h = histograms[c]!;
    let tv = 0, top = 0;
    for (const l of labels) {
      const p = (h[l] ?? 0) / n;
      tv += Math.abs(p - pooled.get(l)! / total);
      if (p > top) top = p;
    }
    tvSum += tv / 2;
    topSum += top;
    counted++;
  }
  const sizes = clientLabels.map((l) => l.length);
  return {
    numClients: clientLabels.length,
    trainExamples: total,
    samplesPerClient: sizes,
    minClientSize: sizes.length === 0 ? 0 : Math.min(...sizes),
    maxClientSize: sizes.length === 0 ? 0 : Math.max(...sizes),
    labels,
    labelHistograms: histograms,
    meanLabelTv: counted === 0 ? 0 : tvSum / counted,
    meanTopLabelShare: counted === 0 ? 0 : topSum / counted,
  };
}
