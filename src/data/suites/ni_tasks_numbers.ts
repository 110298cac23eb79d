/**
 * NI-like families over numbers: arithmetic, classification by threshold, parity, category and sentiment, list operations.
 *
 * @module
 */

import type { RandomStream } from "../../random/stream.ts";
import { BAD, between, GOOD, NUMBER_WORDS, numbers, pick, pickDistinct, THINGS } from "./words.ts";
import {
  CATEGORIES,
  LABEL_PAIRS,
  labelsSkill,
  SEPARATORS,
  type TaskSpec,
  variants,
} from "./ni_common.ts";

export function numberTasks(): TaskSpec[] {
  const out: TaskSpec[] = [];
  for (let k = 1; k <= 30; k++) {
    out.push(
      ...variants(
        "add",
        `${k}`,
        [`add ${k}`],
        [`Add ${k} to the number.`, `What is the number plus ${k}?`],
        (rng) => {
          const n = between(rng, 0, 99);
          return { input: String(n), output: String(n + k) };
        },
      ),
    );
    out.push(
      ...variants("sub", `${k}`, [`sub ${k}`], [
        `Subtract ${k} from the number.`,
        `What is the number minus ${k}?`,
      ], (rng) => {
        const n = between(rng, k, 99 + k);
        return { input: String(n), output: String(n - k) };
      }),
    );
  }
  for (let k = 2; k <= 12; k++) {
    out.push(
      ...variants(
        "mul",
        `${k}`,
        [`mul ${k}`],
        [`Multiply the number by ${k}.`, `What is ${k} times the number?`],
        (rng) => {
          const n = between(rng, 0, 30);
          return { input: String(n), output: String(n * k) };
        },
      ),
    );
  }
  for (let a = 2; a <= 5; a++) {
    for (let b = 1; b <= 9; b++) {
      out.push({
        name: `affine_${a}_${b}`,
        family: "affine",
        instruction: `Multiply the number by ${a}, then add ${b}.`,
        // One skill: computing a·n + b is arithmetic of its own, not mul a and add b in turn.
        skills: [`affine ${a} ${b}`],
        generate: (rng) => {
          const n = between(rng, 0, 20);
          return { input: String(n), output: String(a * n + b) };
        },
      });
    }
  }
  for (const [yes, no] of LABEL_PAIRS) {
    const labels = labelsSkill(yes, no);
    out.push(...variants("parity", `${yes}_${no}`, ["parity", labels], [
      `Is the number even? Answer ${yes} or ${no}.`,
      `Answer ${yes} if the number is even, else ${no}.`,
    ], (rng) => {
      const n = between(rng, 0, 999);
      return { input: String(n), output: n % 2 === 0 ? yes : no };
    }));
    for (let k = 10; k <= 90; k += 10) {
      out.push({
        name: `greater_${k}_${yes}_${no}`,
        family: "threshold",
        instruction: `Is the number greater than ${k}? Answer ${yes} or ${no}.`,
        skills: [`threshold ${k}`, labels],
        generate: (rng) => {
          const n = between(rng, 0, 100);
          return { input: String(n), output: n > k ? yes : no };
        },
      });
    }
    for (const [cat, members] of Object.entries(CATEGORIES)) {
      out.push({
        name: `is_${cat}_${yes}_${no}`,
        family: "category",
        instruction: `Is the word a kind of ${cat}? Answer ${yes} or ${no}.`,
        skills: [`is ${cat}`, labels],
        generate: (rng) => {
          const inCat = rng.int(2) === 1;
          const others = Object.entries(CATEGORIES).filter(([c]) => c !== cat).flatMap(([, m]) =>
            m
          );
          return { input: pick<string>(rng, inCat ? members : others), output: inCat ? yes : no };
        },
      });
    }
  }
  // Sentiment answered with its own words, and asked as a yes/no question answered with the
  // label pairs of the other classification families, so label words combine with it too.
  const sentimentPairs = [["positive", "negative"], ["good", "bad"], ["happy", "sad"], ["+", "-"]];
  for (const [pos, neg] of sentimentPairs) {
    out.push(sentimentTask(`${pos}_${neg}`, `Is the review ${pos} or ${neg}?`, pos!, neg!));
  }
  for (const [yes, no] of LABEL_PAIRS) {
    const instruction = `Is the review positive? Answer ${yes} or ${no}.`;
    out.push(sentimentTask(`${yes}_${no}`, instruction, yes, no));
  }
  out.push({
    name: "number_to_words",
    family: "convert",
    instruction: "Write the number in words.",
    skills: ["number_to_words"],
    generate: (rng) => {
      const n = between(rng, 0, 20);
      return { input: String(n), output: NUMBER_WORDS[n]! };
    },
  });
  out.push({
    name: "words_to_number",
    family: "convert",
    instruction: "Write the number word as digits.",
    skills: ["words_to_number"],
    generate: (rng) => {
      const n = between(rng, 0, 20);
      return { input: NUMBER_WORDS[n]!, output: String(n) };
    },
  });
  return out;
}

