/**
 * Prompt templates (paper.md §3 Tables 7–8, §5, §7 item 11). A template turns
 * an example's instruction and input into the prompt; the response follows
 * the prompt directly (the official code appends `output + EOS` with no
 * separator) and only the response is trained on.
 *
 * - `ni` — Table 7, the Alpaca template with input, used for every NI
 *   instance (the official NI loader always uses the input variant, even
 *   for an empty input).
 * - `dolly-paper` — Table 8 as printed: Table 7's text, with the
 *   `### Input:` block left out when the example has no context.
 * - `dolly-code` — what the official Dolly loader ran (§7 item 11): "Write a
 *   response for the task request." and its no-input variant, which also
 *   drops "paired with an input that provides further context".
 * - `alpaca` — the Stanford Alpaca pair (input / no-input), for CodeAlpaca
 *   and GSM8K, whose code is not released [our assumption].
 * - `compact` — a short template for the built-in suites at small scales,
 *   so a tiny model spends its compute on the task, not on a
 *   200-byte preamble (not from the paper).
 *
 * @module
 */

/** Names of the templates in {@linkcode TEMPLATES}. */
export type TemplateId = "ni" | "dolly-paper" | "dolly-code" | "alpaca" | "compact";

/** A prompt template: `{instruction}` and `{input}` are replaced. */
export interface PromptTemplate {
  /** Identifier. */
  readonly id: TemplateId;
  /** Where it comes from. */
  readonly source: string;
  /** Template used when the input is non-empty. */
  readonly withInput: string;
  /** Template used when the input is empty (`null`: always use `withInput`). */
  readonly withoutInput: string | null;
}

const ALPACA_PREAMBLE_INPUT =
  "Below is an instruction that describes a task, paired with an input that provides further " +
  "context. Write a response that appropriately completes the request.";
const ALPACA_PREAMBLE_NO_INPUT =
  "Below is an instruction that describes a task. Write a response that appropriately " +
  "completes the request.";
const DOLLY_PREAMBLE_INPUT =
  "Below is an instruction that describes a task, paired with an input that provides further " +
  "context. Write a response for the task request.";
const DOLLY_PREAMBLE_NO_INPUT =
  "Below is an instruction that describes a task. Write a response for the task request.";
const BODY_INPUT = "\n\n### Instruction:\n{instruction}\n\n### Input:\n{input}\n\n### Response:";
const BODY_NO_INPUT = "\n\n### Instruction:\n{instruction}\n\n### Response:";

/**
 * Every template, by id.
 *
 * @example
 * ```ts
 * import { TEMPLATES } from "./templates.ts";
 * console.log(TEMPLATES.ni.withInput.split("\n\n")[1]); // "### Instruction:\n{instruction}"
 * ```
 */
export const TEMPLATES: Readonly<Record<TemplateId, PromptTemplate>> = {
  ni: {
    id: "ni",
    source: "Table 7 (Natural Instructions); the official NI loader",
    withInput: ALPACA_PREAMBLE_INPUT + BODY_INPUT,
    withoutInput: null,
  },
  "dolly-paper": {
    id: "dolly-paper",
    source: 'Table 8 as printed: Table 7 without the "### Input:" line when there is no context',
    withInput: ALPACA_PREAMBLE_INPUT + BODY_INPUT,
    withoutInput: ALPACA_PREAMBLE_INPUT + BODY_NO_INPUT,
  },
  "dolly-code": {
    id: "dolly-code",
    source: "the official Dolly loader (paper.md §7 item 11)",
    withInput: DOLLY_PREAMBLE_INPUT + BODY_INPUT,
    withoutInput: DOLLY_PREAMBLE_NO_INPUT + BODY_NO_INPUT,
  },
  alpaca: {
    id: "alpaca",
    source: "Stanford Alpaca (assumed for CodeAlpaca and GSM8K)",
    withInput: ALPACA_PREAMBLE_INPUT + BODY_INPUT,
    withoutInput: ALPACA_PREAMBLE_NO_INPUT + BODY_NO_INPUT,
  },
  compact: {
    id: "compact",
    source: "built-in suites at smoke/default scale (not from the paper)",
    withInput: "Instruction: {instruction}\nInput: {input}\nResponse:",
    withoutInput: "Instruction: {instruction}\nResponse:",
  },
};

/**
 * The prompt for an example: the template's text with `{instruction}` and
 * `{input}` substituted (literally, so braces in the data are safe).
 *
 * @example
 * ```ts
 * import { renderPrompt } from "./templates.ts";
 * console.log(renderPrompt("compact", { instruction: "Add 1.", input: "2" }));
 * // prints "Instruction: Add 1.\nInput: 2\nResponse:"
 * ```
 */
export function renderPrompt(
  template: TemplateId,
  example: { readonly instruction: string; readonly input: string },
): string {
  const t = TEMPLATES[template];
  if (t === undefined) throw new RangeError(`Cannot render prompt: unknown template "${template}"`);
  const text = example.input === "" && t.withoutInput !== null ? t.withoutInput : t.withInput;
  // One pass, so an instruction containing "{input}" is not substituted again.
  return text.replace(
    /\{(instruction|input)\}/g,
    (_, key: string) => key === "instruction" ? example.instruction : example.input,
  );
}

/**
 * The template as the paper prints it in Tables 7–8: one line, fields shown
 * as `{ }`.
 *
 * @example
 * ```ts
 * import { printedTemplate } from "./templates.ts";
 * console.log(printedTemplate("ni").endsWith("### Instruction: { }  ### Input: { }  ### Response:")); // true
 * ```
 */
export function printedTemplate(template: TemplateId): string {
  const t = TEMPLATES[template];
  if (t === undefined) {
    throw new RangeError(`Cannot print template: unknown template "${template}"`);
  }
  const [preamble, ...rest] = t.withInput.split("\n\n");
  const body = rest.join("  ").replace(/\n/g, " ").replace(/\{(instruction|input)\}/g, "{ }");
  return `${preamble}\n\n${body}`;
}
