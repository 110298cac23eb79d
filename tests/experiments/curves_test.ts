import assert from "node:assert/strict";
import type { CellOutcome } from "../../src/experiment/define.ts";
import { barPoints, curvePoints, pointStat, secondHalfStat } from "../../experiments/_curves.ts";

// Two series over seeds 3 and 1 (stored out of order): curves of rounds 0 … 4 and a bar value.
const outcome = (row: string, seed: number, evalLoss: number[], rougeL: number): CellOutcome => ({
  key: `curve/${row}/seed=${seed}`,
  row,
  seed,
  result: { evalLoss, rougeL },
  seconds: 0,
  cached: false,
});
const OUTCOMES = [
  outcome("A", 3, [5, 4, 3, 2, 1], 10),
  outcome("A", 1, [5, 4.5, 4, 3.5, 3], 20),
  outcome("B", 1, [5, 5, 5, 5, 5], 30),
  outcome("B", 3, [5, 5, 4, 4, 4], 40),
];

Deno.test("curve and bar points keep the per-seed values, in seed order, for paired checks", () => {
  const points = [
    ...curvePoints(OUTCOMES, "convergence", ["A", "B"]),
    ...barPoints(OUTCOMES, "generalization", "rougeL", ["A", "B"]),
  ];
  const last = points.find((p) => p.series === "A" && p.x === 4)!;
  assert.deepEqual([last.y, last.values, last.seeds], [2, [3, 1], [1, 3]]);
  const final = pointStat(points, "convergence", "A")!;
  assert.deepEqual([final.mean, final.values, final.seeds], [2, [3, 1], [1, 3]]);
  assert.deepEqual(pointStat(points, "generalization", "B", "B")!.values, [30, 40]);
  assert.equal(pointStat(points, "convergence", "C"), undefined);
  // Second half of R = 4 rounds: rounds 2, 3, 4. Seed 1: (4 + 3.5 + 3)/3, seed 3: (3 + 2 + 1)/3.
  const half = secondHalfStat(points, "convergence", "A")!;
  assert.deepEqual(half.seeds, [1, 3]);
  assert.ok(Math.abs(half.values[0]! - 3.5) < 1e-12 && Math.abs(half.values[1]! - 2) < 1e-12);
});
