/**
 * Short code-writing tasks for the CodeAlpaca-like suite: a few task kinds
 * (a function that adds, returns the larger of two numbers, squares, tests
 * evenness; code that prints a message or counts up), each rendered in
 * every C-family or scripting client language, plus SQL queries, HTML
 * snippets and x86-64 Assembly (generated only to be excluded, as the paper
 * excludes it).
 *
 * @module
 */

import type { RandomStream } from "../../random/stream.ts";
import { between, COLORS, NAMES, pick } from "./words.ts";

/** One code task instance. */
export interface CodeTask {
  /** The instruction. */
  readonly instruction: string;
  /** Extra input (usually empty). */
  readonly input: string;
  /** The reference code. */
  readonly output: string;
}

type Fn = { name: string; ask: string; body: Record<string, (f: string) => string> };

const FUNCTIONS: readonly Fn[] = [
  {
    name: "add",
    ask: "returns the sum of two numbers",
    body: {
      "C": (f) => `int ${f}(int a, int b) {\n  return a + b;\n}`,
      "C++": (f) => `int ${f}(int a, int b) { return a + b; }`,
      "C#": (f) => `static int ${f}(int a, int b) => a + b;`,
      "Java": (f) => `static int ${f}(int a, int b) {\n  return a + b;\n}`,
      "JavaScript": (f) => `function ${f}(a, b) {\n  return a + b;\n}`,
      "Python": (f) => `def ${f}(a, b):\n    return a + b`,
      "Ruby": (f) => `def ${f}(a, b)\n  a + b\nend`,
    },
  },
  {
    name: "max",
    ask: "returns the larger of two numbers",
    body: {
      "C": (f) => `int ${f}(int a, int b) {\n  return a > b ? a : b;\n}`,
      "C++": (f) => `int ${f}(int a, int b) { return std::max(a, b); }`,
      "C#": (f) => `static int ${f}(int a, int b) => Math.Max(a, b);`,
      "Java": (f) => `static int ${f}(int a, int b) {\n  return Math.max(a, b);\n}`,
      "JavaScript": (f) => `function ${f}(a, b) {\n  return Math.max(a, b);\n}`,
      "Python": (f) => `def ${f}(a, b):\n    return max(a, b)`,
      "Ruby": (f) => `def ${f}(a, b)\n  [a, b].max\nend`,
    },
  },
  {
    name: "square",
    ask: "returns the square of a number",
    body: {
      "C": (f) => `int ${f}(int x) {\n  return x * x;\n}`,
      "C++": (f) => `int ${f}(int x) { return x * x; }`,
      "C#": (f) => `static int ${f}(int x) => x * x;`,
      "Java": (f) => `static int ${f}(int x) {\n  return x * x;\n}`,
      "JavaScript": (f) => `const ${f} = (x) => x * x;`,
      "Python": (f) => `def ${f}(x):\n    return x * x`,
      "Ruby": (f) => `def ${f}(x)\n  x * x\nend`,
    },
  },
  {
    name: "is_even",
    ask: "checks whether a number is even",
    body: {
      "C": (f) => `int ${f}(int n) {\n  return n % 2 == 0;\n}`,
      "C++": (f) => `bool ${f}(int n) { return n % 2 == 0; }`,
      "C#": (f) => `static bool ${f}(int n) => n % 2 == 0;`,
      "Java": (f) => `static boolean ${f}(int n) {\n  return n % 2 == 0;\n}`,
      "JavaScript": (f) => `const ${f} = (n) => n % 2 === 0;`,
      "Python": (f) => `def ${f}(n):\n    return n % 2 == 0`,
      "Ruby": (f) => `def ${f}(n)\n  n.even?\nend`,
    },
  },
];

const PRINT: Record<string, (s: string) => string> = {
  "C": (s) => `printf("${s}\\n");`,
  "C++": (s) => `std::cout << "${s}" << std::endl;`,
  "C#": (s) => `Console.WriteLine("${s}");`,
  "Java": (s) => `System.out.println("${s}");`,
  "JavaScript": (s) => `console.log("${s}");`,
  "Python": (s) => `print("${s}")`,
  "Ruby": (s) => `puts "${s}"`,
};

const LOOP: Record<string, (n: number) => string> = {
  "C": (n) => `for (int i = 1; i <= ${n}; i++)\n  printf("%d\\n", i);`,
  "C++": (n) => `for (int i = 1; i <= ${n}; i++)\n  std::cout << i << "\\n";`,
  "C#": (n) => `for (int i = 1; i <= ${n}; i++)\n  Console.WriteLine(i);`,
  "Java": (n) => `for (int i = 1; i <= ${n}; i++)\n  System.out.println(i);`,
  "JavaScript": (n) => `for (let i = 1; i <= ${n}; i++)\n  console.log(i);`,
  "Python": (n) => `for i in range(1, ${n + 1}):\n    print(i)`,
  "Ruby": (n) => `(1..${n}).each { |i| puts i }`,
};

