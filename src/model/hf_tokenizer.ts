/**
 * Real checkpoints' tokenizers (`tokenizer.json` + `tokenizer_config.json`)
 * behind the toolkit's {@linkcode Tokenizer} interface (DESIGN.md §3
 * "Tokenizers").
 *
 * The work is done by `@huggingface/tokenizers` (Tokenizers.js), Hugging
 * Face's own pure TypeScript implementation of the `tokenizers` pipeline
 * (normalizers, pre-tokenizers, BPE/WordPiece/Unigram with byte fallback,
 * post-processors, decoders): no native code and no dependencies, so it
 * runs in Deno with no flags. It is the tokenizer half of
 * `@huggingface/transformers`, without the ONNX runtime that package pulls in.
 *
 * @module
 */

import { Tokenizer as HfPipeline } from "npm:@huggingface/tokenizers@0.2.0";
import { join } from "node:path";
import type { Tokenizer } from "./tokenizer.ts";

/**
 * The tokenizer file of a checkpoint directory.
 *
 * @example
 * ```ts
 * import { TOKENIZER_FILE } from "./hf_tokenizer.ts";
 * console.log(TOKENIZER_FILE); // tokenizer.json
 * ```
 */
export const TOKENIZER_FILE = "tokenizer.json";
/**
 * Special-token settings next to it (optional).
 *
 * @example
 * ```ts
 * import { TOKENIZER_CONFIG_FILE } from "./hf_tokenizer.ts";
 * console.log(TOKENIZER_CONFIG_FILE); // tokenizer_config.json
 * ```
 */
export const TOKENIZER_CONFIG_FILE = "tokenizer_config.json";

/** Overrides for the special tokens, as token strings or ids. */
export interface HfTokenizerOptions {
  /** Beginning of sequence (default: `bos_token` of the config, else `<s>`). */
  bos?: string | number;
  /** End of sequence (default: `eos_token` of the config, else `</s>`). */
  eos?: string | number;
  /** Padding (default: `pad_token` of the config, else the EOS token). */
  pad?: string | number;
}

/** The content of a special-token setting: a string or a serialised AddedToken. */
function tokenContent(value: unknown): string | undefined {
  if (typeof value === "string") return value;
  if (typeof value === "object" && value !== null && "content" in value) {
    const content = (value as { content: unknown }).content;
    if (typeof content === "string") return content;
  }
  return undefined;
}

/**
 * A Hugging Face `tokenizer.json` as a {@linkcode Tokenizer}. `encode` adds
 * no special tokens (prompt building adds BOS/EOS where the recipe says);
 * `decode` skips them, as the paper's evaluation does (paper.md §5.1).
 *
 * @example
 * ```ts
 * import { HfTokenizer } from "./hf_tokenizer.ts";
 * const tok = new HfTokenizer({
 *   version: "1.0",
 *   added_tokens: [
 *     { id: 0, content: "<s>", special: true, single_word: false, lstrip: false, rstrip: false, normalized: false },
 *     { id: 1, content: "</s>", special: true, single_word: false, lstrip: false, rstrip: false, normalized: false },
 *   ],
 *   normalizer: null,
 *   pre_tokenizer: { type: "Whitespace" },
 *   post_processor: null,
 *   decoder: { type: "WordPiece", prefix: "##", cleanup: true },
 *   model: { type: "WordPiece", unk_token: "[UNK]", continuing_subword_prefix: "##",
 *     max_input_chars_per_word: 100, vocab: { "<s>": 0, "</s>": 1, "[UNK]": 2, "hi": 3, "there": 4 } },
 * });
 * console.log(tok.encode("hi there"), tok.bos, tok.eos, tok.decode([0, 3, 4, 1])); // [3, 4] 0 1 "hi there"
 * ```
 */
export class HfTokenizer implements Tokenizer {
  /** One more than the largest id (vocabulary and added tokens). */
  readonly vocabSize: number;
  /** Beginning-of-sequence id. */
  readonly bos: number;
  /** End-of-sequence id. */
  readonly eos: number;
  /** Padding id. */
  readonly pad: number;
  readonly #pipeline: HfPipeline;

