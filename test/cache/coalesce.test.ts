import assert from "node:assert/strict";
import { after, before, beforeEach, describe, test } from "node:test";
import OpenAI from "openai";
import { FakeClock } from "../helpers/fake-clock.ts";
import { chat, post } from "../helpers/gateway.ts";
import { calls, type CachedSetup, startCached, until } from "./setup.ts";

const CHAT = "/v1/chat/completions";
const REPLY = "Hello from the Switchyard mock.";

/** The text of an OpenAI chat stream's deltas, and whether it ended with [DONE]. */
function streamText(sse: string): { text: string; done: boolean; error?: unknown } {
  let text = "";
  let done = false;
  let error: unknown;
  for (const ev of sse.split("\n\n")) {
    if (!ev.startsWith("data: ")) continue;
    const data = ev.slice(6);
    if (data === "[DONE]") {
      done = true;
      continue;
    }
    const o = JSON.parse(data);
    if (o.error !== undefined) error = o.error;
    text += o.choices?.[0]?.delta?.content ?? "";
  }
  return { text, done, error };
}

/** A chat request its client can walk away from: "answered" or "aborted", once it ends either way. */
function leavable(url: string, body: unknown, signal: AbortSignal): Promise<string> {
  const init = { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body), signal };
  return fetch(`${url}${CHAT}`, init).then(
    () => "answered",
    () => "aborted",
  );
}