const FN_NAMES: Record<string, readonly string[]> = {
  add: ["add", "sum", "plus", "total"],
  max: ["larger", "maxOf", "bigger", "top"],
  square: ["square", "sq", "sqr", "pow2"],
  is_even: ["isEven", "even", "checkEven", "evenQ"],
};
const MESSAGES = ["Hello", "Hi there", "Good day", "Done", "Welcome", "Bye"];
const TABLES = ["users", "orders", "items", "books", "pets"];
const COLUMNS = ["age", "price", "score", "year", "size"];

function general(lang: string, rng: RandomStream): CodeTask {
  const kind = rng.int(FUNCTIONS.length + 2);
  if (kind < FUNCTIONS.length) {
    const fn = FUNCTIONS[kind]!;
    const f = pick<string>(rng, FN_NAMES[fn.name]!);
    return {
      instruction: `Write a ${lang} function ${f} that ${fn.ask}.`,
      input: "",
      output: fn.body[lang]!(f),
    };
  }
  if (kind === FUNCTIONS.length) {
    const s = pick<string>(rng, [...MESSAGES, ...NAMES.map((n) => `Hi ${n}`)]);
    return {
      instruction: `Write ${lang} code that prints "${s}".`,
      input: "",
      output: PRINT[lang]!(s),
    };
  }
  const n = between(rng, 3, 9);
  return {
    instruction: `Write a ${lang} loop that prints 1 to ${n}.`,
    input: "",
    output: LOOP[lang]!(n),
  };
}

function sql(rng: RandomStream): CodeTask {
  const [t, c, v] = [pick<string>(rng, TABLES), pick<string>(rng, COLUMNS), between(rng, 1, 99)];
  switch (rng.int(4)) {
    case 0:
      return {
        instruction: `Write a SQL query that selects all rows of ${t}.`,
        input: "",
        output: `SELECT * FROM ${t};`,
      };
    case 1:
      return {
        instruction: `Write a SQL query for ${t} with ${c} above ${v}.`,
        input: "",
        output: `SELECT * FROM ${t} WHERE ${c} > ${v};`,
      };
    case 2:
      return {
        instruction: `Write a SQL query that counts the rows of ${t}.`,
        input: "",
        output: `SELECT COUNT(*) FROM ${t};`,
      };
    default:
      return {
        instruction: `Write a SQL query that sorts ${t} by ${c}.`,
        input: "",
        output: `SELECT * FROM ${t} ORDER BY ${c};`,
      };
  }
}

function html(rng: RandomStream): CodeTask {
  const s = pick<string>(rng, [...MESSAGES, ...NAMES]);
  switch (rng.int(4)) {
    case 0:
      return {
        instruction: `Write HTML for a heading that says ${s}.`,
        input: "",
        output: `<h1>${s}</h1>`,
      };
    case 1:
      return {
        instruction: `Write HTML for a button labelled ${s}.`,
        input: "",
        output: `<button>${s}</button>`,
      };
    case 2: {
      const c = pick<string>(rng, COLORS);
      return {
        instruction: `Write HTML for a ${c} paragraph saying ${s}.`,
        input: "",
        output: `<p style="color:${c}">${s}</p>`,
      };
    }
    default: {
      const items = [s, pick<string>(rng, MESSAGES)];
      return {
        instruction: "Write an HTML list of the items.",
        input: items.join(", "),
        output: `<ul><li>${items[0]}</li><li>${items[1]}</li></ul>`,
      };
    }
  }
}

function assembly(rng: RandomStream): CodeTask {
  const n = between(rng, 1, 99);
  return {
    instruction: `Write x86-64 assembly that adds ${n} to rax.`,
    input: "",
    output: `add rax, ${n}`,
  };
}

/**
 * One code task in `language` (a client language, or `x86-64 Assembly`).
 *
 * @example
 * ```ts
 * import { codeTask } from "./code_tasks.ts";
 * import { RandomStream } from "../../random/stream.ts";
 * console.log(codeTask("SQL", new RandomStream(1, "x")).output.startsWith("SELECT")); // true
 * ```
 */
export function codeTask(language: string, rng: RandomStream): CodeTask {
  if (language === "SQL") return sql(rng);
  if (language === "HTML") return html(rng);
  if (language === "x86-64 Assembly") return assembly(rng);
  if (!(language in PRINT)) throw new RangeError(`Cannot write a code task in "${language}"`);
  return general(language, rng);
}
