import assert from "node:assert/strict";
import { test } from "node:test";
import { TokenEstimates, type TokenCounter } from "../../src/limits/estimate.ts";
import type { LimitedCall } from "../../src/limits/types.ts";
import type { ChatRequest } from "../../src/protocol/chat.ts";

function counting(): TokenCounter & { requests: number; texts: string[] } {
  const c = {
    requests: 0,
    texts: [] as string[],
    request: async (req: ChatRequest) => {
      c.requests++;
      return req.messages.length * 10;
    },
    text: async (text: string) => {
      c.texts.push(text);
      return text.length;
    },
  };
  return c;
}

const call = (op: LimitedCall["op"], body: Record<string, unknown>, internal: () => ChatRequest = () => ({ model: "m", messages: [{ role: "user", content: "hi" }] })): LimitedCall => ({
  requestId: "r",
  op,
  body,
  internal,
  stream: false,
  target: { label: "p/x", provider: { config: {} as never } },
  signal: new AbortController().signal,
});

test("a request is counted once, however many attempts ask", async () => {
  const counter = counting();
  const estimates = new TokenEstimates(counter);
  const body = { model: "m", messages: [] };
  assert.equal(await estimates.of(call("chat", body)), 10);
  assert.equal(await estimates.of(call("chat", body)), 10);
  assert.equal(counter.requests, 1);
  assert.equal(await estimates.of(call("chat", { model: "m", messages: [] })), 10);
  assert.equal(counter.requests, 2, "another request is counted again");
});

test("embeddings and completions count their input text; token ids count as themselves", async () => {
  const counter = counting();
  const estimates = new TokenEstimates(counter);
  assert.equal(await estimates.of(call("embeddings", { input: ["ab", "cde"] })), 6);
  assert.deepEqual(counter.texts, ["ab\ncde"]);
  assert.equal(await estimates.of(call("embeddings", { input: [1, 2, 3] })), 3);
  assert.equal(await estimates.of(call("embeddings", { input: [[1, 2], [3]] })), 3);
  assert.equal(await estimates.of(call("completions", { prompt: "four" })), 4);
  assert.equal(counter.requests, 0);
});

test("a body the codec cannot read falls back to its size", async () => {
  const estimates = new TokenEstimates(counting());
  const body = { model: "m", messages: "not a list", pad: "x".repeat(100) };
  const n = await estimates.of(
    call("chat", body, () => {
      throw new Error("cannot decode");
    }),
  );
  assert.equal(n, Math.ceil(JSON.stringify(body).length / 4));
});
