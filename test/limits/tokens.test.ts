import { test } from "node:test";
import assert from "node:assert/strict";
import { countRequestTokens, countTextTokens, roughRequestTokens } from "../../src/limits/tokens.ts";

test("text is counted with the o200k_base tokenizer, not characters divided by four", async () => {
  assert.equal(await countTextTokens("hello world"), 2);
  // A long run of one character: BPE merges it into far fewer tokens than length/4.
  assert.ok((await countTextTokens("a".repeat(400))) < 100);
  assert.equal(await countTextTokens(""), 0);
});

test("a request counts its messages, tool calls, reasoning and tool definitions", async () => {
  const base = await countRequestTokens({ model: "m", messages: [{ role: "user", content: "What is the weather in Paris?" }] });
  assert.ok(base > 7 && base < 20, `got ${base}`);
  const withTools = await countRequestTokens({
    model: "m",
    messages: [
      { role: "user", content: "What is the weather in Paris?" },
      { role: "assistant", content: null, tool_calls: [{ id: "c", type: "function", function: { name: "weather", arguments: '{"city":"Paris"}' } }] },
      { role: "tool", tool_call_id: "c", content: "sunny, 21 degrees" },
    ],
    tools: [{ type: "function", function: { name: "weather", description: "Current weather", parameters: { type: "object", properties: { city: { type: "string" } } } } }],
  });
  assert.ok(withTools > base + 20, `tools and calls add tokens: ${base} → ${withTools}`);
});

test("long texts seen again are counted from the cache, with the same answer", async () => {
  const long = "Tell me about the weather in Paris, please, in detail. ".repeat(20);
  const first = await countTextTokens(long);
  assert.equal(await countTextTokens(long), first);
  assert.notEqual(await countTextTokens(`${long} And Oslo.`), first, "a different text is counted anew");
  const req = { model: "m", messages: [{ role: "user" as const, content: long }] };
  assert.equal(await countRequestTokens(req), await countRequestTokens(structuredClone(req)));
});

test("a rough count: about characters / 4, and a bound the exact count never exceeds, whatever the script", async () => {
  const texts = ["hi", "lorem ipsum dolor sit amet ".repeat(40), "日本語のテキストです。".repeat(30), "🙂🚀".repeat(50), "x", "a\u0301\u0302\u0303".repeat(20)];
  for (const content of texts) {
    const req = { model: "m", messages: [{ role: "user" as const, content }, { role: "assistant" as const, content: [{ type: "text" as const, text: content }] }] };
    const rough = roughRequestTokens(req)!;
    const exact = await countRequestTokens(req);
    assert.ok(exact <= rough.bound, `${JSON.stringify(content.slice(0, 12))}: ${exact} > bound ${rough.bound}`);
    assert.ok(rough.estimate <= rough.bound);
  }
  const english = { model: "m", messages: [{ role: "user" as const, content: "lorem ipsum dolor sit amet ".repeat(40) }] };
  const exact = await countRequestTokens(english);
  const { estimate } = roughRequestTokens(english)!;
  assert.ok(Math.abs(estimate - exact) / exact < 0.5, `English: ${estimate} roughly, ${exact} exactly`);
  assert.equal(roughRequestTokens({ ...english, tools: [{ type: "function", function: { name: "f", parameters: {} } }] }), undefined, "tool definitions: no rough count");
});
