/**
 * limits.rpm / tpm / burst per provider and per target, through the HTTP
 * front: a full window passes the target over for another with room, else the
 * request waits for room within queue_timeout, else 429 with Retry-After. And
 * what the upstream teaches: 429s lower the effective limit, successes raise
 * it again, x-ratelimit-* headers are heeded.
 */
import assert from "node:assert/strict";
import { describe, type TestContext, test } from "node:test";
import type { QueueEvent } from "../../src/limits/events.ts";
import { FakeClock } from "../helpers/fake-clock.ts";
import { chat, post, startGateway, type TestGateway } from "../helpers/gateway.ts";
import { nextEvent } from "./events.ts";
import { GateUpstream } from "./gate-upstream.ts";

const say = (text: string, model = "m", extra: Record<string, unknown> = {}) => ({ ...chat(model), messages: [{ role: "user", content: text }], ...extra });

interface Setup {
  gw: TestGateway;
  a: GateUpstream;
  b: GateUpstream;
  clock: FakeClock;
  url: string;
  send(text: string, model?: string, extra?: Record<string, unknown>): ReturnType<typeof post>;
}

/** Providers a and b (b without limits), model m = [a/x, then b/x], model only_a = [a/x]. */
async function setup(t: TestContext, aLimits: Record<string, unknown>, extra: { target?: Record<string, unknown>; attempts?: number } = {}): Promise<Setup> {
  const a = await new GateUpstream().listen();
  const b = await new GateUpstream().listen();
  const clock = new FakeClock();
  const aTarget = { provider: "a", model: "x", ...(extra.target === undefined ? {} : { limits: extra.target }) };
  const gw = await startGateway(
    {
      providers: { a: { type: "openai", base_url: a.url, limits: aLimits }, b: { type: "openai", base_url: b.url } },
      models: {
        m: { targets: [aTarget, { provider: "b", model: "x", priority: 1 }], retry: { attempts: extra.attempts ?? 1, base_delay: "1ms", max_delay: "1ms" } },
        only_a: { targets: [aTarget], retry: { attempts: extra.attempts ?? 1, base_delay: "1ms", max_delay: "1ms" } },
      },
    },
    { clock },
  );
  t.after(async () => {
    await gw.close();
    await a.close();
    await b.close();
  });
  const url = `${gw.url}/v1/chat/completions`;
  return { gw, a, b, clock, url, send: (text, model = "m", more = {}) => post(url, say(text, model, more)) };
}

const rateWait = (gw: TestGateway, label: string) =>
  nextEvent<QueueEvent>("switchyard:queue", (m) => m.gateway === gw.engine && m.queue === `rate:target:${label}` && m.event === "wait");

function errorOf(text: string): { switchyard_code: string; code: string; type: string; message: string } {
  return (JSON.parse(text) as { error: { switchyard_code: string; code: string; type: string; message: string } }).error;
}

