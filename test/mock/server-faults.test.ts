import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { startMockUpstream } from "../../src/mock/server.ts";
import type { MockUpstream } from "../../src/mock/server.ts";

let mock: MockUpstream;
before(async () => {
  mock = await startMockUpstream();
});
after(() => mock.close());

const chat = { model: "m", messages: [{ role: "user", content: "hi" }] };

function post(fault: string | null, body: object = chat, signal?: AbortSignal): Promise<Response> {
  const headers: Record<string, string> = { "content-type": "application/json" };
  if (fault !== null) headers["x-mock-fault"] = fault;
  return fetch(`${mock.url}/chat/completions`, { method: "POST", headers, body: JSON.stringify(body), signal });
}

/** Reads a body piece by piece until it ends or fails; resolves with what arrived and the failure, if any. */
async function drain(res: Response): Promise<{ pieces: string[]; error: unknown }> {
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  const pieces: string[] = [];
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return { pieces, error: undefined };
      pieces.push(decoder.decode(value));
    }
  } catch (error) {
    return { pieces, error };
  }
}

function dataLines(text: string): string[] {
  return text
    .split("\n\n")
    .filter((e) => e.startsWith("data: "))
    .map((e) => e.slice(6));
}

test("status fault answers with an OpenAI error body and Retry-After", async () => {
  const res = await post("status=503;retry-after=2");
  assert.equal(res.status, 503);
  assert.equal(res.headers.get("retry-after"), "2");
  assert.ok(res.headers.get("x-request-id"));
  const body = (await res.json()) as { error: { message: string; type: string; code: string } };
  assert.equal(body.error.type, "server_error");
  assert.equal(typeof body.error.message, "string");
  assert.equal(typeof body.error.code, "string");
});

test("reset drops the connection before headers", async () => {
  await assert.rejects(post("reset"), TypeError);
});

test("reset-mid sends some chunks, then the stream fails", async () => {
  const res = await post("reset-mid;after=2", { ...chat, stream: true });
  assert.equal(res.status, 200);
  const { pieces, error } = await drain(res);
  assert.ok(error, "the body should fail");
  const lines = dataLines(pieces.join(""));
  assert.equal(lines.length, 2);
  assert.ok(!lines.includes("[DONE]"));
});

test("reset-mid on a non-streaming reply cuts the body short", async () => {
  const res = await post("reset-mid");
  assert.equal(res.status, 200);
  await assert.rejects(res.text());
});

test("stall-headers never answers; the client times out", async () => {
  const aborted = new Promise((resolve) => mock.once("abort", resolve));
  await assert.rejects(post("stall-headers", chat, AbortSignal.timeout(100)), { name: "TimeoutError" });
  const record = (await aborted) as { aborted: boolean; headers: Record<string, string> };
  assert.equal(record.aborted, true);
  assert.equal(record.headers["x-mock-fault"], "stall-headers");
});

test("stall-body sends headers and the first chunk, then nothing", async () => {
  const controller = new AbortController();
  const res = await post("stall-body;after=1", { ...chat, stream: true }, controller.signal);
  assert.equal(res.status, 200);
  const reader = res.body!.getReader();
  const first = new TextDecoder().decode((await reader.read()).value);
  assert.equal(dataLines(first).length, 1);
  const next = await Promise.race([reader.read().then(() => "data"), new Promise((r) => setTimeout(r, 100, "stalled"))]);
  assert.equal(next, "stalled");
  controller.abort();
});

test("stall-body on a non-streaming reply sends headers only", async () => {
  const controller = new AbortController();
  const res = await post("stall-body", chat, controller.signal);
  assert.equal(res.status, 200);
  const body = await Promise.race([res.text(), new Promise((r) => setTimeout(r, 100, "stalled"))]);
  assert.equal(body, "stalled");
  controller.abort();
});

test("malformed: 200 with a body that is not JSON", async () => {
  const res = await post("malformed");
  assert.equal(res.status, 200);
  assert.match(res.headers.get("content-type") ?? "", /application\/json/);
  const text = await res.text();
  assert.ok(text.length > 0);
  assert.throws(() => JSON.parse(text));
});

test("malformed stream: a data line with broken JSON", async () => {
  const res = await post("malformed;after=1", { ...chat, stream: true });
  const lines = dataLines(await res.text());
  assert.equal(lines.length, 2);
  JSON.parse(lines[0]);
  assert.throws(() => JSON.parse(lines[1]));
});

test("error-event: 200, then an error event, then the end", async () => {
  const res = await post("error-event", { ...chat, stream: true });
  assert.equal(res.status, 200);
  assert.match(res.headers.get("content-type") ?? "", /^text\/event-stream/);
  const lines = dataLines(await res.text());
  assert.equal(lines.length, 1);
  const event = JSON.parse(lines[0]) as { error: { message: string; type: string; code: string } };
  assert.equal(event.error.code, "mock_error_event");
});

test("trickle delivers the body in several small pieces", async () => {
  const started = performance.now();
  const res = await post("trickle;interval=5;size=64");
  const { pieces, error } = await drain(res);
  assert.equal(error, undefined);
  assert.ok(pieces.length >= 3, `only ${pieces.length} pieces`);
  const body = JSON.parse(pieces.join("")) as { object: string };
  assert.equal(body.object, "chat.completion");
  assert.ok(performance.now() - started >= 10);
});

test("trickle on a stream splits events across pieces but stays parseable", async () => {
  const res = await post("trickle;interval=1;size=50", { ...chat, stream: true, max_tokens: 2 });
  const { pieces } = await drain(res);
  assert.ok(pieces.length >= 3);
  const lines = dataLines(pieces.join(""));
  assert.equal(lines.at(-1), "[DONE]");
});

test("a server-level fault with times=N applies to the next N requests only", async () => {
  mock.setFault("status=500;times=2");
  try {
    const statuses = [];
    for (let i = 0; i < 3; i++) statuses.push((await post(null)).status);
    assert.deepEqual(statuses, [500, 500, 200]);

    mock.setFault("status=502", { times: 1 });
    assert.equal((await post(null)).status, 502);
    assert.equal((await post(null)).status, 200);
  } finally {
    mock.setFault(null);
  }
});

test("the x-mock-fault header wins over the server-level fault", async () => {
  mock.setFault("status=500");
  try {
    assert.equal((await post("status=418")).status, 418);
    assert.equal((await post("none")).status, 200);
    assert.equal((await post(null)).status, 500);
  } finally {
    mock.setFault(null);
  }
  assert.equal((await post(null)).status, 200);
});

test("a bad x-mock-fault header is a 400 naming the problem", async () => {
  const res = await post("status=abc");
  assert.equal(res.status, 400);
  const body = (await res.json()) as { error: { message: string } };
  assert.match(body.error.message, /status=abc/);
});