describe("coalescing: identical requests in flight share one upstream call", () => {
  let s: CachedSetup;
  let upstreamClock: FakeClock;
  before(async () => {
    upstreamClock = new FakeClock();
    // The mock holds each answer until the test moves its clock: every request is in flight at once, without timing anything.
    s = await startCached({ enabled: true }, {}, { latencyMs: 1000, clock: upstreamClock });
  });
  after(() => s.close());
  beforeEach(() => {
    s.mock.reset();
    s.gw.engine.cache!.purge();
  });

  const inFlight = () => s.gw.engine.cacheStats().in_flight as number;
  const coalesced = () => s.gw.engine.cacheStats().coalesced as number;

  test("10 identical concurrent requests, half streaming, reach the upstream once and each gets the whole answer", async () => {
    const before = coalesced();
    const body = (i: number) => chat("m", { seed: 11, stream: i % 2 === 0 });
    const pending = Array.from({ length: 10 }, (_, i) => post(`${s.gw.url}${CHAT}`, body(i)));
    await until(() => coalesced() - before === 9 && s.mock.holding().length === 1);
    upstreamClock.advance(1000);
    const results = await Promise.all(pending);
    assert.equal(calls(s.mock), 1);
    for (const [i, r] of results.entries()) {
      assert.equal(r.status, 200);
      assert.equal(r.headers.get("x-switchyard-cache"), "miss");
      if (i % 2 === 0) {
        const got = streamText(r.text);
        assert.equal(got.text, REPLY);
        assert.ok(got.done, "the stream ends with [DONE]");
        assert.doesNotMatch(r.text, /"choices":\[\]/, "no usage chunk for a client that did not ask");
        assert.doesNotMatch(r.text, /"usage"/, "and no usage field at all");
      } else {
        assert.equal(JSON.parse(r.text).choices[0].message.content, REPLY);
      }
    }
  });

  test("one client going away does not cut the others; the last one leaving aborts the upstream call", async () => {
    const before = coalesced();
    const body = chat("m", { seed: 13, stream: true });
    const leaving = new AbortController();
    const gone = leavable(s.gw.url, body, leaving.signal);
    const staying = post(`${s.gw.url}${CHAT}`, body);
    await until(() => coalesced() === before + 1 && s.mock.holding().length === 1);
    leaving.abort();
    assert.equal(await gone, "aborted");
    upstreamClock.advance(1000);
    const r = await staying;
    assert.equal(streamText(r.text).text, REPLY);
    assert.equal(calls(s.mock), 1);
    assert.equal(s.mock.requests[0].aborted, false);

    // Now every client leaves: the upstream call is aborted.
    const lone = new AbortController();
    const body2 = chat("m", { seed: 14, stream: true });
    const a = leavable(s.gw.url, body2, lone.signal);
    const lone2 = new AbortController();
    const b = leavable(s.gw.url, body2, lone2.signal);
    await until(() => coalesced() === before + 2 && s.mock.holding().length === 1);
    lone.abort();
    lone2.abort();
    await Promise.all([a, b]);
    await until(() => s.mock.requests[1]?.aborted === true);
    assert.equal(inFlight(), 0);
    assert.equal(s.gw.engine.cacheStats().entries, 1, "only the first answer was stored");
  });

  test("the client whose request started the call going away does not cut the others (whole answers)", async () => {
    const before = coalesced();
    const body = chat("m", { seed: 15 });
    const first = new AbortController();
    const gone = leavable(s.gw.url, body, first.signal);
    // The first request's call is under way before the second arrives: the second joins it.
    await until(() => s.mock.holding().length === 1);
    const upstreamCalls = calls(s.mock);
    const staying = post(`${s.gw.url}${CHAT}`, body);
    await until(() => coalesced() === before + 1);
    first.abort();
    assert.equal(await gone, "aborted");
    upstreamClock.advance(1000);
    const r = await staying;
    assert.equal(JSON.parse(r.text).choices[0].message.content, REPLY);
    assert.equal(calls(s.mock), upstreamCalls, "no second upstream call");
    assert.equal(s.mock.requests.at(-1)!.aborted, false, "the call was not aborted");
    assert.equal(inFlight(), 0);
  });

  test("a lone client going away aborts its call, and the same request sent next makes a call of its own", async () => {
    const body = chat("m", { seed: 16 });
    const lone = new AbortController();
    const gone = leavable(s.gw.url, body, lone.signal);
    await until(() => s.mock.holding().length === 1);
    lone.abort();
    assert.equal(await gone, "aborted");
    await until(() => s.mock.requests[0]?.aborted === true);
    // Sent as soon as the first left: it must not join the call being aborted.
    const next = post(`${s.gw.url}${CHAT}`, body);
    await until(() => s.mock.holding().length === 1);
    upstreamClock.advance(1000);
    const r = await next;
    assert.equal(r.status, 200);
    assert.equal(JSON.parse(r.text).choices[0].message.content, REPLY);
    assert.equal(calls(s.mock), 2);
    assert.equal(s.mock.requests[1].aborted, false);
    assert.equal(inFlight(), 0);
    assert.equal(s.gw.engine.cacheStats().entries, 1, "the answer of the call that ended is stored");
  });

  test("in process, a caller's signal: the starting caller leaving does not abort a call another waits for; the last one's leaving does", async () => {
    const before = coalesced();
    const engine = s.gw.engine;
    const first = new AbortController();
    const body = () => chat("m", { seed: 17 });
    const a = engine.handle("chat", body(), { requestId: "lib-1", signal: first.signal }).then(
      () => "answered",
      (err: { code?: string }) => err.code,
    );
    await until(() => s.mock.holding().length === 1);
    const second = new AbortController();
    const b = engine.handle("chat", body(), { requestId: "lib-2", signal: second.signal });
    await until(() => coalesced() === before + 1);
    first.abort();
    // Answered at once, while the call it started goes on for the other caller.
    assert.equal(await a, "SY_ERR_CLIENT_ABORT");
    assert.equal(s.mock.requests[0].aborted, false, "the call goes on for the other caller");
    upstreamClock.advance(1000);
    const r = await b;
    assert.equal(JSON.parse(r.body!.toString()).choices[0].message.content, REPLY);
    assert.equal(s.mock.requests[0].aborted, false);

    // A caller that joined and leaves is answered at once too; alone, a caller's leaving aborts the call.
    const stays = new AbortController();
    const d = engine.handle("chat", chat("m", { seed: 19 }), { requestId: "lib-5", signal: stays.signal });
    await until(() => s.mock.holding().length === 1);
    const joined = new AbortController();
    const e = engine.handle("chat", chat("m", { seed: 19 }), { requestId: "lib-6", signal: joined.signal }).then(
      () => "answered",
      (err: { code?: string }) => err.code,
    );
    await until(() => coalesced() === before + 2);
    joined.abort();
    assert.equal(await e, "SY_ERR_CLIENT_ABORT");
    upstreamClock.advance(1000);
    assert.equal((await d).status, 200);

    const lone = new AbortController();
    const c = engine.handle("chat", chat("m", { seed: 18 }), { requestId: "lib-3", signal: lone.signal }).then(
      () => "answered",
      (err: { code?: string }) => err.code,
    );
    await until(() => s.mock.holding().length === 1);
    lone.abort();
    assert.equal(await c, "SY_ERR_CLIENT_ABORT");
    await until(() => s.mock.requests[2]?.aborted === true);
    assert.equal(inFlight(), 0);
  });

  test("an upstream failure reaches every waiter, each in its own API's shape", async () => {
    s.mock.setFault("status=400");
    const before = coalesced();
    const body = chat("m", { seed: 15 });
    const sdk = new OpenAI({ baseURL: `${s.gw.url}/v1`, apiKey: "unused", maxRetries: 0 });
    const pending = [
      post(`${s.gw.url}${CHAT}`, body),
      post(`${s.gw.url}${CHAT}`, { ...body, stream: true }),
      sdk.chat.completions.create({ ...body, messages: [{ role: "user", content: "hi" }] } as never).then(
        () => assert.fail("the SDK call should fail"),
        (err: unknown) => err,
      ),
    ];
    await until(() => coalesced() === before + 2 && s.mock.holding().length === 1);
    upstreamClock.advance(1000);
    const [whole, streamed, sdkErr] = await Promise.all(pending);
    assert.equal(calls(s.mock), 1);
    for (const r of [whole, streamed] as Array<{ status: number; text: string }>) {
      assert.equal(r.status, 400);
      assert.equal(JSON.parse(r.text).error.type, "invalid_request_error");
    }
    assert.ok(sdkErr instanceof OpenAI.BadRequestError);
    assert.equal(s.gw.engine.cacheStats().entries, 0);

    // Anthropic clients sharing a call get Anthropic's error shape, whole or streamed.
    const messages = { model: "m", max_tokens: 20, messages: [{ role: "user", content: "fail for both" }] };
    const before2 = coalesced();
    const anthropicPending = [post(`${s.gw.url}/v1/messages`, messages), post(`${s.gw.url}/v1/messages`, { ...messages, stream: true })];
    await until(() => coalesced() === before2 + 1 && s.mock.holding().length === 1);
    upstreamClock.advance(1000);
    for (const r of await Promise.all(anthropicPending)) {
      assert.equal(r.status, 400);
      const o = JSON.parse(r.text);
      assert.equal(o.type, "error");
      assert.equal(o.error.type, "invalid_request_error");
    }
    assert.equal(calls(s.mock), 2);
  });

  test("a stream that fails under way ends every waiter's stream with the same events and one error event", async () => {
    s.mock.setFault("reset-mid;after=2");
    const before = coalesced();
    const body = chat("m", { seed: 16, stream: true });
    const pending = [post(`${s.gw.url}${CHAT}`, body), post(`${s.gw.url}${CHAT}`, body), post(`${s.gw.url}${CHAT}`, { ...body, stream: false })];
    await until(() => coalesced() === before + 2 && s.mock.holding().length === 1);
    upstreamClock.advance(1000);
    const [a, b, whole] = await Promise.all(pending);
    assert.equal(calls(s.mock), 1);
    assert.equal(a.text, b.text);
    const events = a.text.trim().split("\n\n");
    assert.equal(JSON.parse(events.at(-1)!.slice(6)).error.code, "SY_ERR_UPSTREAM_RESET");
    assert.ok(events.length > 1, "the events before the failure came first");
    assert.equal(whole.status, 502, "the whole-answer waiter gets the failure as its error");
    assert.equal(JSON.parse(whole.text).error.code, "SY_ERR_UPSTREAM_RESET");
    assert.equal(s.gw.engine.cacheStats().entries, 0);
  });

  test("different requests are never merged", async () => {
    const before = coalesced();
    const pending = [1, 2, 3].map((n) => post(`${s.gw.url}${CHAT}`, chat("m", { seed: 100 + n })));
    pending.push(post(`${s.gw.url}${CHAT}`, chat("m", { seed: 101, temperature: 0.9 })));
    await until(() => s.mock.holding().length === 4);
    upstreamClock.advance(1000);
    await Promise.all(pending);
    assert.equal(calls(s.mock), 4);
    assert.equal(coalesced(), before);
  });
});

