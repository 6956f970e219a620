import assert from "node:assert/strict";
import { channels, type RequestEnd } from "../../src/telemetry/channels.ts";
import { RecentRequests } from "../../src/telemetry/recent-requests.ts";
import { test } from "node:test";

const gateway = {};
const end = (i: number, extra: Partial<RequestEnd> = {}): RequestEnd => ({
  gateway,
  requestId: `req-${i}`,
  model: "fast",
  stream: false,
  target: "a/m1",
  status: 200,
  attempts: 1,
  durationMs: 12.345,
  ...extra,
});

test("a summary holds what ended, when, and the tokens; never the error's text", () => {
  const recent = new RecentRequests(4, () => 1_000);
  const s = recent.add(
    end(1, { status: 502, code: "SY_ERR_UPSTREAM_STATUS", message: "upstream said: <the prompt echoed>", usage: { inputTokens: 7, outputTokens: 3 } }),
  );
  assert.deepEqual(s, {
    seq: 1,
    time: 1_000,
    id: "req-1",
    model: "fast",
    target: "a/m1",
    status: 502,
    code: "SY_ERR_UPSTREAM_STATUS",
    latency_ms: 12.3,
    attempts: 1,
    stream: false,
    tokens_in: 7,
    tokens_out: 3,
  });
  assert.ok(!JSON.stringify(s).includes("prompt"));
  const failedEarly = recent.add(end(2, { target: undefined, status: 400, code: "SY_ERR_BAD_REQUEST", attempts: 0 }));
  assert.equal("target" in failedEarly, false);
  assert.equal("tokens_in" in failedEarly, false);
});

test("the ring keeps the last `capacity` entries, oldest first, and since() resumes after a seq", () => {
  const recent = new RecentRequests(3);
  assert.deepEqual(recent.since(0), []);
  for (let i = 1; i <= 5; i++) recent.add(end(i));
  assert.equal(recent.lastSeq, 5);
  assert.deepEqual(recent.since(0).map((s) => s.id), ["req-3", "req-4", "req-5"]);
  assert.deepEqual(recent.since(3).map((s) => s.seq), [4, 5]);
  assert.deepEqual(recent.since(5), []);
  // A viewer further behind than the ring holds gets what is left.
  assert.deepEqual(recent.since(1).map((s) => s.seq), [3, 4, 5]);
  assert.throws(() => new RecentRequests(0), RangeError);
});

test("listeners hear once per turn of the event loop, after the adds, not inside them", async () => {
  const recent = new RecentRequests(10);
  const heard: number[] = [];
  const unlisten = recent.listen(() => heard.push(recent.lastSeq));
  recent.add(end(1));
  recent.add(end(2));
  assert.deepEqual(heard, [], "nothing runs inside add()");
  await new Promise((resolve) => setImmediate(resolve));
  assert.deepEqual(heard, [2]);
  unlisten();
  recent.add(end(3));
  await new Promise((resolve) => setImmediate(resolve));
  assert.deepEqual(heard, [2]);
});

test("observe() fills it from one gateway's request:end events only, and stops when asked", () => {
  const recent = new RecentRequests(10);
  const before = channels.requestEnd.hasSubscribers;
  const stop = recent.observe(gateway);
  assert.equal(channels.requestEnd.hasSubscribers, true);
  channels.requestEnd.publish(end(1));
  channels.requestEnd.publish(end(2, { gateway: {} }));
  assert.deepEqual(recent.since(0).map((s) => s.id), ["req-1"]);
  stop();
  channels.requestEnd.publish(end(3));
  assert.equal(recent.lastSeq, 1);
  assert.equal(channels.requestEnd.hasSubscribers, before);
});
