/** limits.concurrency and server.max_in_flight through the HTTP front, against an upstream that holds calls on demand. */
import assert from "node:assert/strict";
import { after, before, beforeEach, describe, test } from "node:test";
import type { QueueEvent } from "../../src/limits/events.ts";
import type { RequestEnd } from "../../src/telemetry/channels.ts";
import { FakeClock } from "../helpers/fake-clock.ts";
import { chat, post, startGateway, type TestGateway } from "../helpers/gateway.ts";
import { nextEvent } from "./events.ts";
import { GateUpstream } from "./gate-upstream.ts";

const say = (text: string, extra: Record<string, unknown> = {}) => ({ ...chat("m"), messages: [{ role: "user", content: text }], ...extra });
const queued = (gw: TestGateway, queue: string, event: QueueEvent["event"] = "wait") =>
  nextEvent<QueueEvent>("switchyard:queue", (m) => m.gateway === gw.engine && m.queue === queue && m.event === event);
const ended = (gw: TestGateway) => nextEvent<RequestEnd>("switchyard:request:end", (m) => m.gateway === gw.engine);
const slots = (gw: TestGateway, provider = "p") => gw.engine.limits!.report()[provider].concurrency!;

describe("limits.concurrency", () => {
  let up: GateUpstream;
  let clock: FakeClock;
  let gw: TestGateway;
  before(async () => {
    up = await new GateUpstream().listen();
    clock = new FakeClock();
    gw = await startGateway(
      {
        providers: { p: { type: "openai", base_url: up.url, limits: { concurrency: 1, queue_timeout: "5s" } } },
        models: { m: { targets: ["p/x"], retry: { attempts: 1 } } },
      },
      { clock },
    );
  });
  after(async () => {
    await gw.close();
    await up.close();
  });
  beforeEach(() => up.reset());

  test("past the limit, requests wait in a FIFO queue and reach the upstream in arrival order", async () => {
    up.hold = true;
    const url = `${gw.url}/v1/chat/completions`;
    const first = post(url, say("r1"));
    await up.arrived(1);
    const rest: Promise<{ status: number }>[] = [];
    for (const name of ["r2", "r3", "r4"]) {
      const waiting = queued(gw, "provider:p");
      rest.push(post(url, say(name)));
      await waiting;
    }
    assert.equal(slots(gw).queued, 3);
    assert.equal(up.arrivals.length, 1, "nothing past the limit reached the upstream");
    for (let n = 2; n <= 4; n++) {
      up.release();
      await up.arrived(n);
    }
    up.release();
    const results = await Promise.all([first, ...rest]);
    assert.deepEqual(results.map((r) => r.status), [200, 200, 200, 200]);
    assert.deepEqual(up.arrivals, ["r1", "r2", "r3", "r4"]);
    assert.deepEqual({ in_flight: slots(gw).in_flight, queued: slots(gw).queued }, { in_flight: 0, queued: 0 });
  });

  test("a request still queued at queue_timeout gets a 503 with Retry-After; the slot holder is unaffected", async () => {
    up.hold = true;
    const url = `${gw.url}/v1/chat/completions`;
    const first = post(url, say("r1"));
    await up.arrived(1);
    const waiting = queued(gw, "provider:p");
    const second = post(url, say("r2"));
    await waiting;
    clock.advance(4999);
    assert.equal(slots(gw).queued, 1);
    clock.advance(1);
    const res = await second;
    assert.equal(res.status, 503);
    assert.ok(Number(res.headers.get("retry-after")) >= 1, `retry-after: ${res.headers.get("retry-after")}`);
    const body = JSON.parse(res.text) as { error: { switchyard_code: string; message: string } };
    assert.equal(body.error.switchyard_code, "SY_ERR_QUEUE_TIMEOUT");
    assert.match(body.error.message, /provider "p"/);
    assert.equal(res.headers.get("x-switchyard-attempts"), "0", "no upstream attempt was made");
    up.release();
    assert.equal((await first).status, 200);
    assert.deepEqual(up.arrivals, ["r1"]);
    assert.equal(slots(gw).in_flight, 0);
    assert.equal(slots(gw).timeouts, 1);
  });

  test("a queued request whose client goes away leaves the queue at once", async () => {
    up.hold = true;
    const url = `${gw.url}/v1/chat/completions`;
    const first = post(url, say("r1"));
    await up.arrived(1);
    const waiting = queued(gw, "provider:p");
    const ac = new AbortController();
    const gone = fetch(url, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(say("r2")), signal: ac.signal }).catch(() => "aborted");
    await waiting;
    const left = queued(gw, "provider:p", "leave");
    ac.abort();
    assert.equal(await gone, "aborted");
    await left;
    assert.equal(slots(gw).queued, 0);
    up.release();
    assert.equal((await first).status, 200);
    assert.deepEqual(up.arrivals, ["r1"], "the request that left never reached the upstream");
    assert.equal(slots(gw).in_flight, 0);
  });

  test("a slot is given back on every path: success, upstream error, client abort, stream end, stream abort", async () => {
    const url = `${gw.url}/v1/chat/completions`;
    // Success.
    assert.equal((await post(url, say("ok"))).status, 200);
    assert.equal(slots(gw).in_flight, 0);
    // Upstream error.
    up.answers.push({ status: 500 });
    assert.equal((await post(url, say("fails"))).status, 500);
    assert.equal(slots(gw).in_flight, 0);
    // The client leaves while the upstream holds the call.
    up.hold = true;
    const ac = new AbortController();
    const done = ended(gw);
    const gone = fetch(url, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(say("abandoned")), signal: ac.signal }).catch(() => "aborted");
    await up.arrived(3);
    assert.equal(slots(gw).in_flight, 1);
    ac.abort();
    assert.equal(await gone, "aborted");
    await done;
    assert.equal(slots(gw).in_flight, 0);
    up.release();
    up.hold = false;
    // A stream holds its slot until it ends.
    up.holdStreams = true;
    const res = await fetch(url, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(say("streamed", { stream: true })) });
    assert.equal(res.status, 200);
    const reader = res.body!.getReader();
    await reader.read();
    assert.equal(slots(gw).in_flight, 1, "the stream still holds its slot");
    assert.equal(gw.engine.limits!.heldStreams(), 1);
    up.endStreams();
    while (!(await reader.read()).done);
    assert.equal(slots(gw).in_flight, 0);
    assert.equal(gw.engine.limits!.heldStreams(), 0);
    // A stream the client walks away from.
    const ac2 = new AbortController();
    const streamEnded = ended(gw);
    const res2 = await fetch(url, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(say("left", { stream: true })), signal: ac2.signal });
    await res2.body!.getReader().read();
    assert.equal(slots(gw).in_flight, 1);
    ac2.abort();
    await streamEnded;
    assert.equal(slots(gw).in_flight, 0);
    assert.equal(gw.engine.limits!.heldStreams(), 0);
    up.endStreams();
  });

  test("/health/upstream shows each provider's slots and queue", async () => {
    const res = await fetch(`${gw.url}/health/upstream`);
    const body = (await res.json()) as { providers: Record<string, { limits?: { concurrency?: Record<string, number> } }> };
    const c = body.providers.p.limits!.concurrency!;
    assert.equal(c.limit, 1);
    assert.equal(c.in_flight, 0);
    assert.equal(c.queued, 0);
    assert.equal(typeof c.waited, "number");
    assert.equal(typeof c.timeouts, "number");
  });
});