describe("coalescing a stream under way", () => {
  let s: CachedSetup;
  let upstreamClock: FakeClock;
  before(async () => {
    upstreamClock = new FakeClock();
    // 5 tokens at 10 per second: the mock sends an event each 100 ms of its clock.
    s = await startCached({ enabled: true }, {}, { clock: upstreamClock, tokens: 5, tokensPerSecond: 10 });
  });
  after(() => s.close());

  test("a client that joins a stream late still receives it from the first event", async () => {
    const res = await fetch(`${s.gw.url}${CHAT}`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(chat("m", { seed: 12, stream: true })) });
    const reader = res.body!.getReader();
    upstreamClock.advance(250);
    // The first client has events in hand before the second one asks.
    const firstBytes = await reader.read();
    assert.equal(firstBytes.done, false);
    const late = post(`${s.gw.url}${CHAT}`, chat("m", { seed: 12, stream: true }));
    await until(() => s.gw.engine.cacheStats().coalesced === 1);
    upstreamClock.advance(2000);
    let a = Buffer.from(firstBytes.value!).toString("utf8");
    for (let r = await reader.read(); !r.done; r = await reader.read()) a += Buffer.from(r.value).toString("utf8");
    const b = await late;
    assert.equal(calls(s.mock), 1);
    assert.equal(streamText(a).text, REPLY);
    assert.ok(streamText(a).done);
    assert.equal(b.text, a, "the late joiner gets the same events, from the start");
  });
});

describe("coalescing without the cache", () => {
  let s: CachedSetup;
  let upstreamClock: FakeClock;
  before(async () => {
    upstreamClock = new FakeClock();
    s = await startCached({ coalesce: true }, {}, { latencyMs: 1000, clock: upstreamClock });
  });
  after(() => s.close());

  test("coalesce: true alone shares calls in flight but stores nothing", async () => {
    const pending = [0, 1, 2].map(() => post(`${s.gw.url}${CHAT}`, chat("m", { seed: 5 })));
    await until(() => s.gw.engine.cacheStats().coalesced === 2 && s.mock.holding().length === 1);
    upstreamClock.advance(1000);
    for (const r of await Promise.all(pending)) assert.equal(r.headers.get("x-switchyard-cache"), "bypass");
    const later = post(`${s.gw.url}${CHAT}`, chat("m", { seed: 5 }));
    await until(() => s.mock.holding().length === 1);
    upstreamClock.advance(1000);
    assert.equal((await later).status, 200);
    assert.equal(calls(s.mock), 2);
    assert.equal(s.gw.engine.cacheStats().entries, 0);
  });
});
