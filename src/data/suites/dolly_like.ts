/**
 * The Dolly-like built-in suite: instruction/response pairs in Dolly-15K's
 * eight categories, some with a context passage (closed QA, information
 * extraction, summarization), in Dolly's category proportions. As in the
 * paper (paper.md §5.1) the categories are coded alphabetically, code 7
 * (`summarization`) is held out for evaluation, and the rest is split over
 * the clients by Dirichlet label skew (α = 0.5, ≥ 10 examples each) — the
 * same split function the real-file loader uses. A small fixed "world"
 * (people, cities, animals, fruits and facts about them) keeps answers
 * consistent, so open and general QA can be learnt, while brainstorming and
 * creative writing have many valid answers and cap the reachable score.
 *
 * What it cannot mirror: Dolly's texts are free human writing about
 * everything (Wikipedia passages, opinions, long answers); here each text is
 * one or two template sentences, and summarization is a re-ordering of
 * facts rather than real abstraction.
 *
 * @module
 */

import { RandomStream } from "../../random/stream.ts";
import type { Example, FederatedDataset } from "../example.ts";
import { splitDollyRows } from "../loaders/dolly.ts";
import type { TemplateId } from "../templates.ts";
import type { DollyLikeSizes } from "./sizes.ts";
import {
  ANIMALS,
  between,
  CITIES,
  COLORS,
  FRUITS,
  GOOD,
  NAMES,
  pick,
  pickDistinct,
  THINGS,
  TOOLS,
} from "./words.ts";

/**
 * Dolly-15K's categories (sorted, as `pd.Categorical` codes them) and their row counts.
 *
 * @example
 * ```ts
 * import { DOLLY_CATEGORIES } from "./dolly_like.ts";
 * console.log(DOLLY_CATEGORIES[7]); // ["summarization", 1188]
 * ```
 */
export const DOLLY_CATEGORIES: readonly (readonly [string, number])[] = [
  ["brainstorming", 1766],
  ["classification", 2136],
  ["closed_qa", 1773],
  ["creative_writing", 709],
  ["general_qa", 2191],
  ["information_extraction", 1506],
  ["open_qa", 3742],
  ["summarization", 1188],
];

const FRUIT_COLOR: Record<string, string> = {
  apple: "red",
  pear: "green",
  plum: "purple",
  fig: "purple",
  lime: "green",
  kiwi: "brown",
  mango: "orange",
  grape: "green",
  lemon: "yellow",
  peach: "pink",
  melon: "green",
  date: "brown",
  cherry: "red",
  guava: "green",
  berry: "blue",
};
const CITY_COUNTRY: Record<string, string> = {
  Rome: "Italy",
  Oslo: "Norway",
  Lima: "Peru",
  Kyiv: "Ukraine",
  Riga: "Latvia",
  Baku: "Azerbaijan",
  Doha: "Qatar",
  Bern: "Switzerland",
  Nice: "France",
  Pisa: "Italy",
  Cork: "Ireland",
  Agra: "India",
  Hue: "Vietnam",
  Kobe: "Japan",
  Fez: "Morocco",
};
const ANIMAL_SOUND: Record<string, string> = {
  cat: "meows",
  dog: "barks",
  cow: "moos",
  owl: "hoots",
  pig: "oinks",
  bee: "buzzes",
  hen: "clucks",
  duck: "quacks",
  frog: "croaks",
  lion: "roars",
  goat: "bleats",
};
const DAYS = ["Monday", "Tuesday", "Friday", "Sunday"];
const GROUPS: Record<string, readonly string[]> = {
  animal: ANIMALS,
  fruit: FRUITS,
  color: COLORS,
  tool: TOOLS,
};

type Gen = (rng: RandomStream) => { instruction: string; input: string; output: string };

