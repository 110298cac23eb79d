/**
 * NI-like families over letters and words: letter games, string operations, extraction and string building.
 *
 * @module
 */

import {
  ANIMALS,
  between,
  CITIES,
  COLORS,
  FRUITS,
  LETTERS,
  NAMES,
  ORDINALS,
  pick,
  pickDistinct,
  plural,
  THINGS,
  VOWELS,
  WORDS,
} from "./words.ts";
import { letterWord, sentence, shift, type TaskSpec, variants } from "./ni_common.ts";

export function letterTasks(): TaskSpec[] {
  const out: TaskSpec[] = [];
  for (let k = 1; k <= 25; k++) {
    out.push(...variants("caesar", `${k}`, [`caesar ${k}`], [
      `Shift each letter forward by ${k} in the alphabet.`,
      `Encode the word with a Caesar shift of ${k}.`,
    ], (rng) => {
      const w = pick<string>(rng, WORDS);
      return { input: w, output: shift(w, k) };
    }));
  }
  for (const c of LETTERS) {
    out.push(...variants("count_letter", c, [`count_letter ${c}`], [
      `Count how many times the letter "${c}" appears.`,
      `How many "${c}" letters does the text contain?`,
    ], (rng) => {
      const ws = Array.from(
        { length: between(rng, 1, 3) },
        () => rng.int(2) ? letterWord(rng, c) : pick<string>(rng, WORDS),
      );
      const text = ws.join(" ");
      return { input: text, output: String([...text].filter((x) => x === c).length) };
    }));
    out.push({
      name: `starts_with_${c}`,
      family: "starts_with",
      instruction: `List the words that start with "${c}", or write none.`,
      skills: [`starts_with ${c}`],
      generate: (rng) => {
        const ws = pickDistinct(rng, [...WORDS, ...ANIMALS, ...FRUITS], between(rng, 3, 5));
        const hit = ws.filter((w) => w[0] === c);
        return { input: ws.join(" "), output: hit.length ? hit.join(" ") : "none" };
      },
    });
  }
  // Vowel → any letter and consonant → vowel, two phrasings each.
  const pairs = [...VOWELS].flatMap((a) => [...LETTERS].filter((b) => b !== a).map((b) => [a, b]))
    .concat(
      [...LETTERS].filter((c) => !VOWELS.includes(c)).flatMap((a) =>
        [...VOWELS].map((b) => [a, b])
      ),
    );
  for (const [a, b] of pairs) {
    out.push(...variants("replace", `${a}_${b}`, [`replace ${a} ${b}`], [
      `Replace every "${a}" with "${b}".`,
      `Change each letter "${a}" into "${b}".`,
    ], (rng) => {
      const ws = pickDistinct(rng, WORDS, between(rng, 1, 3));
      ws[rng.int(ws.length)] = letterWord(rng, a!);
      const text = ws.join(" ");
      return { input: text, output: text.replaceAll(a!, b!) };
    }));
  }
  const cases: [string, string, (s: string) => string][] = [
    ["upper", "Write the text in capital letters.", (s) => s.toUpperCase()],
    [
      "title",
      "Capitalize the first letter of every word.",
      (s) => s.split(" ").map((w) => w[0]!.toUpperCase() + w.slice(1)).join(" "),
    ],
    ["reverse_word", "Spell the word backwards.", (s) => [...s].reverse().join("")],
    ["reverse_words", "Reverse the order of the words.", (s) => s.split(" ").reverse().join(" ")],
    [
      "first_letters",
      "Write the first letter of each word.",
      (s) => s.split(" ").map((w) => w[0]).join(""),
    ],
    ["no_vowels", "Remove all vowels from the text.", (s) => s.replace(/[aeiou]/g, "")],
    ["count_words", "Count the words in the sentence.", (s) => String(s.split(" ").length)],
    [
      "count_vowels",
      "Count the vowels in the text.",
      (s) => String(s.replace(/[^aeiou]/g, "").length),
    ],
    [
      "longest",
      "Return the longest word.",
      (s) => s.split(" ").reduce((a, b) => (b.length > a.length ? b : a)),
    ],
  ];
  for (const [key, text, f] of cases) {
    for (const [lo, hi, kind] of [[1, 1, "word"], [2, 4, "sentence"]] as const) {
      if (key === "reverse_word" && kind === "sentence") continue;
      out.push({
        name: `${key}_${kind}`,
        family: "string",
        instruction: text,
        // The word and sentence tasks share their instruction, so neither is new to a model
        // trained on the other; one component each keeps them out of the held-out tasks.
        skills: [`${key} ${kind}`],
        generate: (rng) => {
          const s = sentence(rng, between(rng, lo, hi));
          return { input: s, output: f(s) };
        },
      });
    }
  }
  return out;
}

