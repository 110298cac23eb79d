/**
 * Training of the byte-level BPE tokenizer of the built-in suites (DESIGN.md
 * §3 "Tokenizers"): GPT-2-style byte-level BPE with every digit its own
 * pre-token, written as a Hugging Face `tokenizer.json` so that it loads and
 * runs through {@linkcode HfTokenizer} — the same code path as a real
 * checkpoint's tokenizer.
 *
 * Applying the tokenizer is Tokenizers.js's job (the pipeline behind
 * `HfTokenizer`); training is the one part that library lacks, and it is
 * small: the training texts are cut into pre-tokens **by the library's own
 * pre-tokenizer** (so training sees exactly the pieces encoding will see),
 * then the most frequent adjacent pair of symbols is merged until the
 * vocabulary is full. Ties go to the pair whose symbols sort first, so the
 * result is a pure function of the texts and the size.
 *
 * Vocabulary layout: `<s>`, `</s>`, `<pad>` (ids 0–2), the 256 byte symbols
 * in byte order (ids 3–258), then one id per merge in merge order. Byte-level
 * symbols cover every UTF-8 text, so nothing is ever unknown.
 *
 * @module
 */

import { Tokenizer as HfPipeline } from "npm:@huggingface/tokenizers@0.2.0";

/** The special tokens, in id order. */
const SPECIALS = ["<s>", "</s>", "<pad>"] as const;

/** Ids below this are special tokens or byte symbols; merges come after. */
const BASE_VOCAB = SPECIALS.length + 256;

/** Digits one by one (numbers are spelled digit by digit), then GPT-2's byte-level split. */
const PRE_TOKENIZER = {
  type: "Sequence",
  pretokenizers: [
    { type: "Digits", individual_digits: true },
    { type: "ByteLevel", add_prefix_space: false, trim_offsets: true, use_regex: true },
  ],
};

/** GPT-2's printable stand-ins for the 256 bytes (the byte-level alphabet). */
function byteSymbols(): string[] {
  const printable = (b: number) =>
    (b >= 0x21 && b <= 0x7e) || (b >= 0xa1 && b <= 0xac) || (b >= 0xae && b <= 0xff);
  let next = 256;
  return Array.from({ length: 256 }, (_, b) => String.fromCodePoint(printable(b) ? b : next++));
}

/** `tokenizer.json` of a byte-level BPE with `merges` (pairs of symbols, in rank order). */
function tokenizerJson(merges: readonly (readonly [string, string])[]): Record<string, unknown> {
  const vocab: Record<string, number> = {};
  SPECIALS.forEach((token, id) => vocab[token] = id);
  byteSymbols().forEach((symbol, b) => vocab[symbol] = SPECIALS.length + b);
  merges.forEach(([a, b], i) => vocab[a + b] = BASE_VOCAB + i);
  return {
    version: "1.0",
    truncation: null,
    padding: null,
    added_tokens: SPECIALS.map((content, id) => ({
      id,
      content,
      single_word: false,
      lstrip: false,
      rstrip: false,
      normalized: false,
      special: true,
    })),
    normalizer: null,
    pre_tokenizer: PRE_TOKENIZER,
    post_processor: null,
    decoder: { type: "ByteLevel", add_prefix_space: false, trim_offsets: true, use_regex: true },
    model: {
      type: "BPE",
      dropout: null,
      unk_token: null,
      continuing_subword_prefix: null,
      end_of_word_suffix: null,
      fuse_unk: false,
      byte_fallback: false,
      ignore_merges: false,
      vocab,
      merges: merges.map(([a, b]) => [a, b]),
    },
  };
}

/**
 * The `tokenizer_config.json` that goes with {@linkcode trainBpe}'s
 * tokenizer: its special tokens, and decoding that gives back the exact text.
 *
 * @example
 * ```ts
 * import { BPE_TOKENIZER_CONFIG } from "./bpe.ts";
 * console.log(BPE_TOKENIZER_CONFIG.eos_token); // </s>
 * ```
 */
