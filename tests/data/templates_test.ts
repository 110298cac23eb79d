import assert from "node:assert/strict";
import { printedTemplate, renderPrompt, TEMPLATES } from "../../extend.ts";

const TABLE7 =
  "Below is an instruction that describes a task, paired with an input that provides further " +
  "context. Write a response that appropriately completes the request.";

Deno.test("Table 7 (NI) is the Alpaca template with input, always", () => {
  const e = { instruction: "Do X.", input: "" };
  assert.equal(
    renderPrompt("ni", e),
    `${TABLE7}\n\n### Instruction:\nDo X.\n\n### Input:\n\n\n### Response:`,
  );
  assert.equal(
    printedTemplate("ni"),
    `${TABLE7}\n\n### Instruction: { }  ### Input: { }  ### Response:`,
  );
});

Deno.test("Dolly templates: Table 8 as printed and the official code's", () => {
  const noCtx = { instruction: "Q?", input: "" };
  const ctx = { instruction: "Q?", input: "C." };
  assert.equal(
    renderPrompt("dolly-paper", noCtx),
    `${TABLE7}\n\n### Instruction:\nQ?\n\n### Response:`,
  );
  assert.equal(
    renderPrompt("dolly-code", noCtx),
    "Below is an instruction that describes a task. Write a response for the task request." +
      "\n\n### Instruction:\nQ?\n\n### Response:",
  );
  assert.equal(
    renderPrompt("dolly-code", ctx),
    "Below is an instruction that describes a task, paired with an input that provides further " +
      "context. Write a response for the task request.\n\n### Instruction:\nQ?\n\n### Input:\nC." +
      "\n\n### Response:",
  );
  assert.ok(
    renderPrompt("alpaca", noCtx).startsWith(
      "Below is an instruction that describes a task. Write a response that appropriately",
    ),
  );
});

Deno.test("renderPrompt substitutes once and rejects unknown templates", () => {
  assert.equal(
    renderPrompt("compact", { instruction: "say {input}", input: "{instruction}" }),
    "Instruction: say {input}\nInput: {instruction}\nResponse:",
  );
  // deno-lint-ignore no-explicit-any
  assert.throws(() => renderPrompt("nope" as any, { instruction: "", input: "" }), RangeError);
  assert.deepEqual(Object.keys(TEMPLATES).sort(), [
    "alpaca",
    "compact",
    "dolly-code",
    "dolly-paper",
    "ni",
  ]);
});
