import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { once } from "node:events";
import { startMockUpstream } from "../../src/mock/server.ts";
import type { MockUpstream, RecordedRequest } from "../../src/mock/server.ts";
import { FakeClock } from "../helpers/fake-clock.ts";

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

/** A mock on a fake clock: its delays wait until the test moves time, so tests assert order, not durations. */
async function startPaced(options: Parameters<typeof startMockUpstream>[0] = {}): Promise<{ paced: MockUpstream; clock: FakeClock }> {
  const clock = new FakeClock();
  return { paced: await startMockUpstream({ ...options, clock }), clock };
}

/** Tracks whether a promise has settled, to show that a client is still waiting when the test moves time. */
function track<T>(p: Promise<T>): { promise: Promise<T>; settled: () => boolean } {
  let done = false;
  const promise = p.finally(() => (done = true));
  return { promise, settled: () => done };
}

test("x-mock-tokens and x-mock-latency override per request", async () => {
  const res = await post("/chat/completions", chat, { "x-mock-tokens": "3" });
  const body = (await res.json()) as { usage: { completion_tokens: number }; choices: [{ message: { content: string } }] };
  assert.equal(body.usage.completion_tokens, 3);
  assert.equal(body.choices[0].message.content, "Hello from the");

  const bad = await post("/chat/completions", chat, { "x-mock-latency": "soon" });
  assert.equal(bad.status, 400);
  assert.match(((await bad.json()) as ErrorBody).error.message, /x-mock-latency/);
});

test("x-mock-latency holds the response until its time has passed", async () => {
  const { paced, clock } = await startPaced();
  try {
    const arrived = once(paced, "request");
    const reply = track(fetch(`${paced.url}/chat/completions`, { method: "POST", headers: { "x-mock-latency": "120" }, body: JSON.stringify(chat) }));
    const [record] = (await arrived) as [RecordedRequest];
    assert.equal(await clock.waitForTimer((ms) => ms === 120), 120);
    clock.advance(119);
    assert.deepEqual(paced.holding(), [record]);
    assert.equal(record.status, undefined, "no response head before the latency has passed");
    assert.equal(reply.settled(), false);
    clock.advance(1);
    assert.equal(record.status, 200);
    const res = await reply.promise;
    assert.equal(res.status, 200);
    await res.json();
    assert.deepEqual(paced.holding(), []);
  } finally {
    await paced.close();
  }
});

test("x-mock-ttft and x-mock-tps pace a stream: headers at once, then the first token, then one token a step", async () => {
  const { paced, clock } = await startPaced();
  try {
    const pending = fetch(`${paced.url}/chat/completions`, {
      method: "POST",
      headers: { "x-mock-ttft": "60", "x-mock-tps": "100", "x-mock-tokens": "5" },
      body: JSON.stringify({ ...chat, stream: true }),
    });
    // The head is flushed before the ttft timer is set: once the timer exists, headers are on their way and time has not moved.
    await clock.waitForTimer((ms) => ms === 60);
    const res = await pending;
    assert.equal(res.status, 200);
    assert.match(res.headers.get("content-type") ?? "", /^text\/event-stream/);
    assert.deepEqual(clock.pending(), [60], "nothing but the ttft is scheduled");

    const reader = res.body!.getReader();
    const decoder = new TextDecoder();
    const next = async (): Promise<unknown[]> => {
      const { value } = await reader.read();
      return decoder
        .decode(value)
        .split("\n\n")
        .filter((e) => e.startsWith("data: {"))
        .map((e) => JSON.parse(e.slice(6)).choices[0].delta);
    };
    clock.advance(60);
    assert.deepEqual(await next(), [{ role: "assistant", content: "" }, { content: "Hello" }]);
    // Five tokens at 100 a second: each later one 10 ms after the one before.
    for (const token of [" from", " the", " Switchyard"]) {
      assert.deepEqual(clock.pending(), [10]);
      clock.advance(10);
      assert.deepEqual(await next(), [{ content: token }]);
    }
    clock.advance(10);
    let rest = "";
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      rest += decoder.decode(value);
    }
    assert.match(rest, /"content":" mock\."/);
    assert.ok(rest.endsWith("data: [DONE]\n\n"));
    assert.deepEqual(clock.scheduled, [60, 10, 10, 10, 10]);
  } finally {
    await paced.close();
  }
});

test("server-level pacing applies to non-streaming replies as generation time", async () => {
  const { paced, clock } = await startPaced({ latencyMs: 20, ttftMs: 20, tokensPerSecond: 200, tokens: 5 });
  try {
    const reply = track(fetch(`${paced.url}/chat/completions`, { method: "POST", body: JSON.stringify(chat) }));
    await clock.waitForTimer((ms) => ms === 20);
    clock.advance(20);
    // ttft plus four more tokens at 200 a second, in one wait: the whole reply comes at once, as OpenAI's does.
    assert.deepEqual(clock.pending(), [40]);
    clock.advance(39);
    assert.equal(paced.holding()[0]?.status, undefined);
    assert.equal(reply.settled(), false);
    clock.advance(1);
    const res = await reply.promise;
    assert.equal(((await res.json()) as { usage: { completion_tokens: number } }).usage.completion_tokens, 5);
    assert.deepEqual(clock.scheduled, [20, 40]);
  } finally {
    await paced.close();
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
  const arrived = once(mock, "request");
  const res = await post("/chat/completions", { ...chat, stream: true });
  const [record] = (await arrived) as [RecordedRequest];
  await res.text();
  // Once the mock has ended the response itself, no later close can count as an abort.
  assert.ok(!mock.holding().includes(record));
  assert.equal(record.status, 200);
  assert.equal(record.aborted, false);
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
  let seen = 0;
  const bothArrived = new Promise<void>((resolve) => stalled.on("request", () => ++seen === 2 && resolve()));
  const pending = fetch(`${stalled.url}/chat/completions`, { method: "POST", body: JSON.stringify(chat) });
  const midStream = await fetch(`${stalled.url}/chat/completions`, {
    method: "POST",
    headers: { "x-mock-fault": "stall-body" },
    body: JSON.stringify({ ...chat, stream: true }),
  });
  await bothArrived;
  assert.deepEqual(
    stalled.holding().map((r) => r.status).sort(),
    [200, undefined],
    "one held before its head, one mid-body",
  );
  // Resolving at all is the point: stalled responses must not hold close() open.
  await stalled.close();
  await assert.rejects(pending);
  await assert.rejects(midStream.text());
  assert.equal(aborts, 0, "server shutdown is not a client abort");
});
