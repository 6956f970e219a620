import assert from "node:assert/strict";
import { test } from "node:test";
import { embeddings, streamEvents } from "../../src/upstream/demo-replies.ts";

const meta = { id: "demo-1", created: 1, model: "demo-1" };

test("a dimensions value OpenAI would refuse gets a 400 in OpenAI's shape, not a crash", () => {
  for (const dimensions of [1e308, 0, -1, 2.5, "8", 3073]) {
    const r = embeddings({ input: "hi", dimensions }, meta);
    assert.equal(r.status, 400, String(dimensions));
    const error = (r.payload as { error: { param: string; type: string } }).error;
    assert.equal(error.param, "dimensions");
    assert.equal(error.type, "invalid_request_error");
  }
  assert.equal(embeddings({ input: "hi", dimensions: 3072 }, meta).status, 200);
});

test("a token-id input embeds as one item; a list of texts as one item each", () => {
  const one = embeddings({ input: [1, 2, 3] }, meta).payload as { data: unknown[] };
  assert.equal(one.data.length, 1);
  const two = embeddings({ input: ["a", "b"] }, meta).payload as { data: unknown[] };
  assert.equal(two.data.length, 2);
});

test("stream events are whole SSE events that end with [DONE]", () => {
  const events = streamEvents({ max_tokens: 2, stream_options: { include_usage: true } }, meta, true);
  assert.ok(events.every((e) => e.startsWith("data: ") && e.endsWith("\n\n")));
  assert.equal(events.at(-1), "data: [DONE]\n\n");
  const chunks = events.slice(0, -1).map((e) => JSON.parse(e.slice(6)) as { usage: unknown; choices: Array<{ finish_reason: string | null }> });
  // role, two tokens, finish, usage
  assert.equal(chunks.length, 5);
  assert.equal(chunks[3].choices[0].finish_reason, "length");
  assert.deepEqual(chunks[4].usage, { prompt_tokens: 1, completion_tokens: 2, total_tokens: 3 });
  assert.ok(chunks.slice(0, 4).every((c) => c.usage === null));
});
