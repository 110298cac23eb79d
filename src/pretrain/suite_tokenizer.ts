/**
 * The subword tokenizer of the built-in suites: a byte-level BPE
 * (src/model/bpe.ts) trained on the pre-training corpus's texts plus the
 * prompts of one draw rendered in the suites' template, so the template's words ("Instruction:",
 * "Response:") are single tokens too. Numbers are spelled digit by digit.
 * The result is a `tokenizer.json` that loads through
 * {@linkcode HfTokenizer}, exactly as a real checkpoint's tokenizer does.
 *
 * @module
 */

import { trainBpe } from "../model/bpe.ts";
import { renderPrompt } from "../data/templates.ts";
import { builtinSuite, SUITE_NAMES } from "../data/suites/builtin.ts";
import { type CorpusTextOptions, PRETRAIN_CORPUS_SEED, pretrainTexts } from "./pretrain.ts";

/** Options of {@linkcode trainSuiteTokenizer}. */
export interface SuiteTokenizerOptions extends CorpusTextOptions {
  /** Vocabulary size (special tokens and the 256 byte symbols included). */
  readonly vocabSize: number;
}

/**
 * The prompts of one draw of every suite, rendered with the template the
 * suites use at `scale` (training encodes a prompt and its answer apart, so
 * the answers — already in the corpus texts — are not appended).
 */
function promptTexts(options: CorpusTextOptions): string[] {
  return SUITE_NAMES.flatMap((name) => {
    const suite = builtinSuite(name, options.scale, options.seed ?? PRETRAIN_CORPUS_SEED);
    return [...suite.clients.flat(), ...suite.test]
      .filter((e) => !options.exclude?.has(e.label))
      .map((e) => renderPrompt(suite.template, e));
  });
}

/**
 * Trains the suites' BPE tokenizer: a pure function of its options.
 *
 * @example
 * ```ts
 * import { trainSuiteTokenizer } from "./suite_tokenizer.ts";
 * import { BPE_TOKENIZER_CONFIG } from "../model/bpe.ts";
 * import { HfTokenizer } from "../model/hf_tokenizer.ts";
 * const tok = new HfTokenizer(trainSuiteTokenizer({ scale: "smoke", vocabSize: 320 }), BPE_TOKENIZER_CONFIG);
 * console.log(tok.vocabSize, tok.encode("Response:").length, tok.encode("123").length); // 320 1 3
 * ```
 */
export function trainSuiteTokenizer(options: SuiteTokenizerOptions): Record<string, unknown> {
  const texts = [
    ...pretrainTexts(options),
    ...promptTexts(options),
  ];
  return trainBpe(texts, { vocabSize: options.vocabSize });
}
