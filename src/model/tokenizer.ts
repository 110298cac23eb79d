/**
 * The tokenizer interface every part of the toolkit uses, and the byte-level
 * tokenizer of the built-in suites (nothing to download): ids 0–255 are the
 * UTF-8 bytes, then BOS, EOS and PAD.
 *
 * @module
 */

/** Text ↔ token ids, with the special tokens training and generation need. */
export interface Tokenizer {
  /** Size of the vocabulary (the model's embedding rows). */
  readonly vocabSize: number;
  /** Beginning-of-sequence id. */
  readonly bos: number;
  /** End-of-sequence id. */
  readonly eos: number;
  /** Padding id. */
  readonly pad: number;
  /** Token ids of `text` (no special tokens added). */
  encode(text: string): number[];
  /** Text of `ids`, special tokens skipped. */
  decode(ids: readonly number[]): string;
}

/**
 * UTF-8 bytes as tokens: 256 byte ids, then BOS = 256, EOS = 257, PAD = 258.
 *
 * @example
 * ```ts
 * import { ByteTokenizer } from "./tokenizer.ts";
 * const tok = new ByteTokenizer();
 * console.log(tok.encode("hé"), tok.decode(tok.encode("hé"))); // [104, 195, 169] "hé"
 * ```
 */
export class ByteTokenizer implements Tokenizer {
  /** 256 bytes + 3 special tokens. */
  readonly vocabSize = 259;
  /** Beginning of sequence. */
  readonly bos = 256;
  /** End of sequence. */
  readonly eos = 257;
  /** Padding. */
  readonly pad = 258;
  readonly #encoder = new TextEncoder();
  readonly #decoder = new TextDecoder();

  /** UTF-8 bytes of `text`. */
  encode(text: string): number[] {
    return Array.from(this.#encoder.encode(text));
  }

  /** The text of the byte ids in `ids`; special ids are dropped. */
  decode(ids: readonly number[]): string {
    for (const id of ids) {
      if (!Number.isInteger(id) || id < 0 || id >= this.vocabSize) {
        throw new RangeError(`Cannot decode token id ${id}: the vocabulary has ${this.vocabSize}`);
      }
    }
    return this.#decoder.decode(new Uint8Array(ids.filter((id) => id < 256)));
  }
}