describe("passing over a full target, and server.max_in_flight", () => {
  let a: GateUpstream;
  let b: GateUpstream;
  let clock: FakeClock;
  let gw: TestGateway;
  before(async () => {
    a = await new GateUpstream().listen();
    b = await new GateUpstream().listen();
    clock = new FakeClock();
    gw = await startGateway(
      {
        server: { max_in_flight: 2 },
        providers: {
          a: { type: "openai", base_url: a.url, limits: { concurrency: 1 } },
          b: { type: "openai", base_url: b.url },
        },
        models: {
          m: { targets: ["a/x", { provider: "b", model: "x", priority: 1 }], retry: { attempts: 1 } },
          only_b: { targets: ["b/x"] },
        },
      },
      { clock },
    );
  });
  after(async () => {
    await gw.close();
    await a.close();
    await b.close();
  });

  test("a target at its limit is passed over for one with room, without spending an attempt", async () => {
    a.hold = true;
    const url = `${gw.url}/v1/chat/completions`;
    const first = post(url, say("r1"));
    await a.arrived(1);
    const second = await post(url, say("r2"));
    assert.equal(second.status, 200);
    assert.equal(second.headers.get("x-switchyard-target"), "b/x");
    assert.equal(second.headers.get("x-switchyard-attempts"), "1", "retry.attempts is 1: the pass-over did not spend it");
    a.release();
    assert.equal((await first).status, 200);
    a.hold = false;
  });

  test("server.max_in_flight caps upstream calls across providers; the next waits its turn", async () => {
    a.hold = true;
    b.hold = true;
    const url = `${gw.url}/v1/chat/completions`;
    const r1 = post(url, say("r1"));
    await a.arrived(a.arrivals.length + 1);
    const r2 = post(url, { ...say("r2"), model: "only_b" });
    await b.arrived(b.arrivals.length + 1);
    const waiting = queued(gw, "server");
    const r3 = post(url, { ...say("r3"), model: "only_b" });
    await waiting;
    assert.equal(gw.engine.limits!.serverQueue()!.queued, 1);
    assert.equal(b.heldCount, 1);
    a.release();
    await b.arrived(b.arrivals.length + 1);
    assert.equal(b.arrivals.at(-1), "r3");
    b.release();
    b.release();
    const all = await Promise.all([r1, r2, r3]);
    assert.deepEqual(all.map((r) => r.status), [200, 200, 200]);
    assert.deepEqual({ in_flight: gw.engine.limits!.serverQueue()!.in_flight, queued: gw.engine.limits!.serverQueue()!.queued }, { in_flight: 0, queued: 0 });
    a.hold = false;
    b.hold = false;
  });
});
