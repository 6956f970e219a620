import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { once } from "node:events";
import { startMockUpstream } from "../../src/mock/server.ts";
import type { MockUpstream, RecordedRequest } from "../../src/mock/server.ts";
import { FakeClock } from "../helpers/fake-clock.ts";

// Time moves only when a test moves it: a stall is shown by the mock holding the request with nothing scheduled.
const clock = new FakeClock();
let mock: MockUpstream;
before(async () => {
  mock = await startMockUpstream({ clock });
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

/** Reads a body piece by piece, moving the clock `step` ms after each piece so that the next one is sent. */
async function drainStepping(res: Response, step: number): Promise<string[]> {
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  const pieces: string[] = [];
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return pieces;
    pieces.push(decoder.decode(value));
    clock.advance(step);
  }
}

/** The mock is holding `record` and has nothing scheduled: no byte more will come until the client gives up. */
function assertStalled(record: RecordedRequest, status: number | undefined): void {
  assert.ok(mock.holding().includes(record), "the mock still holds the request");
  assert.equal(record.status, status);
  assert.deepEqual(clock.pending(), [], "nothing is scheduled that could send more");
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

test("stall-headers never answers; the client gives up", async () => {
  const controller = new AbortController();
  const arrived = once(mock, "request");
  const pending = post("stall-headers", chat, controller.signal);
  const [record] = (await arrived) as [RecordedRequest];
  assertStalled(record, undefined);
  const aborted = once(mock, "abort");
  controller.abort();
  await assert.rejects(pending, { name: "AbortError" });
  assert.deepEqual(await aborted, [record]);
  assert.equal(record.aborted, true);
  assert.equal(record.headers["x-mock-fault"], "stall-headers");
});

test("stall-body sends headers and the first chunk, then nothing", async () => {
  const controller = new AbortController();
  const arrived = once(mock, "request");
  const res = await post("stall-body;after=1", { ...chat, stream: true }, controller.signal);
  const [record] = (await arrived) as [RecordedRequest];
  assert.equal(res.status, 200);
  const reader = res.body!.getReader();
  const first = new TextDecoder().decode((await reader.read()).value);
  assert.equal(dataLines(first).length, 1);
  assertStalled(record, 200);
  const aborted = once(mock, "abort");
  controller.abort();
  await assert.rejects(reader.read(), { name: "AbortError" });
  assert.deepEqual(await aborted, [record]);
});

test("stall-body on a non-streaming reply sends headers only", async () => {
  const controller = new AbortController();
  const arrived = once(mock, "request");
  const res = await post("stall-body", chat, controller.signal);
  const [record] = (await arrived) as [RecordedRequest];
  assert.equal(res.status, 200);
  assertStalled(record, 200);
  const aborted = once(mock, "abort");
  controller.abort();
  await assert.rejects(res.text(), { name: "AbortError" });
  assert.deepEqual(await aborted, [record]);
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

test("trickle delivers the body in small pieces, one per interval", async () => {
  const from = clock.scheduled.length;
  const res = await post("trickle;interval=5;size=64");
  const pieces = await drainStepping(res, 5);
  const text = pieces.join("");
  assert.ok(pieces.length >= 3, `only ${pieces.length} pieces`);
  assert.ok(pieces.every((p) => p.length <= 64));
  const body = JSON.parse(text) as { object: string };
  assert.equal(body.object, "chat.completion");
  // One wait of 5 ms between each two of the ceil(n / 64) pieces.
  assert.deepEqual(clock.scheduled.slice(from), Array(Math.ceil(Buffer.byteLength(text) / 64) - 1).fill(5));
});

test("trickle on a stream splits events across pieces but stays parseable", async () => {
  const res = await post("trickle;interval=1;size=50", { ...chat, stream: true, max_tokens: 2 });
  const pieces = await drainStepping(res, 1);
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
