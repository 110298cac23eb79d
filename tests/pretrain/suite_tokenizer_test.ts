import assert from "node:assert/strict";
import { tokenizeExample } from "../../src/data/batch.ts";
import { builtinSuite, SUITE_NAMES } from "../../src/data/suites/builtin.ts";
import { BPE_TOKENIZER_CONFIG } from "../../src/model/bpe.ts";
import { HfTokenizer } from "../../src/model/hf_tokenizer.ts";
import { ByteTokenizer } from "../../src/model/tokenizer.ts";
import { pretrainTexts } from "../../src/pretrain/pretrain.ts";
import { trainSuiteTokenizer } from "../../src/pretrain/suite_tokenizer.ts";

Deno.test("the suites' tokenizer makes fine-tuning examples several times shorter than bytes", () => {
  const tok = new HfTokenizer(
    trainSuiteTokenizer({ scale: "default", vocabSize: 1024, draws: 2 }),
    BPE_TOKENIZER_CONFIG,
  );
  const bytes = new ByteTokenizer();
  for (const name of SUITE_NAMES) {
    // Fine-tuning data (seed 0) is not the corpus (its own seed): the ratio holds on unseen examples.
    const suite = builtinSuite(name, "default", 0);
    let subword = 0;
    let byte = 0;
    for (const example of suite.test) {
      const options = { template: suite.template, maxLength: 100_000 };
      subword += tokenizeExample(example, tok, options).tokens.length;
      byte += tokenizeExample(example, bytes, options).tokens.length;
      assert.equal(tok.decode(tok.encode(example.output)), example.output);
    }
    assert.ok(byte / subword > 2, `${name}: ${byte} bytes vs ${subword} tokens`);
  }
});

Deno.test("excluded labels stay out of the corpus and the tokenizer's texts", () => {
  const all = pretrainTexts({ scale: "smoke" });
  const suite = builtinSuite("ni-like", "smoke", 1_000_003);
  const task = suite.clients[0]![0]!;
  const kept = pretrainTexts({ scale: "smoke", exclude: new Set([task.label]) });
  const removed = suite.clients.flat().filter((e) => e.label === task.label).length;
  assert.equal(kept.length, all.length - removed);
  assert.ok(!kept.some((t) => t.startsWith(task.instruction + "\n")));
  assert.notEqual(
    JSON.stringify(trainSuiteTokenizer({ scale: "smoke", vocabSize: 320 })),
    JSON.stringify(
      trainSuiteTokenizer({ scale: "smoke", vocabSize: 320, exclude: new Set([task.label]) }),
    ),
  );
});