/** A review of one thing, labelled `pos` when it is good and `neg` when it is bad. */
function sentimentTask(key: string, instruction: string, pos: string, neg: string): TaskSpec {
  return {
    name: `sentiment_${key}`,
    family: "sentiment",
    instruction,
    skills: ["sentiment", labelsSkill(pos, neg)],
    generate: (rng) => {
      const good = rng.int(2) === 1;
      const adj = pick<string>(rng, good ? GOOD : BAD);
      return { input: `The ${pick<string>(rng, THINGS)} was ${adj}.`, output: good ? pos : neg };
    },
  };
}

export function listTasks(): TaskSpec[] {
  const out: TaskSpec[] = [];
  for (const [sep, sepName] of SEPARATORS) {
    const list = (rng: RandomStream) => numbers(rng, between(rng, 3, 6), 0, 99);
    const fmt = (xs: number[]) => xs.length === 0 ? "none" : xs.join(sep);
    const ops: [string, string, (xs: number[]) => string][] = [
      [
        "sort_up",
        "Sort the numbers from smallest to largest.",
        (xs) => fmt(xs.sort((a, b) => a - b)),
      ],
      [
        "sort_down",
        "Sort the numbers from largest to smallest.",
        (xs) => fmt(xs.sort((a, b) => b - a)),
      ],
      ["reverse", "Write the list in reverse order.", (xs) => fmt(xs.reverse())],
      ["max", "Return the largest number in the list.", (xs) => String(Math.max(...xs))],
      ["min", "Return the smallest number in the list.", (xs) => String(Math.min(...xs))],
      ["sum", "Return the sum of the numbers.", (xs) => String(xs.reduce((a, b) => a + b, 0))],
      ["count", "How many numbers are in the list?", (xs) => String(xs.length)],
      ["even", "Keep only the even numbers.", (xs) => fmt(xs.filter((x) => x % 2 === 0))],
      ["odd", "Keep only the odd numbers.", (xs) => fmt(xs.filter((x) => x % 2 === 1))],
    ];
    for (const [key, text, f] of ops) {
      out.push({
        name: `list_${key}_${sepName}`,
        family: "list",
        instruction: `${text} The list is ${sepName} separated.`,
        skills: [`list ${key}`, `sep ${sepName}`],
        generate: (rng) => {
          const xs = list(rng);
          return { input: xs.join(sep), output: f(xs.slice()) };
        },
      });
    }
    for (let k = 1; k <= 3; k++) {
      out.push({
        name: `list_first_${k}_${sepName}`,
        family: "list",
        instruction: `Return the first ${k} items of the list, ${sepName} separated.`,
        skills: [`list first ${k}`, `sep ${sepName}`],
        generate: (rng) => {
          const xs = pickDistinct(rng, THINGS, between(rng, k + 1, 6));
          return { input: xs.join(sep), output: xs.slice(0, k).join(sep) };
        },
      });
      out.push({
        name: `list_last_${k}_${sepName}`,
        family: "list",
        instruction: `Return the last ${k} items of the list, ${sepName} separated.`,
        skills: [`list last ${k}`, `sep ${sepName}`],
        generate: (rng) => {
          const xs = pickDistinct(rng, THINGS, between(rng, k + 1, 6));
          return { input: xs.join(sep), output: xs.slice(-k).join(sep) };
        },
      });
    }
    for (let k = 10; k <= 90; k += 20) {
      out.push({
        name: `list_above_${k}_${sepName}`,
        family: "list",
        instruction: `Keep the numbers greater than ${k}, ${sepName} separated.`,
        skills: [`list above ${k}`, `sep ${sepName}`],
        generate: (rng) => {
          const xs = list(rng);
          const kept = xs.filter((x) => x > k);
          return { input: xs.join(sep), output: kept.length ? kept.join(sep) : "none" };
        },
      });
    }
  }
  return out;
}