export function extractionTasks(): TaskSpec[] {
  const out: TaskSpec[] = [];
  ORDINALS.forEach((ord, k) => {
    out.push({
      name: `nth_word_${k + 1}`,
      family: "extract",
      instruction: `Return the ${ord} word of the sentence.`,
      skills: [`nth_word ${k + 1}`],
      generate: (rng) => {
        const ws = pickDistinct(rng, WORDS, between(rng, k + 1, 6));
        return { input: ws.join(" "), output: ws[k]! };
      },
    });
  });
  const fields: [string, readonly string[]][] = [
    ["name", NAMES],
    ["city", CITIES],
    ["pet", ANIMALS],
    ["color", COLORS],
    ["fruit", FRUITS],
  ];
  for (const [key] of fields) {
    out.push({
      name: `field_${key}`,
      family: "extract",
      instruction: `What is the value of "${key}" in the record?`,
      skills: [`field ${key}`],
      generate: (rng) => {
        const chosen = pickDistinct(rng, fields, 3);
        if (!chosen.some(([k]) => k === key)) chosen[rng.int(3)] = fields.find(([k]) => k === key)!;
        const values = chosen.map(([k, vs]) => [k, pick<string>(rng, vs)] as const);
        return {
          input: values.map(([k, v]) => `${k}: ${v}`).join(", "),
          output: values.find(([k]) => k === key)![1],
        };
      },
    });
  }
  out.push({
    name: "extract_number",
    family: "extract",
    instruction: "Extract the number from the sentence.",
    skills: ["extract_number"],
    generate: (rng) => {
      const n = between(rng, 2, 99);
      return {
        input: `${pick<string>(rng, NAMES)} has ${n} ${plural(pick<string>(rng, THINGS))}.`,
        output: String(n),
      };
    },
  });
  for (let k = 2; k <= 4; k++) {
    out.push({
      name: `repeat_${k}`,
      family: "build",
      instruction: `Repeat the word ${k} times, separated by spaces.`,
      skills: [`repeat ${k}`],
      generate: (rng) => {
        const w = pick<string>(rng, WORDS);
        return { input: w, output: Array(k).fill(w).join(" ") };
      },
    });
  }
  for (const fix of ["ing", "er", "ly", "s", "ed", "ful", "less", "ness"]) {
    out.push({
      name: `suffix_${fix}`,
      family: "build",
      instruction: `Add "${fix}" to the end of the word.`,
      skills: [`suffix ${fix}`],
      generate: (rng) => {
        const w = pick<string>(rng, WORDS);
        return { input: w, output: w + fix };
      },
    });
  }
  for (const fix of ["un", "re", "pre", "mis", "sub", "over"]) {
    out.push({
      name: `prefix_${fix}`,
      family: "build",
      instruction: `Put "${fix}" in front of the word.`,
      skills: [`prefix ${fix}`],
      generate: (rng) => {
        const w = pick<string>(rng, WORDS);
        return { input: w, output: fix + w };
      },
    });
  }
  for (const sep of ["-", "_", "+", "/", "|", "."]) {
    out.push({
      name: `join_${sep}`,
      family: "build",
      instruction: `Join the words with "${sep}".`,
      skills: [`join ${sep}`],
      generate: (rng) => {
        const ws = pickDistinct(rng, WORDS, between(rng, 2, 4));
        return { input: ws.join(" "), output: ws.join(sep) };
      },
    });
  }
  return out;
}