describe("rate windows", () => {
  test("rpm full: the request goes to another target with room, without spending an attempt", async (t) => {
    const s = await setup(t, { rpm: 2 });
    const served = [];
    for (const name of ["r1", "r2", "r3"]) {
      const res = await s.send(name);
      assert.equal(res.status, 200);
      assert.equal(res.headers.get("x-switchyard-attempts"), "1");
      served.push(res.headers.get("x-switchyard-target"));
    }
    assert.deepEqual(served, ["a/x", "a/x", "b/x"]);
    assert.deepEqual(s.a.arrivals, ["r1", "r2"]);
  });

  test("rpm full and no other target: the request waits for room, then goes", async (t) => {
    const s = await setup(t, { rpm: 1, queue_timeout: "2m" });
    assert.equal((await s.send("r1", "only_a")).status, 200);
    const waiting = rateWait(s.gw, "a/x");
    const second = s.send("r2", "only_a");
    await waiting;
    const delay = await s.clock.waitForTimer((ms) => ms > 1000 && ms < 600_000);
    assert.deepEqual(s.a.arrivals, ["r1"], "nothing is sent while the window is full");
    assert.equal(s.gw.engine.limits!.report().a.targets!["a/x"].rate_waiting, 1);
    s.clock.advance(delay);
    const res = await second;
    assert.equal(res.status, 200);
    assert.deepEqual(s.a.arrivals, ["r1", "r2"]);
  });

  test("no room within queue_timeout: 429 SY_ERR_RATE_LIMITED with Retry-After, and no upstream call", async (t) => {
    const s = await setup(t, { rpm: 1, queue_timeout: "10s" });
    assert.equal((await s.send("r1", "only_a")).status, 200);
    const res = await s.send("r2", "only_a");
    assert.equal(res.status, 429);
    const retryAfter = Number(res.headers.get("retry-after"));
    assert.ok(retryAfter > 10 && retryAfter <= 120, `retry-after ${retryAfter}`);
    const err = errorOf(res.text);
    assert.equal(err.switchyard_code, "SY_ERR_RATE_LIMITED");
    assert.equal(err.code, "rate_limit_exceeded");
    assert.match(err.message, /provider "a" \(rpm 1\)/);
    assert.equal(res.headers.get("x-switchyard-attempts"), "0");
    assert.deepEqual(s.a.arrivals, ["r1"]);
    assert.deepEqual(s.clock.pending().filter((ms) => ms < 600_000), [], "no wait was begun");
  });

  test("a target's own limits apply beside its provider's", async (t) => {
    const s = await setup(t, { rpm: 100 }, { target: { rpm: 1 } });
    assert.equal((await s.send("r1")).headers.get("x-switchyard-target"), "a/x");
    const res = await s.send("r2");
    assert.equal(res.headers.get("x-switchyard-target"), "b/x");
    const report = s.gw.engine.limits!.report().a;
    assert.deepEqual(report.rpm, { limit: 100, effective: 100 });
    assert.deepEqual(report.targets!["a/x"].rpm, { limit: 1, effective: 1 });
  });

  test("burst caps requests at once, while rpm leaves room", async (t) => {
    const s = await setup(t, { rpm: 600, burst: 2 });
    const served = [];
    for (const name of ["r1", "r2", "r3"]) served.push((await s.send(name)).headers.get("x-switchyard-target"));
    assert.deepEqual(served, ["a/x", "a/x", "b/x"]);
    // burst 2 per 2·60s/600 = 200 ms: a little later, room again.
    s.clock.advance(400);
    assert.equal((await s.send("r4")).headers.get("x-switchyard-target"), "a/x");
  });

  test("tpm: the usage an upstream reports is settled against the estimate, so a heavy answer fills the window", async (t) => {
    const s = await setup(t, { tpm: 100 });
    // The estimate of "r1" is a handful of tokens; the answer reports 95.
    s.a.answers.push({ usage: [10, 85] });
    assert.equal((await s.send("r1")).headers.get("x-switchyard-target"), "a/x");
    const res = await s.send("r2");
    assert.equal(res.headers.get("x-switchyard-target"), "b/x", "95 of 100 tokens used: no room for another request");
  });

  test("tpm: a stream's usage is settled when it ends", async (t) => {
    const s = await setup(t, { tpm: 100 });
    s.a.answers.push({ usage: [10, 85] });
    const streamed = await s.send("r1", "m", { stream: true, stream_options: { include_usage: true } });
    assert.equal(streamed.headers.get("x-switchyard-target"), "a/x");
    assert.match(streamed.text, /\[DONE\]/);
    assert.equal(s.gw.engine.limits!.heldStreams(), 0);
    assert.equal((await s.send("r2")).headers.get("x-switchyard-target"), "b/x");
  });

  test("tpm: an answer lighter than its estimate gives the difference back", async (t) => {
    const s = await setup(t, { tpm: 60 });
    // Each prompt is estimated at about 30 tokens; each answer reports 1 + 1.
    const long = "word ".repeat(24);
    const served = [];
    for (let i = 0; i < 4; i++) {
      s.a.answers.push({ usage: [1, 1] });
      served.push((await s.send(`${long}${i}`)).headers.get("x-switchyard-target"));
    }
    assert.deepEqual(served, ["a/x", "a/x", "a/x", "a/x"], "without the give-back, the third would have found the window full");
  });

  test("tpm: a prompt larger than the whole window waits for it to be empty rather than forever", async (t) => {
    const s = await setup(t, { tpm: 50, queue_timeout: "5m" });
    s.a.answers.push({ usage: [1, 1] });
    assert.equal((await s.send("hi", "only_a")).status, 200);
    const waiting = rateWait(s.gw, "a/x");
    const big = s.send("word ".repeat(200), "only_a");
    await waiting;
    s.clock.advance(await s.clock.waitForTimer((ms) => ms > 1000 && ms < 600_000));
    assert.equal((await big).status, 200);
  });
});

test("when every target is full, the request waits at the one with room soonest, not the first in order", async (t) => {
  const a = await new GateUpstream().listen();
  const b = await new GateUpstream().listen();
  const clock = new FakeClock();
  const gw = await startGateway(
    {
      providers: { a: { type: "openai", base_url: a.url, limits: { rpm: 1, queue_timeout: "5m" } }, b: { type: "openai", base_url: b.url, limits: { rpm: 1, queue_timeout: "5m" } } },
      models: { both: { targets: ["b/x", { provider: "a", model: "x", priority: 1 }], retry: { attempts: 1 } }, a: { targets: ["a/x"] }, b: { targets: ["b/x"] } },
    },
    { clock },
  );
  t.after(async () => {
    await gw.close();
    await a.close();
    await b.close();
  });
  const url = `${gw.url}/v1/chat/completions`;
  assert.equal((await post(url, say("fill a", "a"))).status, 200);
  // Into the next minute's bucket: a's use is fading, b's is fresh.
  clock.advance(50_000);
  assert.equal((await post(url, say("fill b", "b"))).status, 200);
  const waiting = rateWait(gw, "a/x");
  const pending = post(url, say("r3", "both"));
  await waiting;
  const delay = await clock.waitForTimer((ms) => ms > 1000 && ms < 600_000);
  assert.equal(delay, 50_000, "a has room in 50 s, b only in 110 s");
  clock.advance(delay);
  const res = await pending;
  assert.equal(res.status, 200);
  assert.equal(res.headers.get("x-switchyard-target"), "a/x");
  assert.deepEqual(b.arrivals, ["fill b"]);
});

