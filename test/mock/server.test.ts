import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { once } from "node:events";
import { startMockUpstream } from "../../src/mock/server.ts";
import type { MockUpstream, RecordedRequest } from "../../src/mock/server.ts";

let mock: MockUpstream;
before(async () => {
  mock = await startMockUpstream();
});
after(() => mock.close());

const chat = { model: "m", messages: [{ role: "user", content: "hi" }] };

function post(path: string, body: unknown, headers: Record<string, string> = {}, signal?: AbortSignal): Promise<Response> {
  return fetch(`${mock.url}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: typeof body === "string" ? body : JSON.stringify(body),
    signal,
  });
}

type ErrorBody = { error: { message: string; type: string; code: string | null } };

test("url, port and the request record", async () => {
  assert.equal(mock.url, `http://127.0.0.1:${mock.port}/v1`);
  mock.reset();
  const seen = once(mock, "request");
  const res = await post("/chat/completions?x=1", chat, { "x-trace": "t1" });
  assert.equal(res.status, 200);
  assert.match(res.headers.get("x-request-id") ?? "", /^[0-9a-f-]{36}$/);
  const [record] = (await seen) as [RecordedRequest];
  await res.text();
  assert.equal(mock.requests.length, 1);
  assert.equal(mock.requests[0], record);
  assert.equal(record.method, "POST");
  assert.equal(record.path, "/v1/chat/completions?x=1");
  assert.equal(record.headers["x-trace"], "t1");
  assert.deepEqual(record.body, chat);
  assert.equal(record.aborted, false);
  mock.reset();
  assert.equal(mock.requests.length, 0);
});

test("unknown routes are an OpenAI-shaped 404, bad JSON a 400", async () => {
  const missing = await fetch(`${mock.url}/nope`);
  assert.equal(missing.status, 404);
  assert.equal(((await missing.json()) as ErrorBody).error.type, "invalid_request_error");
  const wrongMethod = await fetch(`${mock.url}/chat/completions`);
  assert.equal(wrongMethod.status, 404);
  await wrongMethod.text();

  const bad = await post("/chat/completions", "{not json");
  assert.equal(bad.status, 400);
  const body = (await bad.json()) as ErrorBody;
  assert.equal(body.error.code, "invalid_json");
  assert.equal(mock.requests.at(-1)?.body, null);

  const badInput = await post("/embeddings", { model: "e", input: 42 });
  assert.equal(badInput.status, 400);
  await badInput.text();
});

test("x-mock-tokens and x-mock-latency override per request", async () => {
  const res = await post("/chat/completions", chat, { "x-mock-tokens": "3" });
  const body = (await res.json()) as { usage: { completion_tokens: number }; choices: [{ message: { content: string } }] };
  assert.equal(body.usage.completion_tokens, 3);
  assert.equal(body.choices[0].message.content, "Hello from the");

  const started = performance.now();
  const slow = await post("/chat/completions", chat, { "x-mock-latency": "120" });
  assert.ok(performance.now() - started >= 110, "latency not applied");
  await slow.text();

  const bad = await post("/chat/completions", chat, { "x-mock-latency": "soon" });
  assert.equal(bad.status, 400);
  assert.match(((await bad.json()) as ErrorBody).error.message, /x-mock-latency/);
});

test("x-mock-ttft and x-mock-tps pace a stream", async () => {
  const started = performance.now();
  const res = await post("/chat/completions", { ...chat, stream: true }, { "x-mock-ttft": "60", "x-mock-tps": "100", "x-mock-tokens": "5" });
  const headersAt = performance.now() - started;
  assert.match(res.headers.get("content-type") ?? "", /^text\/event-stream/);
  const reader = res.body!.getReader();
  const arrivals: number[] = [];
  let text = "";
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    arrivals.push(performance.now() - started);
    text += new TextDecoder().decode(value);
  }
  assert.ok(headersAt < 50, `headers waited for ttft (${headersAt} ms)`);
  assert.ok(arrivals[0] >= 55, `first token at ${arrivals[0]} ms`);
  // Five tokens at 100/s: the last one about 40 ms after the first.
  assert.ok(arrivals.at(-1)! - arrivals[0] >= 30, `tokens not paced: ${arrivals.join(", ")}`);
  assert.ok(arrivals.length >= 3, "tokens arrived in one piece");
  assert.ok(text.endsWith("data: [DONE]\n\n"));
});

