import assert from "node:assert/strict";
import { toCsv } from "../../src/experiment/csv.ts";
import { formatNumber } from "../../src/experiment/format.ts";
import { toManifest } from "../../src/experiment/manifest.ts";
import { toMarkdown } from "../../src/experiment/markdown.ts";
import { figureSvg } from "../../src/experiment/plot.ts";
import { runExperiment } from "../../src/experiment/runner.ts";
import { lineFigure, RunCounter, scoreTable } from "./_fixtures.ts";

Deno.test("formatNumber: fixed, scientific and signed zero", () => {
  assert.equal(formatNumber(24.994, 2), "24.99");
  assert.equal(formatNumber(-0.0001, 2), "0.00");
  assert.equal(formatNumber(6.0e9, "sci"), "6.00e9");
  assert.equal(formatNumber(7800, "sci"), "7.80e3");
  assert.equal(formatNumber(9999.9, "sci"), "1.00e4");
  assert.equal(formatNumber(NaN, 2), "NaN");
});

Deno.test("CSV is wide, numbers only, with a std column per metric", async () => {
  const run = await runExperiment(scoreTable(new RunCounter()), { scale: "smoke" });
  const lines = toCsv(run).trimEnd().split("\n");
  assert.equal(lines[0], "row,label,acc,acc_std,loss,loss_std");
  assert.equal(lines.length, 4);
  assert.equal(lines[1], "a,A,2,1,8,1"); // values 1, 2, 3: sample std 1
});

Deno.test("Markdown: paper layout, ours beside the paper's, best bold, second underlined", async () => {
  const run = await runExperiment(scoreTable(new RunCounter()), { scale: "smoke" });
  const md = toMarkdown(run);
  assert.match(md, /^# Scores — A test table\./);
  assert.match(md, /\| Method \| Data · Acc \| Data · Loss \|/);
  // acc (higher better): B 6 best, A 2 and C 2 tie for second (first in row order wins).
  assert.match(md, /\| B \| \*\*6\.00 ± 2\.00\*\* \(paper 6\.10\) \|/);
  assert.match(md, /\| A \| <u>2\.00 ± 1\.00<\/u> \(paper 2\.00 ± 0\.50\) \|/);
  assert.match(md, /\| C \| 2\.00 ± 0\.00 \(paper —\) \|/);
  // loss (lower better): B best (4), then A/C (8).
  assert.match(md, /\*\*4\.0 ± 2\.0\*\*/);
});

Deno.test("Markdown of a figure lists its points beside the paper's", async () => {
  const run = await runExperiment(lineFigure(), { scale: "smoke" });
  const md = toMarkdown(run);
  assert.match(md, /!\[Line\]\(line\.svg\)/);
  assert.match(md, /\| \(a\) y \| y \| 1\.0000 \| 10\.5000 \| 10\.0000 \|/);
});

Deno.test("SVG figures render with the panel's axes, deterministically", async () => {
  const figure = lineFigure();
  const run = await runExperiment(figure, { scale: "smoke" });
  const svg = await figureSvg(figure, run.points!);
  assert.ok(svg.startsWith("<svg"));
  assert.match(svg, /\(a\) y/);
  assert.equal(await figureSvg(figure, run.points!), svg);
});

Deno.test("the manifest records how a result was made", async () => {
  const run = await runExperiment(scoreTable(new RunCounter()), { scale: "smoke" });
  const manifest = toManifest(run, { command: "deno task reproduce scores", gitCommit: null });
  assert.equal(manifest.command, "deno task reproduce scores");
  assert.equal(manifest.scale, "smoke");
  assert.deepEqual(manifest.seeds, [0, 1, 2]);
  assert.deepEqual(manifest.config, { offset: 0 });
  assert.equal(manifest.deno, Deno.version.deno);
  assert.equal(manifest.cells.length, 9);
  assert.deepEqual(manifest.cells[0]!.result, { acc: 1, loss: 9 });
});