export const BPE_TOKENIZER_CONFIG = {
  bos_token: "<s>",
  eos_token: "</s>",
  pad_token: "<pad>",
  clean_up_tokenization_spaces: false,
} as const;

/** Options of {@linkcode trainBpe}. */
export interface BpeOptions {
  /** Vocabulary size to reach: 259 special and byte ids, then one id per merge. */
  readonly vocabSize: number;
}

/**
 * Trains a byte-level BPE on `texts` up to `vocabSize` ids (fewer when no
 * pair occurs twice) and returns it as a parsed `tokenizer.json`.
 *
 * @example
 * ```ts
 * import { BPE_TOKENIZER_CONFIG, trainBpe } from "./bpe.ts";
 * import { HfTokenizer } from "./hf_tokenizer.ts";
 * const json = trainBpe(["the cat sat", "the cat ran 42"], { vocabSize: 264 });
 * const tok = new HfTokenizer(json, BPE_TOKENIZER_CONFIG);
 * const ids = tok.encode("the cat 42");
 * console.log(ids.length, tok.decode(ids), tok.eos); // 5 the cat 42 1
 * ```
 */
export function trainBpe(texts: Iterable<string>, options: BpeOptions): Record<string, unknown> {
  const { vocabSize } = options;
  if (!Number.isInteger(vocabSize) || vocabSize < BASE_VOCAB) {
    throw new RangeError(
      `Cannot train a BPE of ${vocabSize} ids: it needs at least ${BASE_VOCAB} (3 special + 256 bytes)`,
    );
  }
  const preTokenizer = new HfPipeline(tokenizerJson([]), BPE_TOKENIZER_CONFIG).pre_tokenizer!;
  const counts = new Map<string, number>();
  for (const text of texts) {
    for (const piece of preTokenizer.pre_tokenize(text)) {
      counts.set(piece, (counts.get(piece) ?? 0) + 1);
    }
  }
  // Each distinct pre-token as a list of symbols, with how often it occurs.
  const words = [...counts].map(([piece, count]) => ({ symbols: Array.from(piece), count }));
  const merges: [string, string][] = [];
  while (BASE_VOCAB + merges.length < vocabSize) {
    const best = mostFrequentPair(words);
    if (best === null) break;
    merges.push(best);
    const [a, b] = best;
    for (const word of words) word.symbols = mergePair(word.symbols, a, b);
  }
  return tokenizerJson(merges);
}

/** The most frequent adjacent pair (ties: the pair that sorts first), or null if none repeats. */
function mostFrequentPair(
  words: readonly { symbols: readonly string[]; count: number }[],
): [string, string] | null {
  const pairs = new Map<string, number>();
  for (const { symbols, count } of words) {
    for (let i = 0; i + 1 < symbols.length; i++) {
      // "\u0000" never occurs in a byte-level symbol, so it separates the pair unambiguously.
      const key = symbols[i]! + "\u0000" + symbols[i + 1]!;
      pairs.set(key, (pairs.get(key) ?? 0) + count);
    }
  }
  let best: string | null = null;
  let bestCount = 1;
  for (const [key, count] of pairs) {
    if (count > bestCount || (count === bestCount && best !== null && key < best)) {
      best = key;
      bestCount = count;
    }
  }
  if (best === null) return null;
  const [a, b] = best.split("\u0000") as [string, string];
  return [a, b];
}

/** `symbols` with each non-overlapping occurrence of (a, b), left to right, merged into one. */
function mergePair(symbols: readonly string[], a: string, b: string): string[] {
  const out: string[] = [];
  for (let i = 0; i < symbols.length; i++) {
    if (i + 1 < symbols.length && symbols[i] === a && symbols[i + 1] === b) {
      out.push(a + b);
      i++;
    } else {
      out.push(symbols[i]!);
    }
  }
  return out;
}
