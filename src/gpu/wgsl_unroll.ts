/**
 * Compile-time loops for WGSL sources. Fast kernels keep their
 * accumulators in named registers (`a0 … a31`) and unroll their inner
 * loops by hand, because a driver may not keep a `var` array in
 * registers; written out, such bodies are dozens of near-identical lines.
 * A kernel writes them once instead:
 *
 *     //! for r in 0..4
 *     let f{r} = a[ar{r} + kk];
 *     //! for c in 0..8
 *     a{8*r+c} = rank4(a{8*r+c}, subgroupBroadcast(f{r}, {c}u), t0, t1, t2, t3);
 *     //! end
 *     //! end
 *
 * and {@linkcode unrollWgsl} expands it to the lines a person would have
 * written (loops nest; `{…}` holds integer arithmetic, `+ − * / %` and
 * parentheses, over the loop variables in scope, `/` truncating). The
 * directives are WGSL comments, so an unexpanded file still reads as WGSL.
 *
 * @module
 */

const FOR = /^\s*\/\/!\s*for\s+([a-z]\w*)\s+in\s+(\d+)\.\.(\d+)\s*$/;
const END = /^\s*\/\/!\s*end\s*$/;
const DIRECTIVE = /^\s*\/\/!/;
const PLACEHOLDER = /\{([\w\s+\-*/%()]+)\}/g;

/** Evaluates integer arithmetic (`+ − * / %`, parentheses) over `scope`. */
function evaluate(expression: string, scope: ReadonlyMap<string, number>): number {
  const tokens = expression.match(/\d+|[a-z]\w*|[+\-*/%()]/g) ?? [];
  if (tokens.join("") !== expression.replace(/\s+/g, "")) {
    throw new SyntaxError(`Cannot unroll WGSL: "{${expression}}" is not integer arithmetic`);
  }
  let at = 0;
  const primary = (): number => {
    const token = tokens[at++];
    if (token === undefined) {
      throw new SyntaxError(`Cannot unroll WGSL: "{${expression}}" ends early`);
    }
    if (token === "(") {
      const value = sum();
      if (tokens[at++] !== ")") {
        throw new SyntaxError(`Cannot unroll WGSL: "{${expression}}" misses ")"`);
      }
      return value;
    }
    if (token === "-") return -primary();
    if (/^\d+$/.test(token)) return Number(token);
    const value = scope.get(token);
    if (value === undefined) {
      throw new SyntaxError(
        `Cannot unroll WGSL: "${token}" in "{${expression}}" is no loop variable`,
      );
    }
    return value;
  };
  const product = (): number => {
    let value = primary();
    while (tokens[at] === "*" || tokens[at] === "/" || tokens[at] === "%") {
      const op = tokens[at++]!;
      const right = primary();
      value = op === "*" ? value * right : op === "/" ? Math.trunc(value / right) : value % right;
    }
    return value;
  };
  const sum = (): number => {
    let value = product();
    while (tokens[at] === "+" || tokens[at] === "-") {
      const op = tokens[at++]!;
      value = op === "+" ? value + product() : value - product();
    }
    return value;
  };
  const value = sum();
  if (at !== tokens.length) {
    throw new SyntaxError(`Cannot unroll WGSL: "{${expression}}" has a stray "${tokens[at]}"`);
  }
  return value;
}

/** Replaces the `{…}` placeholders that name a loop variable; WGSL's own braces stay. */
function substitute(line: string, scope: ReadonlyMap<string, number>): string {
  if (scope.size === 0) return line;
  return line.replace(PLACEHOLDER, (whole, expression: string) => {
    const names = expression.match(/[a-z]\w*/g) ?? [];
    return names.some((n) => scope.has(n)) ? String(evaluate(expression, scope)) : whole;
  });
}

/**
 * Expands the `//! for v in a..b` … `//! end` loops of a WGSL source (see
 * the module doc); a source without them comes back unchanged.
 *
 * @example
 * ```ts
 * import { unrollWgsl } from "./wgsl_unroll.ts";
 * const source = ["//! for i in 0..3", "var a{i} = vec4<f32>(0.0);", "//! end"].join("\n");
 * console.log(unrollWgsl(source)); // var a0 = …\nvar a1 = …\nvar a2 = vec4<f32>(0.0);
 * ```
 */
export function unrollWgsl(source: string): string {
  const lines = source.split("\n");
  let at = 0;
  const block = (scope: ReadonlyMap<string, number>, depth: number): string[] => {
    const out: string[] = [];
    while (at < lines.length) {
      const line = lines[at++]!;
      const loop = line.match(FOR);
      if (loop) {
        const [, name, from, to] = loop;
        if (scope.has(name!)) {
          throw new SyntaxError(`Cannot unroll WGSL: line ${at} reuses loop variable "${name}"`);
        }
        const start = at;
        for (let v = Number(from); v < Number(to); v++) {
          at = start;
          out.push(...block(new Map([...scope, [name!, v]]), depth + 1));
        }
        if (Number(from) >= Number(to)) {
          at = start;
          block(new Map([...scope, [name!, 0]]), depth + 1); // skip the body
        }
        continue;
      }
      if (END.test(line)) {
        if (depth === 0) throw new SyntaxError(`Cannot unroll WGSL: line ${at} ends no loop`);
        return out;
      }
      if (DIRECTIVE.test(line)) {
        throw new SyntaxError(`Cannot unroll WGSL: line ${at} is no directive: ${line.trim()}`);
      }
      out.push(substitute(line, scope));
    }
    if (depth > 0) throw new SyntaxError("Cannot unroll WGSL: a loop has no //! end");
    return out;
  };
  return block(new Map(), 0).join("\n");
}
