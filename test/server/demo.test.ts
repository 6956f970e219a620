import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { startGateway, type TestGateway } from "../helpers/gateway.ts";

const GREETING = /^Hello from the Switchyard demo\./;

let gw: TestGateway;

before(async () => {
  gw = await startGateway(
    { providers: { demo: { type: "demo" } }, models: { demo: { targets: ["demo/demo-1"] } } },
    { demoTokenGapMs: 0 },
  );
});
after(() => gw.close());

const messages = [{ role: "user" as const, content: "Tell me something" }];

test("non-streaming chat answers in-process with content", async () => {
  const { data: res, response } = await gw.client.chat.completions.create({ model: "demo", messages }).withResponse();
  assert.equal(res.object, "chat.completion");
  assert.equal(res.model, "demo-1");
  assert.equal(res.choices.length, 1);
  assert.equal(res.choices[0].message.role, "assistant");
  assert.match(res.choices[0].message.content ?? "", GREETING);
  assert.equal(res.choices[0].finish_reason, "stop");
  assert.equal(res.usage?.completion_tokens, 12);
  assert.equal(response.headers.get("x-switchyard-target"), "demo/demo-1");
});

test("streaming chat yields several chunks that join to the same text", async () => {
  const whole = await gw.client.chat.completions.create({ model: "demo", messages });
  const stream = await gw.client.chat.completions.create({ model: "demo", messages, stream: true });
  let text = "";
  let chunks = 0;
  let contentChunks = 0;
  let finish: string | null = null;
  for await (const chunk of stream) {
    chunks++;
    assert.equal(chunk.object, "chat.completion.chunk");
    const delta = chunk.choices[0]?.delta.content;
    if (delta) contentChunks++;
    text += delta ?? "";
    finish = chunk.choices[0]?.finish_reason ?? finish;
  }
  assert.ok(contentChunks >= 5, `only ${contentChunks} content chunks`);
  assert.ok(chunks > contentChunks, "role and finish chunks as well");
  assert.match(text, GREETING);
  assert.equal(text, whole.choices[0].message.content);
  assert.equal(finish, "stop");
});

test("streaming honours max_tokens and include_usage", async () => {
  const stream = await gw.client.chat.completions.create({
    model: "demo",
    messages,
    stream: true,
    max_tokens: 3,
    stream_options: { include_usage: true },
  });
  let text = "";
  let finish: string | null = null;
  let usage: { completion_tokens: number } | null | undefined;
  for await (const chunk of stream) {
    text += chunk.choices[0]?.delta.content ?? "";
    finish = chunk.choices[0]?.finish_reason ?? finish;
    if (chunk.usage) usage = chunk.usage;
  }
  assert.equal(text, "Hello from the");
  assert.equal(finish, "length");
  assert.equal(usage?.completion_tokens, 3);
});

test("a stream with the default token pacing still arrives whole", async (t) => {
  const paced = await startGateway({ providers: { demo: { type: "demo" } }, models: { demo: { targets: ["demo/demo-1"] } } });
  t.after(() => paced.close());
  const stream = await paced.client.chat.completions.create({ model: "demo", messages, stream: true, max_tokens: 4 });
  const parts: string[] = [];
  for await (const chunk of stream) parts.push(chunk.choices[0]?.delta.content ?? "");
  assert.equal(parts.join(""), "Hello from the Switchyard");
  assert.ok(parts.filter(Boolean).length === 4);
});

test("legacy completions, whole and streamed", async () => {
  const whole = await gw.client.completions.create({ model: "demo", prompt: "Once upon a time" });
  assert.equal(whole.object, "text_completion");
  assert.equal(whole.model, "demo-1");
  assert.match(whole.choices[0].text, GREETING);

  const stream = await gw.client.completions.create({ model: "demo", prompt: "Once upon a time", stream: true });
  let text = "";
  let chunks = 0;
  for await (const chunk of stream) {
    chunks++;
    text += chunk.choices[0]?.text ?? "";
  }
  assert.ok(chunks >= 5, `only ${chunks} chunks`);
  assert.equal(text, whole.choices[0].text);
});

test("embeddings: one unit vector per input, the same input giving the same vector", async () => {
  const res = await gw.client.embeddings.create({ model: "demo", input: ["alpha", "beta", "alpha"] });
  assert.equal(res.object, "list");
  assert.equal(res.data.length, 3);
  res.data.forEach((d, i) => {
    assert.equal(d.object, "embedding");
    assert.equal(d.index, i);
    assert.ok(d.embedding.length > 0);
    assert.ok(d.embedding.every((x) => Number.isFinite(x)));
    const norm = Math.sqrt(d.embedding.reduce((s, x) => s + x * x, 0));
    assert.ok(Math.abs(norm - 1) < 1e-3, `norm ${norm}`);
  });
  assert.deepEqual(res.data[2].embedding, res.data[0].embedding);
  assert.notDeepEqual(res.data[1].embedding, res.data[0].embedding);
  assert.ok(res.usage.prompt_tokens > 0);
});

test("embeddings as plain floats with chosen dimensions", async () => {
  const res = await gw.client.embeddings.create({ model: "demo", input: "hello", encoding_format: "float", dimensions: 16 });
  assert.equal(res.data.length, 1);
  assert.equal(res.data[0].embedding.length, 16);
});

test("the demo model is also reachable as demo/demo-1", async () => {
  const res = await gw.client.chat.completions.create({ model: "demo/demo-1", messages });
  assert.match(res.choices[0].message.content ?? "", GREETING);
});
