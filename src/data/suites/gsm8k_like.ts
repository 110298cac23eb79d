/**
 * The GSM8K-like built-in suite: arithmetic word problems whose worked
 * solutions use GSM8K's calculator annotations (`<<a+b=c>>`) and end in
 * `#### <number>`; the training problems are split IID over 3 clients and a
 * separate test split is kept (paper.md §5.2). Problems take one or two
 * steps (add, take away, buy in packs, share equally, pay per item).
 *
 * A step is written with spaces around its operator, numbers and
 * annotation, `3 * 12 = <<3*12=36>> 36`, rather than GSM8K's run-together
 * `3*12=<<3*12=36>>36`: Rouge-L compares whitespace-separated words, and in
 * the run-together form a step is one word that scores only when every
 * character matches, so a model that gets the operands or the result right
 * earns nothing for it. Spaced, each number is a word of its own. The
 * annotation and the final `#### <number>` line are kept as GSM8K has them,
 * so exact match still reads the answer after the last `####`.
 *
 * What it cannot mirror: GSM8K's problems are written by people, need two to
 * eight steps of reasoning over varied situations, and use larger numbers;
 * these are short templated stories.
 *
 * @module
 */

import { RandomStream } from "../../random/stream.ts";
import { iidPartition } from "../../fl/partition/iid.ts";
import { type Example, type FederatedDataset, federatedDataset } from "../example.ts";
import type { TemplateId } from "../templates.ts";
import type { Gsm8kLikeSizes } from "./sizes.ts";
import { between, NAMES, pick, plural, THINGS } from "./words.ts";

type Problem = { question: string; answer: string };

/** One worked step: `a op b = <<a op b=c>> c`, each number its own word. */
const step = (a: number, op: string, b: number, c: number) =>
  `${a} ${op} ${b} = <<${a}${op}${b}=${c}>> ${c}`;

const KINDS: readonly ((rng: RandomStream) => Problem)[] = [
  (rng) => {
    const [n, t, a, b] = [
      pick<string>(rng, NAMES),
      pick<string>(rng, THINGS),
      between(rng, 2, 40),
      between(rng, 2, 40),
    ];
    return {
      question: `${n} has ${a} ${plural(t)} and gets ${b} more. How many ${plural(t)} now?`,
      answer: `${step(a, "+", b, a + b)}\n#### ${a + b}`,
    };
  },
  (rng) => {
    const [n, t, b] = [pick<string>(rng, NAMES), pick<string>(rng, THINGS), between(rng, 2, 30)];
    const a = b + between(rng, 1, 40);
    return {
      question: `${n} has ${a} ${plural(t)} and gives away ${b}. How many are left?`,
      answer: `${step(a, "-", b, a - b)}\n#### ${a - b}`,
    };
  },
  (rng) => {
    const [n, t, a, b] = [
      pick<string>(rng, NAMES),
      pick<string>(rng, THINGS),
      between(rng, 2, 9),
      between(rng, 2, 12),
    ];
    return {
      question: `${n} buys ${a} packs of ${b} ${plural(t)}. How many ${plural(t)} in all?`,
      answer: `${step(a, "*", b, a * b)}\n#### ${a * b}`,
    };
  },
  (rng) => {
    const [n, t, b, q] = [
      pick<string>(rng, NAMES),
      pick<string>(rng, THINGS),
      between(rng, 2, 9),
      between(rng, 2, 12),
    ];
    return {
      question: `${n} shares ${b * q} ${plural(t)} equally among ${b} friends. How many each?`,
      answer: `${step(b * q, "/", b, q)}\n#### ${q}`,
    };
  },
  (rng) => {
    const [n, t, a, p] = [
      pick<string>(rng, NAMES),
      pick<string>(rng, THINGS),
      between(rng, 2, 9),
      between(rng, 2, 15),
    ];
    return {
      question: `${n} buys ${a} ${plural(t)} at $${p} each. How much does ${n} pay?`,
      answer: `${step(a, "*", p, a * p)}\n#### ${a * p}`,
    };
  },
  (rng) => {
    const [n, t, a, b] = [
      pick<string>(rng, NAMES),
      pick<string>(rng, THINGS),
      between(rng, 5, 30),
      between(rng, 2, 20),
    ];
    const c = between(rng, 1, a + b - 1);
    return {
      question: `${n} has ${a} ${plural(t)}, gets ${b} more, then loses ${c}. How many are left?`,
      answer: `${step(a, "+", b, a + b)}\n${step(a + b, "-", c, a + b - c)}\n#### ${a + b - c}`,
    };
  },
  (rng) => {
    const [n, t, a, b, k] = [
      pick<string>(rng, NAMES),
      pick<string>(rng, THINGS),
      between(rng, 2, 6),
      between(rng, 2, 9),
      between(rng, 1, 9),
    ];
    return {
      question: `${n} buys ${a} bags of ${b} ${plural(t)} and has ${k} already. How many now?`,
      answer: `${step(a, "*", b, a * b)}\n${step(a * b, "+", k, a * b + k)}\n#### ${a * b + k}`,
    };
  },
];

/** One problem as an example (question = instruction, no input). */
function problem(rng: RandomStream): Example {
  const { question, answer } = KINDS[rng.int(KINDS.length)]!(rng);
  return { instruction: question, input: "", output: answer, label: "gsm8k-like" };
}

/**
 * Builds the GSM8K-like suite.
 *
 * @example
 * ```ts
 * import { gsm8kLikeSuite } from "./gsm8k_like.ts";
 * import { GSM8K_LIKE_SIZES } from "./sizes.ts";
 * const ds = gsm8kLikeSuite(GSM8K_LIKE_SIZES.smoke, 1);
 * console.log(ds.stats.samplesPerClient, ds.test[0]!.output.includes("#### ")); // [8, 8, 8] true
 * console.log(/^\d+ [-+*\/] \d+ = <<[^>]+>> \d+$/m.test(ds.test[0]!.output)); // true
 * ```
 */
export function gsm8kLikeSuite(
  sizes: Gsm8kLikeSizes,
  seed: number,
  template: TemplateId = "compact",
): FederatedDataset {
  const trainRng = new RandomStream(seed, "data/gsm8k-like/train");
  const testRng = new RandomStream(seed, "data/gsm8k-like/test");
  const train = Array.from({ length: sizes.train }, () => problem(trainRng));
  const test = Array.from({ length: sizes.test }, () => problem(testRng));
  const parts = iidPartition(train.length, sizes.clients, seed);
  return federatedDataset({
    name: "gsm8k-like",
    clients: parts.map((p) => p.map((i) => train[i]!)),
    clientLabels: parts.map((_, j) => `client-${j}`),
    test,
    template,
  });
}
