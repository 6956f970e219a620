import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import OpenAI from "openai";
import { startMockUpstream } from "../../src/mock/server.ts";
import type { MockUpstream } from "../../src/mock/server.ts";

let mock: MockUpstream;
let client: OpenAI;

before(async () => {
  mock = await startMockUpstream({ models: ["alpha", "beta"] });
  client = new OpenAI({ baseURL: mock.url, apiKey: "x", maxRetries: 0 });
});
after(() => mock.close());

test("chat completion parses with the official SDK", async () => {
  const res = await client.chat.completions.create({
    model: "gpt-test",
    messages: [{ role: "user", content: "Say hello to the gateway please" }],
  });
  assert.equal(res.object, "chat.completion");
  assert.equal(res.model, "gpt-test");
  assert.match(res.choices[0].message.content ?? "", /^Hello from the Switchyard mock\./);
  assert.equal(res.choices[0].finish_reason, "stop");
  assert.equal(res.usage?.completion_tokens, 12);
  assert.equal(res.usage?.total_tokens, (res.usage?.prompt_tokens ?? 0) + 12);
  assert.equal(mock.requests.at(-1)?.body?.model, "gpt-test");
});

test("streaming chat with include_usage parses with the SDK", async () => {
  const stream = await client.chat.completions.create({
    model: "gpt-test",
    messages: [{ role: "user", content: "hi" }],
    stream: true,
    stream_options: { include_usage: true },
    max_tokens: 5,
  });
  let text = "";
  let finish: string | null = null;
  let usage: OpenAI.CompletionUsage | null | undefined;
  let chunks = 0;
  for await (const chunk of stream) {
    chunks++;
    text += chunk.choices[0]?.delta.content ?? "";
    finish = chunk.choices[0]?.finish_reason ?? finish;
    if (chunk.usage) usage = chunk.usage;
  }
  assert.equal(text, "Hello from the Switchyard mock.");
  assert.equal(finish, "length");
  assert.equal(chunks, 1 + 5 + 1 + 1);
  assert.deepEqual(usage, { prompt_tokens: 1, completion_tokens: 5, total_tokens: 6 });
});

test("legacy completions, whole and streamed, parse with the SDK", async () => {
  const whole = await client.completions.create({ model: "gpt-3.5-turbo-instruct", prompt: "Once" });
  assert.equal(whole.object, "text_completion");
  assert.match(whole.choices[0].text, /^Hello from/);

  const stream = await client.completions.create({ model: "gpt-3.5-turbo-instruct", prompt: "Once", stream: true });
  let text = "";
  for await (const chunk of stream) text += chunk.choices[0]?.text ?? "";
  assert.equal(text, whole.choices[0].text);
});

test("embeddings parse with the SDK, in its default base64 and as floats", async () => {
  const b64 = await client.embeddings.create({ model: "text-embedding-3-small", input: ["a", "b"] });
  assert.equal(b64.data.length, 2);
  assert.equal(b64.data[0].embedding.length, 8);
  const norm = Math.hypot(...b64.data[0].embedding);
  assert.ok(Math.abs(norm - 1) < 1e-5, `norm ${norm}`);

  const floats = await client.embeddings.create({
    model: "text-embedding-3-small",
    input: "a",
    dimensions: 16,
    encoding_format: "float",
  });
  assert.equal(floats.data[0].embedding.length, 16);
  assert.equal(floats.usage.prompt_tokens, 1);
});

test("models list parses with the SDK", async () => {
  const ids: string[] = [];
  for await (const m of client.models.list()) ids.push(m.id);
  assert.deepEqual(ids, ["alpha", "beta"]);
});

test("injected errors surface as SDK errors", async () => {
  await assert.rejects(
    client.chat.completions.create(
      { model: "m", messages: [{ role: "user", content: "x" }] },
      { headers: { "x-mock-fault": "status=429" } },
    ),
    (err: unknown) => err instanceof OpenAI.RateLimitError && err.code === "rate_limit_exceeded",
  );

  const stream = await client.chat.completions.create(
    { model: "m", messages: [{ role: "user", content: "x" }], stream: true },
    { headers: { "x-mock-fault": "error-event" } },
  );
  await assert.rejects(async () => {
    for await (const _ of stream) {
      // draining until the error event
    }
  }, OpenAI.APIError);
});