describe("adaptive limits", () => {
  test("an upstream 429 lowers the effective limit to 80% and honours its Retry-After; the next request goes elsewhere", async (t) => {
    const s = await setup(t, { rpm: 1000 }, { attempts: 2 });
    s.a.answers.push({ status: 429, headers: { "retry-after": "30" } });
    const first = await s.send("r1");
    assert.equal(first.status, 200);
    assert.equal(first.headers.get("x-switchyard-target"), "b/x");
    const report = s.gw.engine.limits!.report().a;
    assert.deepEqual(report.rpm, { limit: 1000, effective: 800 });
    assert.equal(report.targets!["a/x"].paused_until, new Date(s.clock.now() + 30_000).toISOString());
    const second = await s.send("r2");
    assert.equal(second.headers.get("x-switchyard-target"), "b/x");
    assert.equal(second.headers.get("x-switchyard-attempts"), "1", "the paused target was passed over, not tried");
    assert.deepEqual(s.a.arrivals, ["r1"]);
    s.clock.advance(30_000);
    assert.equal((await s.send("r3")).headers.get("x-switchyard-target"), "a/x");
  });

  test("after 10 successes in a row the effective limit climbs back by 10% of the configured one, up to it", async (t) => {
    const s = await setup(t, { rpm: 1000 }, { attempts: 2 });
    s.a.answers.push({ status: 429 }, { status: 429 });
    await s.send("throttled-1");
    await s.send("throttled-2");
    const effective = () => s.gw.engine.limits!.report().a.rpm!.effective;
    assert.equal(effective(), 640, "two 429s: 1000 · 0.8 · 0.8");
    for (let i = 0; i < 9; i++) assert.equal((await s.send(`ok-${i}`)).headers.get("x-switchyard-target"), "a/x");
    assert.equal(effective(), 640);
    await s.send("ok-9");
    assert.equal(effective(), 740);
    for (let i = 0; i < 30; i++) await s.send(`more-${i}`);
    assert.equal(effective(), 1000, "never past the configured limit");
  });

  test("an upstream's x-ratelimit-* headers are read: nothing left until a reset means the target waits for it", async (t) => {
    const s = await setup(t, { rpm: 1000 });
    s.a.answers.push({ headers: { "x-ratelimit-remaining-requests": "0", "x-ratelimit-reset-requests": "20s", "x-ratelimit-remaining-tokens": "5000", "x-ratelimit-reset-tokens": "1m0s" } });
    assert.equal((await s.send("r1")).headers.get("x-switchyard-target"), "a/x");
    const upstream = s.gw.engine.limits!.report().a.targets!["a/x"].upstream!;
    assert.equal(upstream.requests_remaining, 0);
    assert.equal(upstream.tokens_remaining, 5000);
    assert.equal(upstream.requests_reset_at, new Date(s.clock.now() + 20_000).toISOString());
    assert.equal((await s.send("r2")).headers.get("x-switchyard-target"), "b/x");
    s.clock.advance(20_000);
    assert.equal((await s.send("r3")).headers.get("x-switchyard-target"), "a/x");
  });

  test("the remaining count the upstream reported goes down with each request admitted", async (t) => {
    const s = await setup(t, { rpm: 1000 });
    s.a.answers.push({ headers: { "x-ratelimit-remaining-requests": "2", "x-ratelimit-reset-requests": "1m" } });
    const served = [];
    // r1 reports 2 left; r2 and r3 use them (answers without the headers leave the count as it was).
    for (const name of ["r1", "r2", "r3", "r4"]) served.push((await s.send(name)).headers.get("x-switchyard-target"));
    assert.deepEqual(served, ["a/x", "a/x", "a/x", "b/x"]);
  });
});

describe("configuration", () => {
  test("without limits there is no wrapper: limits is undefined and requests go straight through", async () => {
    const gw = await startGateway({ providers: { d: { type: "demo" } }, models: { m: { targets: ["d/demo-1"] } } });
    try {
      assert.equal(gw.engine.limits, undefined);
      const health = (await (await fetch(`${gw.url}/health/upstream`)).json()) as { providers: Record<string, { limits?: unknown }> };
      assert.equal(health.providers.d.limits, undefined);
    } finally {
      await gw.close();
    }
  });
});
