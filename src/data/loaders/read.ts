/**
 * Reading JSON and JSONL data files with `path:line: reason` errors. Values
 * are parsed with the fast built-in `JSON.parse`; only when something is
 * wrong does a small scanner walk the text to find the line of the syntax
 * error or of the offending value.
 *
 * @module
 */

/**
 * A data file that does not have the expected format; the message is `path:line: reason`.
 *
 * @example
 * ```ts
 * import { DataFormatError } from "./read.ts";
 * console.log(new DataFormatError("data/x.jsonl", 3, 'missing field "answer"').message);
 * // prints 'data/x.jsonl:3: missing field "answer"'
 * ```
 */
export class DataFormatError extends TypeError {
  /** The file. */
  readonly path: string;
  /** 1-based line of the problem. */
  readonly line: number;
  /** What is wrong. */
  readonly reason: string;
  /**
   * Creates the error.
   * @param path the file
   * @param line 1-based line
   * @param reason what is wrong
   */
  constructor(path: string, line: number, reason: string) {
    super(`${path}:${line}: ${reason}`);
    this.name = "DataFormatError";
    this.path = path;
    this.line = line;
    this.reason = reason;
  }
}

/**
 * `parts` joined under `dir` with single slashes: the loaders' paths,
 * without `node:path`, so the built-in suites that share the loaders'
 * splits also load in a browser (src/federation/browser.ts).
 *
 * @example
 * ```ts
 * import { pathIn } from "./read.ts";
 * console.log(pathIn("/data/ni/", "splits", "default")); // /data/ni/splits/default
 * ```
 */
