import assert from "node:assert/strict";
import { after, before, beforeEach, describe, test } from "node:test";
import { chat, post } from "../helpers/gateway.ts";
import { fingerprint } from "../../src/cache/key.ts";
import { calls, type CachedSetup, startCached } from "./setup.ts";

const CHAT = "/v1/chat/completions";

describe("response cache: hits, misses, expiry, eviction", () => {
  let s: CachedSetup;
  before(async () => {
    s = await startCached(
      { enabled: true, ttl: "10m", max_entry_bytes: "64kb" },
      { models: { short: { targets: ["up/x"], cache: { ttl: "5s" } }, never: { targets: ["up/x"], cache: false } } },
    );
  });
  after(() => s.close());
  beforeEach(() => {
    s.mock.reset();
    s.gw.engine.cache!.purge();
  });

  const ask = (body: unknown, headers: Record<string, string> = {}) => post(`${s.gw.url}${CHAT}`, body, headers);

  test("a repeat is a hit with its age, answered without the upstream", async () => {
    const first = await ask(chat("m", { temperature: 0.1 }));
    assert.equal(first.status, 200);
    assert.equal(first.headers.get("x-switchyard-cache"), "miss");
    assert.equal(first.headers.get("age"), null);
    s.clock.advance(7_000);
    const second = await ask(chat("m", { temperature: 0.1 }));
    assert.equal(second.headers.get("x-switchyard-cache"), "hit");
    assert.equal(second.headers.get("age"), "7");
    assert.equal(second.headers.get("x-switchyard-attempts"), "0");
    assert.equal(calls(s.mock), 1);
    const a = JSON.parse(first.text);
    const b = JSON.parse(second.text);
    assert.deepEqual(b.choices, a.choices);
    assert.deepEqual(b.usage, a.usage);
    assert.notEqual(b.id, a.id, "a replay has an id of its own");
    assert.match(b.id, /^chatcmpl-/);
  });

  test("an entry expires after its ttl; a model's own ttl wins; cache: false keeps a model out", async () => {
    await ask(chat("m"));
    s.clock.advance(10 * 60_000 - 1);
    assert.equal((await ask(chat("m"))).headers.get("x-switchyard-cache"), "hit");
    s.clock.advance(1);
    assert.equal((await ask(chat("m"))).headers.get("x-switchyard-cache"), "miss");
    assert.equal(calls(s.mock), 2);

    await ask(chat("short"));
    s.clock.advance(4_999);
    assert.equal((await ask(chat("short"))).headers.get("x-switchyard-cache"), "hit");
    s.clock.advance(1);
    assert.equal((await ask(chat("short"))).headers.get("x-switchyard-cache"), "miss");

    assert.equal((await ask(chat("never"))).headers.get("x-switchyard-cache"), "bypass");
    assert.equal((await ask(chat("never"))).headers.get("x-switchyard-cache"), "bypass");
    assert.equal(s.gw.engine.cacheStats().models?.never?.entries ?? 0, 0);
  });

  test("key order and whitespace do not matter; stream, stream_options and user do not separate entries", async () => {
    await ask(`{"model":"m","temperature":0.5,"messages":[{"role":"user","content":"same"}]}`);
    const reordered = await ask(`{ "messages" : [ { "content" : "same", "role" : "user" } ],\n  "temperature": 0.5, "model": "m" }`);
    assert.equal(reordered.headers.get("x-switchyard-cache"), "hit");
    const tagged = await ask({ model: "m", temperature: 0.5, user: "someone", messages: [{ role: "user", content: "same" }] });
    assert.equal(tagged.headers.get("x-switchyard-cache"), "hit");
    const streamed = await ask({ model: "m", temperature: 0.5, stream: true, stream_options: { include_usage: true }, messages: [{ role: "user", content: "same" }] });
    assert.equal(streamed.headers.get("x-switchyard-cache"), "hit");
    assert.match(streamed.headers.get("content-type")!, /text\/event-stream/);
    assert.match(streamed.text, /"usage":\{"prompt_tokens"/);
    assert.ok(streamed.text.endsWith("data: [DONE]\n\n"));
    assert.equal(calls(s.mock), 1);
  });

  test("temperature, tools and a different message each make their own entry", async () => {
    const base = { temperature: 0.2 };
    const tool = { type: "function", function: { name: "lookup", parameters: { type: "object", properties: { q: { type: "string" } } } } };
    const variants = [
      chat("m", base),
      chat("m", { temperature: 0.3 }),
      chat("m", { ...base, tools: [tool] }),
      { model: "m", temperature: 0.2, messages: [{ role: "user", content: "something else" }] },
    ];
    for (const v of variants) assert.equal((await ask(v)).headers.get("x-switchyard-cache"), "miss");
    for (const v of variants) assert.equal((await ask(v)).headers.get("x-switchyard-cache"), "hit");
    assert.equal(calls(s.mock), 4);
  });

  test("Cache-Control no-cache refreshes the entry, no-store neither reads nor writes, a ttl header sets the entry's life", async () => {
    await ask(chat("m"));
    const refreshed = await ask(chat("m"), { "cache-control": "no-cache" });
    assert.equal(refreshed.headers.get("x-switchyard-cache"), "refresh");
    assert.equal(calls(s.mock), 2);
    assert.equal((await ask(chat("m"))).headers.get("x-switchyard-cache"), "hit");

    const body = chat("m", { seed: 7 });
    assert.equal((await ask(body, { "cache-control": "no-store" })).headers.get("x-switchyard-cache"), "bypass");
    assert.equal((await ask(body)).headers.get("x-switchyard-cache"), "miss", "no-store wrote nothing");
    assert.equal((await ask(body, { "cache-control": "no-store" })).headers.get("x-switchyard-cache"), "bypass", "and reads nothing");

    const short = chat("m", { seed: 8 });
    await ask(short, { "x-switchyard-cache-ttl": "2" });
    s.clock.advance(1_999);
    assert.equal((await ask(short)).headers.get("x-switchyard-cache"), "hit");
    s.clock.advance(1);
    assert.equal((await ask(short)).headers.get("x-switchyard-cache"), "miss");

    const unkept = chat("m", { seed: 9 });
    await ask(unkept, { "x-switchyard-cache-ttl": "0s" });
    assert.equal((await ask(unkept)).headers.get("x-switchyard-cache"), "miss", "a ttl of 0 stores nothing");
  });

  test("a ttl header that is not a duration is refused in the client's shape", async () => {
    const res = await ask(chat("m"), { "x-switchyard-cache-ttl": "soon" });
    assert.equal(res.status, 400);
    const err = JSON.parse(res.text).error;
    assert.equal(err.type, "invalid_request_error");
    assert.match(err.message, /x-switchyard-cache-ttl/);
    assert.equal(calls(s.mock), 0);
  });

  test("a body nested 100,000 levels deep is refused as too deep, in the client's shape, and the gateway goes on serving", async () => {
    const deep = `{"model":"m","messages":[{"role":"user","content":"hi"}],"x":${"[".repeat(100_000)}${"]".repeat(100_000)}}`;
    const res = await fetch(`${s.gw.url}${CHAT}`, { method: "POST", headers: { "content-type": "application/json" }, body: deep });
    assert.equal(res.status, 400);
    const err = ((await res.json()) as { error: { type: string; message: string } }).error;
    assert.equal(err.type, "invalid_request_error");
    assert.match(err.message, /more than 64 levels deep/);
    assert.equal((await ask(chat("m", { seed: 99 }))).status, 200);
  });

  test("only complete successes are stored: not an upstream error, not a stream cut off", async () => {
    s.mock.setFault("status=400");
    const failed = await ask(chat("m", { seed: 1 }));
    assert.equal(failed.status, 400);
    assert.equal(failed.headers.get("x-switchyard-cache"), "miss", "a failed answer says how the cache took part too");
    assert.equal((await ask(chat("never", { seed: 1 }))).headers.get("x-switchyard-cache"), "bypass");
    s.mock.setFault(null);
    assert.equal((await ask(chat("m", { seed: 1 }))).headers.get("x-switchyard-cache"), "miss");

    s.mock.setFault("reset-mid;after=1");
    const cut = await ask(chat("m", { seed: 2, stream: true }));
    assert.match(cut.text, /"error"/);
    s.mock.setFault(null);
    const again = await ask(chat("m", { seed: 2, stream: true }));
    assert.equal(again.headers.get("x-switchyard-cache"), "miss");
    assert.doesNotMatch(again.text, /"error"/);
    assert.equal((await ask(chat("m", { seed: 2, stream: true }))).headers.get("x-switchyard-cache"), "hit");
  });
});

describe("response cache: least recently used eviction by bytes", () => {
  let s: CachedSetup;
  before(async () => {
    // Each answer is a few hundred bytes: two fit, three do not.
    s = await startCached({ enabled: true, max_bytes: "900b" });
  });
  after(() => s.close());

  test("the least recently used entry goes first, and the stats count it", async () => {
    const ask = (n: number) => post(`${s.gw.url}${CHAT}`, chat("m", { seed: n }));
    await ask(1);
    await ask(2);
    assert.equal((await ask(1)).headers.get("x-switchyard-cache"), "hit", "1 is now the most recently used");
    await ask(3);
    const stats = s.gw.engine.cacheStats();
    assert.equal(stats.evictions, 1);
    assert.equal(stats.entries, 2);
    assert.ok(stats.bytes! <= 900);
    assert.equal((await ask(1)).headers.get("x-switchyard-cache"), "hit");
    assert.equal((await ask(3)).headers.get("x-switchyard-cache"), "hit");
    assert.equal((await ask(2)).headers.get("x-switchyard-cache"), "miss", "2 was evicted");
  });
});

describe("response cache: max_entry_bytes", () => {
  let s: CachedSetup;
  before(async () => {
    s = await startCached({ enabled: true, max_entry_bytes: "200b" });
  });
  after(() => s.close());

  test("an answer larger than max_entry_bytes is passed through whole and not stored", async () => {
    for (const stream of [false, true]) {
      const body = chat("m", { stream });
      const first = await post(`${s.gw.url}${CHAT}`, body);
      assert.equal(first.status, 200);
      assert.ok(first.text.length > 200, `the answer (${first.text.length} bytes) is over the limit`);
      if (stream) assert.ok(first.text.endsWith("data: [DONE]\n\n"));
      else JSON.parse(first.text);
      assert.equal((await post(`${s.gw.url}${CHAT}`, body)).headers.get("x-switchyard-cache"), "miss");
    }
    assert.equal(calls(s.mock), 4);
    assert.equal(s.gw.engine.cacheStats().entries, 0);
    assert.equal(s.gw.engine.cacheStats().models!.m.too_large, 4);
  });
});

describe("response cache: requests that share a fingerprint by chance", () => {
  test("long prompts that differ only between the fingerprint's samples are two requests, each answered as its own", async () => {
    const long = "abcdefghij".repeat(1_000);
    const a = chat("m", { messages: [{ role: "user", content: long }] });
    const b = chat("m", { messages: [{ role: "user", content: `${long.slice(0, 129)}X${long.slice(130)}` }] });
    assert.equal(fingerprint(0, "chat", "", "", a), fingerprint(0, "chat", "", "", b));
    const s = await startCached({ enabled: true }, {}, {}, { random: () => 0 });
    try {
      const status = async (body: object) => (await post(`${s.gw.url}${CHAT}`, body)).headers.get("x-switchyard-cache");
      assert.equal(await status(a), "miss");
      assert.equal(await status(b), "miss");
      assert.equal(await status(b), "hit");
      assert.equal(calls(s.mock), 2);
    } finally {
      await s.close();
    }
  });

  test("are never given each other's answer: the later one's answer replaces the earlier's entry", async () => {
    // With the seed fixed (random() = 0), find two different requests whose fingerprints collide.
    const body = (i: number) => chat("m", { messages: [{ role: "user", content: `question ${i}` }] });
    const seen = new Map<number, number>();
    let pair: [number, number] | undefined;
    for (let i = 0; pair === undefined && i < 1_000_000; i++) {
      const fp = fingerprint(0, "chat", "", "", body(i))!;
      const j = seen.get(fp);
      if (j !== undefined) pair = [j, i];
      else seen.set(fp, i);
    }
    assert.ok(pair !== undefined, "two requests with one fingerprint");
    const [a, b] = pair;
    const s = await startCached({ enabled: true }, {}, {}, { random: () => 0 });
    try {
      const status = async (i: number) => (await post(`${s.gw.url}${CHAT}`, body(i))).headers.get("x-switchyard-cache");
      assert.equal(await status(a), "miss");
      assert.equal(await status(b), "miss", "a different request with the same fingerprint is not a hit");
      assert.equal(calls(s.mock), 2);
      assert.equal(await status(b), "hit");
      assert.equal(await status(a), "miss", "b's answer took the entry");
      assert.equal(calls(s.mock), 3);
    } finally {
      await s.close();
    }
  });
});