const GENERATORS: Readonly<Record<string, Gen>> = {
  brainstorming: (rng) => {
    const [g, items] = pick<[string, readonly string[]]>(rng, Object.entries(GROUPS));
    const k = between(rng, 2, 4);
    const ask = pick<string>(rng, [
      `Name ${k} ${g}s.`,
      `List ${k} kinds of ${g}.`,
      `Give me ${k} ${g}s I could draw.`,
    ]);
    return { instruction: ask, input: "", output: pickDistinct(rng, items, k).join(", ") };
  },
  classification: (rng) => {
    const [[g1, m1], [g2, m2]] = pickDistinct(rng, Object.entries(GROUPS), 2) as [
      [string, readonly string[]],
      [string, readonly string[]],
    ];
    const items = [
      ...pickDistinct(rng, m1, between(rng, 1, 2)),
      ...pickDistinct(rng, m2, between(rng, 1, 2)),
    ];
    const shown = rng.shuffle(items);
    return {
      instruction: `Classify each as ${g1} or ${g2}: ${shown.join(", ")}`,
      input: "",
      output: shown.map((x) => `${x}: ${m1.includes(x) ? g1 : g2}`).join(", "),
    };
  },
  closed_qa: (rng) => {
    const [n, c, a] = [
      pick<string>(rng, NAMES),
      pick<string>(rng, CITIES),
      pick<string>(rng, ANIMALS),
    ];
    const context = `${n} lives in ${c} and has a ${a}.`;
    return rng.int(2) === 0
      ? { instruction: `Where does ${n} live?`, input: context, output: `${n} lives in ${c}.` }
      : { instruction: `What pet does ${n} have?`, input: context, output: `${n} has a ${a}.` };
  },
  creative_writing: (rng) => {
    const [adj, a, t, c] = [
      pick<string>(rng, GOOD),
      pick<string>(rng, ANIMALS),
      pick<string>(rng, THINGS),
      pick<string>(rng, CITIES),
    ];
    return {
      instruction: `Write one line about a ${adj} ${a}.`,
      input: "",
      output: `The ${adj} ${a} found a ${t} in ${c} and smiled.`,
    };
  },
  general_qa: (rng) => {
    const f = pick<string>(rng, Object.keys(FRUIT_COLOR));
    return {
      instruction: `What color is a ripe ${f}?`,
      input: "",
      output: `A ripe ${f} is ${FRUIT_COLOR[f]}.`,
    };
  },
  information_extraction: (rng) => {
    const names = pickDistinct(rng, NAMES, 3);
    const [c, d] = [pick<string>(rng, CITIES), pick<string>(rng, DAYS)];
    const context = `${names[0]}, ${names[1]} and ${names[2]} went to ${c} on ${d}.`;
    return rng.int(2) === 0
      ? {
        instruction: "Extract the names from the text.",
        input: context,
        output: names.join(", "),
      }
      : { instruction: "Which city and day are mentioned?", input: context, output: `${c}, ${d}` };
  },
  open_qa: (rng) => {
    if (rng.int(2) === 0) {
      const c = pick<string>(rng, Object.keys(CITY_COUNTRY));
      return {
        instruction: `In which country is ${c}?`,
        input: "",
        output: `${c} is in ${CITY_COUNTRY[c]}.`,
      };
    }
    const a = pick<string>(rng, Object.keys(ANIMAL_SOUND));
    return {
      instruction: `What sound does a ${a} make?`,
      input: "",
      output: `A ${a} ${ANIMAL_SOUND[a]}.`,
    };
  },
  summarization: (rng) => {
    const [n, c, d] = [
      pick<string>(rng, NAMES),
      pick<string>(rng, CITIES),
      pick<string>(rng, DAYS),
    ];
    const [t1, t2] = pickDistinct(rng, THINGS, 2);
    return {
      instruction: "Summarize the text in one sentence.",
      input: `${n} went to ${c} on ${d}. There ${n} bought a ${t1} and a ${t2}.`,
      output: `${n} bought a ${t1} and a ${t2} in ${c}.`,
    };
  },
};

/**
 * Builds the Dolly-like suite.
 *
 * @example
 * ```ts
 * import { dollyLikeSuite } from "./dolly_like.ts";
 * import { DOLLY_LIKE_SIZES } from "./sizes.ts";
 * const ds = dollyLikeSuite(DOLLY_LIKE_SIZES.smoke, 1);
 * console.log(ds.clients.length, ds.test.every((e) => e.label === "summarization")); // 4 true
 * ```
 */
export function dollyLikeSuite(
  sizes: DollyLikeSizes,
  seed: number,
  template: TemplateId = "compact",
): FederatedDataset {
  const real = DOLLY_CATEGORIES.reduce((s, [, n]) => s + n, 0);
  const rows: Example[] = [];
  for (const [category, count] of DOLLY_CATEGORIES) {
    const rng = new RandomStream(seed, `data/dolly-like/${category}`);
    const n = Math.max(1, Math.round((count * sizes.total) / real));
    for (let i = 0; i < n; i++) rows.push({ ...GENERATORS[category]!(rng), label: category });
  }
  return splitDollyRows(rows, {
    seed,
    clients: sizes.clients,
    alpha: sizes.alpha,
    minSize: sizes.minSize,
    heldOutCategory: 7,
    name: "dolly-like",
    template,
    where: "built-in dolly-like suite",
  });
}