export function pathIn(dir: string, ...parts: string[]): string {
  return [dir.replace(/\/+$/, "") || "/", ...parts].join("/").replace(/^\/\//, "/");
}

/** Reads a UTF-8 text file, naming the path when it cannot. */
export async function readText(path: string): Promise<string> {
  try {
    return await Deno.readTextFile(path);
  } catch (e) {
    throw new Error(`Cannot read ${path}: ${(e as Error).message}`, { cause: e });
  }
}

type Key = string | number;

class Found {
  constructor(readonly line: number) {}
}

/**
 * A JSON walker that tracks lines. `target` set: stops (throwing `Found`) at
 * the value with that key path. Otherwise it validates and throws
 * `{line, reason}` at the first syntax error.
 */
class Scanner {
  i = 0;
  line = 1;
  readonly path: Key[] = [];
  constructor(readonly text: string, readonly target?: readonly Key[]) {}

  fail(reason: string): never {
    throw { line: this.line, reason };
  }

  ws(): void {
    const t = this.text;
    while (this.i < t.length) {
      const c = t[this.i]!;
      if (c === "\n") this.line++;
      else if (c !== " " && c !== "\t" && c !== "\r") return;
      this.i++;
    }
  }

  document(): void {
    this.value();
    this.ws();
    if (this.i < this.text.length) this.fail("unexpected text after the JSON value");
  }

  value(): void {
    this.ws();
    const tg = this.target;
    if (tg && tg.length === this.path.length && tg.every((k, j) => k === this.path[j])) {
      throw new Found(this.line);
    }
    const c = this.text[this.i];
    if (c === "{") this.object();
    else if (c === "[") this.array();
    else if (c === '"') this.string();
    else if (c === "-" || (c !== undefined && c >= "0" && c <= "9")) this.number();
    else if (this.text.startsWith("true", this.i)) this.i += 4;
    else if (this.text.startsWith("false", this.i)) this.i += 5;
    else if (this.text.startsWith("null", this.i)) this.i += 4;
    else {this.fail(
        c === undefined ? "unexpected end of JSON" : `unexpected character ${JSON.stringify(c)}`,
      );}
  }

  object(): void {
    this.i++;
    this.ws();
    if (this.text[this.i] === "}") return void this.i++;
    for (;;) {
      this.ws();
      if (this.text[this.i] !== '"') this.fail("expected a quoted property name");
      const key = this.string();
      this.ws();
      if (this.text[this.i] !== ":") this.fail(`expected ":" after property name "${key}"`);
      this.i++;
      this.path.push(key);
      this.value();
      this.path.pop();
      this.ws();
      const c = this.text[this.i++];
      if (c === "}") return;
      if (c !== ",") this.fail('expected "," or "}" in object');
    }
  }

  array(): void {
    this.i++;
    this.ws();
    if (this.text[this.i] === "]") return void this.i++;
    for (let k = 0;; k++) {
      this.path.push(k);
      this.value();
      this.path.pop();
      this.ws();
      const c = this.text[this.i++];
      if (c === "]") return;
      if (c !== ",") this.fail('expected "," or "]" in array');
    }
  }

  string(): string {
    const start = ++this.i;
    const t = this.text;
    for (;;) {
      const c = t[this.i];
      if (c === undefined) this.fail("unterminated string");
      if (c === '"') break;
      if (c < " ") this.fail("control character inside a string");
      this.i += c === "\\" ? 2 : 1;
    }
    const raw = t.slice(start, this.i++);
    try {
      return JSON.parse(`"${raw}"`);
    } catch {
      return this.fail("invalid escape in string");
    }
  }

  number(): void {
    const m = /^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/.exec(this.text.slice(this.i, this.i + 400));
    if (!m) this.fail("invalid number");
    this.i += m[0].length;
  }
}

/** Line of the first JSON syntax error in `text` (with a reason). */
function syntaxError(text: string): { line: number; reason: string } {
  try {
    new Scanner(text).document();
  } catch (e) {
    if (e instanceof Found) return { line: e.line, reason: "invalid JSON" };
    if (typeof e === "object" && e !== null && "line" in e) {
      return e as { line: number; reason: string };
    }
    throw e;
  }
  return { line: 1, reason: "invalid JSON" };
}

/** Parses a JSON document, throwing {@linkcode DataFormatError} at the bad line. */
export function parseJson(text: string, path: string): unknown {
  try {
    return JSON.parse(text);
  } catch (e) {
    const { line, reason } = syntaxError(text);
    throw new DataFormatError(path, line, `${reason} (${(e as Error).message.split("\n")[0]})`);
  }
}

/** 1-based line where the value at key path `target` starts (1 if not found). */
export function lineOf(text: string, target: readonly Key[]): number {
  try {
    new Scanner(text, target).document();
  } catch (e) {
    if (e instanceof Found) return e.line;
  }
  return 1;
}

/** One parsed JSONL record with its line. */
export interface JsonlRecord {
  /** The parsed value. */
  readonly value: unknown;
  /** 1-based line. */
  readonly line: number;
}

/**
 * Parses JSON Lines: one JSON value per line (`\n` or `\r\n`). A trailing
 * newline is allowed; any other empty line is an error, as it is for a
 * reader that calls `json.loads` on every line.
 */
export function parseJsonl(text: string, path: string): JsonlRecord[] {
  const lines = text.split("\n");
  if (lines.length > 0 && lines[lines.length - 1] === "") lines.pop();
  return lines.map((raw, k) => {
    const body = raw.endsWith("\r") ? raw.slice(0, -1) : raw;
    if (body.trim() === "") throw new DataFormatError(path, k + 1, "empty line");
    try {
      return { value: JSON.parse(body), line: k + 1 };
    } catch (e) {
      throw new DataFormatError(
        path,
        k + 1,
        `invalid JSON (${(e as Error).message.split("\n")[0]})`,
      );
    }
  });
}

/**
 * The string field `key` of `record`, or a {@linkcode DataFormatError}.
 *
 * @param where the file and line to blame
 */
export function stringField(
  record: unknown,
  key: string,
  where: { readonly path: string; readonly line: () => number },
): string {
  if (typeof record !== "object" || record === null || Array.isArray(record)) {
    throw new DataFormatError(
      where.path,
      where.line(),
      `expected an object, got ${typeName(record)}`,
    );
  }
  if (!(key in record)) {
    throw new DataFormatError(where.path, where.line(), `missing field "${key}"`);
  }
  const v = (record as Record<string, unknown>)[key];
  if (typeof v !== "string") {
    throw new DataFormatError(
      where.path,
      where.line(),
      `field "${key}" must be a string, got ${typeName(v)}`,
    );
  }
  return v;
}

/** A readable name of a JSON value's type. */
export function typeName(v: unknown): string {
  return v === null ? "null" : Array.isArray(v) ? "array" : typeof v;
}