  /**
   * Builds the tokenizer from parsed JSON (see {@linkcode HfTokenizer.load} for a directory).
   *
   * @param tokenizerJson the parsed `tokenizer.json`
   * @param tokenizerConfig the parsed `tokenizer_config.json` (special tokens, clean-up flags)
   * @param options special-token overrides
   * @param source names the tokenizer in error messages
   */
  constructor(
    tokenizerJson: unknown,
    tokenizerConfig: unknown = {},
    options: HfTokenizerOptions = {},
    source = "tokenizer",
  ) {
    const action = `load ${source}`;
    if (typeof tokenizerJson !== "object" || tokenizerJson === null) {
      throw new TypeError(`Cannot ${action}: tokenizer.json is not a JSON object`);
    }
    const config =
      (typeof tokenizerConfig === "object" && tokenizerConfig !== null
        ? tokenizerConfig
        : {}) as Record<string, unknown>;
    try {
      this.#pipeline = new HfPipeline(tokenizerJson, config);
    } catch (error) {
      throw new TypeError(`Cannot ${action}: ${(error as Error).message}`, { cause: error });
    }
    let max = -1;
    for (const id of this.#pipeline.get_vocab(true).values()) max = Math.max(max, id);
    this.vocabSize = max + 1;
    const resolve = (
      role: string,
      override: string | number | undefined,
      configured: unknown,
      fallback: string | number,
    ): number => {
      const wanted = override ?? tokenContent(configured) ?? fallback;
      const id = typeof wanted === "number" ? wanted : this.#pipeline.token_to_id(wanted);
      if (id === undefined || !Number.isInteger(id) || id < 0 || id >= this.vocabSize) {
        throw new RangeError(
          `Cannot ${action}: the ${role} token ${
            JSON.stringify(wanted)
          } is not in the vocabulary ` +
            `(set ${role}_token in ${TOKENIZER_CONFIG_FILE} or pass the ${role} option)`,
        );
      }
      return id;
    };
    this.bos = resolve("bos", options.bos, config["bos_token"], "<s>");
    this.eos = resolve("eos", options.eos, config["eos_token"], "</s>");
    this.pad = resolve("pad", options.pad, config["pad_token"], this.eos);
  }

  /**
   * Loads `tokenizer.json` (and `tokenizer_config.json` when present) from
   * checkpoint directory `dir`.
   *
   * @example
   * ```ts
   * import { HfTokenizer } from "./hf_tokenizer.ts";
   * try {
   *   await HfTokenizer.load("/nonexistent");
   * } catch (error) {
   *   console.log((error as Error).message.startsWith("Cannot load tokenizer /nonexistent")); // true
   * }
   * ```
   */
  static async load(dir: string, options: HfTokenizerOptions = {}): Promise<HfTokenizer> {
    const source = `tokenizer ${dir}`;
    const read = async (file: string, optional: boolean): Promise<unknown> => {
      const path = join(dir, file);
      let text: string;
      try {
        text = await Deno.readTextFile(path);
      } catch (error) {
        if (optional && error instanceof Deno.errors.NotFound) return {};
        // Some checkpoints ship only SentencePiece's tokenizer.model; transformers writes the
        // equivalent tokenizer.json with AutoTokenizer.from_pretrained(d).save_pretrained(d).
        const hint = error instanceof Deno.errors.NotFound
          ? "; a checkpoint with only tokenizer.model needs its tokenizer.json written by " +
            "`AutoTokenizer.from_pretrained(dir).save_pretrained(dir)`"
          : "";
        throw new Error(
          `Cannot load ${source}: ${path} cannot be read (${(error as Error).message})${hint}`,
          { cause: error },
        );
      }
      try {
        return JSON.parse(text);
      } catch (error) {
        throw new TypeError(
          `Cannot load ${source}: ${path} is not valid JSON (${(error as Error).message})`,
        );
      }
    };
    const json = await read(TOKENIZER_FILE, false);
    const config = await read(TOKENIZER_CONFIG_FILE, true);
    return new HfTokenizer(json, config, options, source);
  }

  /** Token ids of `text`; no special tokens are added. */
  encode(text: string): number[] {
    return this.#pipeline.encode(text, { add_special_tokens: false }).ids;
  }

  /** Text of `ids`, special tokens skipped. */
  decode(ids: readonly number[]): string {
    for (const id of ids) {
      if (!Number.isInteger(id) || id < 0 || id >= this.vocabSize) {
        throw new RangeError(`Cannot decode token id ${id}: the vocabulary has ${this.vocabSize}`);
      }
    }
    // The pipeline refuses an empty list; a generation that ended at once is the empty text.
    return ids.length === 0 ? "" : this.#pipeline.decode([...ids], { skip_special_tokens: true });
  }

  /** The id of token string `token`, or `undefined`. */
  tokenToId(token: string): number | undefined {
    return this.#pipeline.token_to_id(token);
  }

  /** The token string of `id`, or `undefined`. */
  idToToken(id: number): string | undefined {
    return this.#pipeline.id_to_token(id);
  }
}
