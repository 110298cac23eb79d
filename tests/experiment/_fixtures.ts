import { defineFigure, defineTable } from "../../extend.ts";
import type { Cell } from "../../src/experiment/define.ts";

/** Counts how many times each cell actually ran. */
export class RunCounter {
  readonly runs = new Map<string, number>();
  count(key: string): void {
    this.runs.set(key, (this.runs.get(key) ?? 0) + 1);
  }
  total(): number {
    return [...this.runs.values()].reduce((a, b) => a + b, 0);
  }
}

/** A table of three methods over two metrics; `failAt` makes that cell throw (an interruption). */
export function scoreTable(counter: RunCounter, failAt?: string) {
  const methods = { a: [1, 2, 3], b: [4, 6, 8], c: [2, 2, 2] } as const;
  return defineTable({
    id: "scores",
    title: "Scores",
    caption: "A test table.",
    source: "tests",
    rowHeader: "Method",
    scales: { smoke: { params: { offset: 0 }, seeds: [0, 1, 2] } },
    rows: () => Object.keys(methods).map((k) => ({ key: k, label: k.toUpperCase() })),
    columns: [
      { key: "acc", label: "Acc", group: "Data", digits: 2, better: "higher" },
      { key: "loss", label: "Loss", group: "Data", digits: 1, better: "lower" },
    ],
    paper: { a: { acc: { mean: 2, std: 0.5 } }, b: { acc: 6.1 } },
    cells: ({ offset }, seeds) =>
      Object.entries(methods).flatMap(([method, values]) =>
        seeds.map((seed): Cell => ({
          key: `scores/${method}/${seed}`,
          row: method,
          seed,
          run: () => {
            if (failAt === `${method}/${seed}`) throw new Error("interrupted");
            counter.count(`${method}/${seed}`);
            return Promise.resolve({ acc: values[seed]! + offset, loss: 10 - values[seed]! });
          },
        }))
      ),
  });
}

/** A one-panel figure of y = seed-dependent line. */
export function lineFigure() {
  return defineFigure({
    id: "line",
    title: "Line",
    caption: "A test figure.",
    source: "tests",
    scales: { smoke: { params: {}, seeds: [0, 1] } },
    panels: [{
      key: "a",
      title: "(a) y",
      mark: "line",
      x: { title: "x" },
      y: { title: "y", scale: "log" },
    }],
    cells: (_p, seeds) =>
      seeds.map((seed) => ({
        key: `line/${seed}`,
        row: "y",
        seed,
        run: () => Promise.resolve({ y: [1 + seed, 10 + seed, 100 + seed] }),
      })),
    points: (outcomes) =>
      [0, 1, 2].map((x) => {
        const ys = outcomes.map((o) => (o.result.y as number[])[x]!);
        return { panel: "a", series: "y", x, y: ys.reduce((a, b) => a + b) / ys.length };
      }),
    paper: [{ panel: "a", series: "y", x: 1, y: 10 }],
  });
}