test("server-level pacing applies to non-streaming replies as generation time", async () => {
  const slow = await startMockUpstream({ latencyMs: 20, ttftMs: 20, tokensPerSecond: 200, tokens: 5 });
  try {
    const started = performance.now();
    const res = await fetch(`${slow.url}/chat/completions`, { method: "POST", body: JSON.stringify(chat) });
    await res.json();
    assert.ok(performance.now() - started >= 55, "latency + ttft + 4 tokens at 200/s is 60 ms");
  } finally {
    await slow.close();
  }
});

test("apiKey is enforced with an OpenAI-shaped 401", async () => {
  const guarded = await startMockUpstream({ apiKey: "sekrit" });
  try {
    const url = `${guarded.url}/models`;
    const none = await fetch(url);
    assert.equal(none.status, 401);
    assert.equal(((await none.json()) as ErrorBody).error.code, "invalid_api_key");
    const wrong = await fetch(url, { headers: { authorization: "Bearer nope" } });
    assert.equal(wrong.status, 401);
    await wrong.text();
    const right = await fetch(url, { headers: { authorization: "Bearer sekrit" } });
    assert.equal(right.status, 200);
    assert.equal(((await right.json()) as { object: string }).object, "list");
  } finally {
    await guarded.close();
  }
});

test("a client abort mid-stream marks the record and emits 'abort'", async () => {
  const controller = new AbortController();
  const res = await post("/chat/completions", { ...chat, stream: true }, { "x-mock-tps": "50", "x-mock-tokens": "100" }, controller.signal);
  const reader = res.body!.getReader();
  await reader.read();
  const aborted = once(mock, "abort");
  controller.abort();
  const [record] = (await aborted) as [RecordedRequest];
  assert.equal(record.aborted, true);
  assert.equal(record.headers["x-mock-tokens"], "100");
  assert.ok(mock.requests.includes(record));
});

test("a completed request is not marked aborted", async () => {
  const res = await post("/chat/completions", { ...chat, stream: true });
  await res.text();
  await new Promise((r) => setImmediate(r));
  assert.equal(mock.requests.at(-1)?.aborted, false);
});

test("record: false keeps nothing but still emits 'request'", async () => {
  const quiet = await startMockUpstream({ record: false });
  try {
    const seen = once(quiet, "request");
    await (await fetch(`${quiet.url}/models`)).text();
    const [record] = (await seen) as [RecordedRequest];
    assert.equal(record.path, "/v1/models");
    assert.equal(quiet.requests.length, 0);
  } finally {
    await quiet.close();
  }
});

test("close() ends stalled requests instead of hanging", async () => {
  const stalled = await startMockUpstream({ fault: "stall-headers" });
  let aborts = 0;
  stalled.on("abort", () => aborts++);
  const arrived = once(stalled, "request");
  const pending = fetch(`${stalled.url}/chat/completions`, { method: "POST", body: JSON.stringify(chat) });
  const midStream = await fetch(`${stalled.url}/chat/completions`, {
    method: "POST",
    headers: { "x-mock-fault": "stall-body" },
    body: JSON.stringify({ ...chat, stream: true }),
  });
  await arrived;
  const started = performance.now();
  await stalled.close();
  assert.ok(performance.now() - started < 1000);
  await assert.rejects(pending);
  await assert.rejects(midStream.text());
  assert.equal(aborts, 0, "server shutdown is not a client abort");
});
