import assert from "node:assert/strict";
import { join } from "node:path";
import { BPE_TOKENIZER_CONFIG, trainBpe } from "../../src/model/bpe.ts";
import {
  HfTokenizer,
  TOKENIZER_CONFIG_FILE,
  TOKENIZER_FILE,
} from "../../src/model/hf_tokenizer.ts";

type Json = { model: { merges: [string, string][]; vocab: Record<string, number> } };

Deno.test("BPE training merges the most frequent pair first, ties to the pair that sorts first", () => {
  // Pre-tokens of "ab ab cd cd": "ab", "Ġab", "Ġcd", "Ġcd". Pair counts: (a,b) 2, (Ġ,c) 2, (c,d) 2,
  // (Ġ,a) 1 → a+b (sorts first among the ties); then (Ġ,c) 2, (c,d) 2, (Ġ,ab) 1 → c+d;
  // then (Ġ,cd) 2 → Ġ+cd; then nothing occurs twice, so training stops short of vocabSize.
  const json = trainBpe(["ab ab cd cd"], { vocabSize: 300 }) as unknown as Json;
  assert.deepEqual(json.model.merges, [["a", "b"], ["c", "d"], ["Ġ", "cd"]]);
  assert.equal(json.model.vocab["ab"], 259);
  assert.equal(json.model.vocab["Ġcd"], 261);
  assert.equal(Object.keys(json.model.vocab).length, 262);
  const tok = new HfTokenizer(json, BPE_TOKENIZER_CONFIG);
  assert.deepEqual(tok.encode("ab cd"), [259, 261]);
  assert.equal(tok.vocabSize, 262);
});

Deno.test("BPE training fills the vocabulary exactly when the texts allow, and is deterministic", () => {
  const words = ["alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel", "india"];
  const texts = Array.from({ length: 60 }, (_, i) => `${words[i % 9]} ${words[(i * 4) % 9]} ${i}`);
  const a = trainBpe(texts, { vocabSize: 300 });
  assert.equal(JSON.stringify(trainBpe(texts, { vocabSize: 300 })), JSON.stringify(a));
  assert.equal(new HfTokenizer(a, BPE_TOKENIZER_CONFIG).vocabSize, 300);
});

Deno.test("the trained tokenizer round-trips any text, spells digits one by one, and has its special ids", () => {
  const tok = new HfTokenizer(
    trainBpe(["2024 2024 2024 hello hello world"], { vocabSize: 280 }),
    BPE_TOKENIZER_CONFIG,
  );
  for (const text of ["hello world", "2024", "Ünïcödé ✓ 🙂\n\ttabs", "", "  two  spaces "]) {
    assert.equal(tok.decode(tok.encode(text)), text);
  }
  assert.equal(tok.encode("2024").length, 4, "digits are never merged");
  assert.equal(tok.encode("hello").length, 1);
  assert.deepEqual([tok.bos, tok.eos, tok.pad], [0, 1, 2]);
  assert.equal(tok.decode([tok.bos, ...tok.encode("hello"), tok.eos]), "hello");
  assert.equal(tok.decode([]), "");
});

Deno.test("a trained tokenizer.json loads from a checkpoint directory like a real one", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const json = trainBpe(["the cat sat on the mat"], { vocabSize: 270 });
    await Deno.writeTextFile(join(dir, TOKENIZER_FILE), JSON.stringify(json));
    await Deno.writeTextFile(
      join(dir, TOKENIZER_CONFIG_FILE),
      JSON.stringify(BPE_TOKENIZER_CONFIG),
    );
    const loaded = await HfTokenizer.load(dir);
    const direct = new HfTokenizer(json, BPE_TOKENIZER_CONFIG);
    assert.deepEqual(loaded.encode("the cat sat"), direct.encode("the cat sat"));
    assert.equal(loaded.eos, 1);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("BPE training refuses a vocabulary smaller than the bytes and special tokens", () => {
  assert.throws(() => trainBpe(["x"], { vocabSize: 100 }), /at least 259/);
});
