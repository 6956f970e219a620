import { test } from "node:test";
import assert from "node:assert/strict";
import {
  chatChunkEvents,
  chatCompletion,
  embeddings,
  modelList,
  replyTokens,
  textCompletion,
  textCompletionEvents,
} from "../../src/mock/openai-wire.ts";

const meta = { id: "chatcmpl-1", created: 1_700_000_000, model: "m" };

function parseEvents(events: string[]): unknown[] {
  return events.map((e) => {
    assert.ok(e.startsWith("data: ") && e.endsWith("\n\n"), `not an SSE event: ${JSON.stringify(e)}`);
    const data = e.slice(6, -2);
    return data === "[DONE]" ? "[DONE]" : JSON.parse(data);
  });
}

test("replyTokens is deterministic, greets first and honours max_tokens", () => {
  const a = replyTokens({});
  assert.equal(a.length, 12);
  assert.deepEqual(a, replyTokens({}));
  assert.ok(a.join("").startsWith("Hello from the Switchyard mock."));
  assert.equal(replyTokens({}, 300).length, 300);
  assert.equal(replyTokens({ max_tokens: 3 }, 10).length, 3);
  assert.equal(replyTokens({ max_completion_tokens: 2, max_tokens: 5 }, 10).length, 2);
  assert.equal(replyTokens({ max_tokens: 50 }, 4).length, 4);
});

test("chatCompletion has OpenAI's shape, finish_reason and usage", () => {
  const body = { messages: [{ role: "user", content: "x".repeat(40) }] };
  const c = chatCompletion(body, ["Hi", " there"], meta) as any;
  assert.equal(c.object, "chat.completion");
  assert.equal(c.id, "chatcmpl-1");
  assert.deepEqual(c.choices[0].message.role, "assistant");
  assert.equal(c.choices[0].message.content, "Hi there");
  assert.equal(c.choices[0].finish_reason, "stop");
  assert.deepEqual(c.usage, { prompt_tokens: 10, completion_tokens: 2, total_tokens: 12 });
  const cut = chatCompletion({ max_tokens: 2 }, ["a", "b"], meta) as any;
  assert.equal(cut.choices[0].finish_reason, "length");
  assert.equal(cut.usage.prompt_tokens, 1);
});

test("chatChunkEvents: role chunk, one per token, finish, optional usage, [DONE]", () => {
  const plain = parseEvents(chatChunkEvents({}, ["a", "b"], meta)) as any[];
  assert.equal(plain.length, 5);
  assert.deepEqual(plain[0].choices[0].delta, { role: "assistant", content: "" });
  assert.equal(plain[1].choices[0].delta.content, "a");
  assert.equal(plain[2].choices[0].delta.content, "b");
  assert.equal(plain[3].choices[0].finish_reason, "stop");
  assert.equal(plain[4], "[DONE]");
  for (const c of plain.slice(0, 4)) {
    assert.equal(c.object, "chat.completion.chunk");
    assert.equal(c.id, "chatcmpl-1");
    assert.equal("usage" in c, false);
  }

  const withUsage = parseEvents(chatChunkEvents({ stream_options: { include_usage: true } }, ["a"], meta)) as any[];
  assert.equal(withUsage.length, 5);
  assert.deepEqual(withUsage[3].choices, []);
  assert.deepEqual(withUsage[3].usage, { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 });
  assert.equal(withUsage[4], "[DONE]");
});

test("legacy completions, whole and streamed", () => {
  const c = textCompletion({ prompt: "abcd" }, ["x", "y"], meta) as any;
  assert.equal(c.object, "text_completion");
  assert.equal(c.choices[0].text, "xy");
  assert.equal(c.usage.total_tokens, 3);
  const events = parseEvents(textCompletionEvents({}, ["x", "y"], meta)) as any[];
  assert.deepEqual(
    events.slice(0, 3).map((e) => [e.object, e.choices[0].text, e.choices[0].finish_reason]),
    [
      ["text_completion", "x", null],
      ["text_completion", "y", null],
      ["text_completion", "", "stop"],
    ],
  );
  assert.equal(events.at(-1), "[DONE]");
});

test("embeddings are deterministic unit vectors, one per input", () => {
  const norm = (v: number[]) => Math.sqrt(v.reduce((s, x) => s + x * x, 0));
  const one = embeddings({ input: "hello" }, { model: "e" }) as any;
  assert.equal(one.object, "list");
  assert.equal(one.data.length, 1);
  assert.equal(one.data[0].embedding.length, 8);
  assert.ok(Math.abs(norm(one.data[0].embedding) - 1) < 1e-9);

  const many = embeddings({ input: ["hello", "world", [1, 2, 3]], dimensions: 4 }, { model: "e" }) as any;
  assert.deepEqual(
    many.data.map((d: any) => [d.index, d.embedding.length]),
    [
      [0, 4],
      [1, 4],
      [2, 4],
    ],
  );
  assert.notDeepEqual(many.data[0].embedding, many.data[1].embedding);
  const again = embeddings({ input: ["hello"], dimensions: 4 }, { model: "e" }) as any;
  assert.deepEqual(again.data[0].embedding, many.data[0].embedding);

  const b64 = embeddings({ input: "hello", encoding_format: "base64" }, { model: "e" }) as any;
  const bytes = Buffer.from(b64.data[0].embedding, "base64");
  const floats = Array.from(new Float32Array(bytes.buffer, bytes.byteOffset, bytes.length / 4));
  assert.equal(floats.length, 8);
  assert.ok(Math.abs(floats[0] - one.data[0].embedding[0]) < 1e-6);
});

test("the wire functions refuse, before allocating, what no reply could hold", () => {
  // Exported builders, so the bound lives here too, not only in the mock's request checks.
  assert.throws(() => embeddings({ input: "x", dimensions: 1e308 }, { model: "e" }), RangeError);
  assert.throws(() => embeddings({ input: "x", dimensions: 500_000_000 }, { model: "e" }), RangeError);
  assert.throws(() => embeddings({ input: Array.from({ length: 2048 }, () => "x"), dimensions: 3072 }, { model: "e" }), RangeError);
  assert.equal((embeddings({ input: "x", dimensions: 3072 }, { model: "e" }) as any).data[0].embedding.length, 3072);
  assert.throws(() => replyTokens({}, 1e308), RangeError);
  assert.throws(() => replyTokens({}, Number.NaN), RangeError);
  assert.equal(replyTokens({}, 100_000).length, 100_000);
});

test("modelList", () => {
  assert.deepEqual(modelList(["a"], 5), {
    object: "list",
    data: [{ id: "a", object: "model", created: 5, owned_by: "switchyard-mock" }],
  });
});
