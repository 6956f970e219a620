/**
 * Hedged requests: when the first attempt has no first byte after `after`, a
 * second starts on another target; the first to commit wins and the other is
 * aborted with a reason that says why. Time is the engine's fake clock.
 */
import assert from "node:assert/strict";
import { channel, subscribe, unsubscribe } from "node:diagnostics_channel";
import { once } from "node:events";
import { after, afterEach, before, beforeEach, describe, test } from "node:test";
import { resolveConfig } from "../../src/config/load.ts";
import { startMockUpstream, type MockUpstream } from "../../src/mock/index.ts";
import { Hedges, MIN_SAMPLES } from "../../src/routing/hedge.ts";
import { TargetStats } from "../../src/upstream/target-stats.ts";
import { observeTargets } from "../../src/upstream/target-stats-events.ts";
import type { AttemptEnd } from "../../src/telemetry/channels.ts";
import { FakeClock } from "../helpers/fake-clock.ts";
import { chat, post, startGateway, type TestGateway } from "../helpers/gateway.ts";

describe("hedging", () => {
  let slow: MockUpstream;
  let fast: MockUpstream;
  let clock: FakeClock;
  let gw: TestGateway;
  let ends: AttemptEnd[];
  const onEnd = (m: unknown) => {
    if ((m as AttemptEnd).gateway === gw.engine) ends.push(m as AttemptEnd);
  };

  before(async () => {
    slow = await startMockUpstream();
    fast = await startMockUpstream();
    subscribe("switchyard:attempt:end", onEnd);
  });
  after(async () => {
    unsubscribe("switchyard:attempt:end", onEnd);
    await slow.close();
    await fast.close();
  });
  beforeEach(async () => {
    slow.reset();
    fast.reset();
    ends = [];
    clock = new FakeClock();
    gw = await startGateway(
      {
        providers: { slow: { type: "openai", base_url: slow.url }, fast: { type: "openai", base_url: fast.url } },
        models: {
          h: { targets: ["slow/x", { provider: "fast", model: "y", priority: 1 }], hedge: { after: "2s" } },
          single: { targets: ["slow/x"], hedge: { after: "2s" } },
        },
      },
      { clock, random: () => 0 },
    );
  });
  afterEach(() => gw.close());

  for (const stream of [false, true]) {
    test(`${stream ? "a stream" : "a whole answer"} with no first byte after 2 s gets a hedge; the hedge wins and the slow attempt is aborted`, async () => {
      slow.setFault("stall-headers");
      const arrived = once(slow, "request");
      const pending = post(`${gw.url}/v1/chat/completions`, chat("h", { stream }));
      await arrived;
      assert.equal(await clock.waitForTimer((ms) => ms === 2000), 2000);
      assert.equal(fast.requests.length, 0, "no hedge before its time");
      const aborted = once(slow, "abort");
      clock.advance(2000);
      const res = await pending;
      assert.equal(res.status, 200);
      assert.equal(res.headers.get("x-switchyard-target"), "fast/y");
      assert.equal(res.headers.get("x-switchyard-attempts"), "2");
      if (stream) assert.match(res.text, /^data: /);
      await aborted;
      assert.equal(fast.requests.length, 1);
      const lost = ends.find((e) => e.target === "slow/x");
      assert.equal(lost?.error?.code, "SY_ERR_HEDGE_CANCELLED");
      assert.match(lost!.error!.message, /slow\/x was cancelled: hedged: fast\/y answered first/);
      const won = ends.find((e) => e.target === "fast/y");
      assert.equal(won?.error, undefined);
    });
  }

  test("an attempt that answers in time is not hedged, and its timer is cleared", async () => {
    const res = await post(`${gw.url}/v1/chat/completions`, chat("h"));
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("x-switchyard-target"), "slow/x");
    assert.equal(res.headers.get("x-switchyard-attempts"), "1");
    assert.equal(fast.requests.length, 0);
    assert.ok(!clock.pending().includes(2000), "the hedge timer is gone");
  });

  test("with no other target there is nothing to hedge on: the first attempt runs its course", async () => {
    slow.setFault("status=503", { times: 1 });
    const res = await post(`${gw.url}/v1/chat/completions`, chat("single"));
    assert.equal(res.status, 200, "retried after the 503 as usual");
    assert.equal(slow.requests.length, 2);
    assert.equal(fast.requests.length, 0);
  });

  test("a hedge that fails leaves the first attempt to finish", async (t) => {
    // The slow upstream answers when its own clock is moved.
    const mockClock = new FakeClock();
    const late = await startMockUpstream({ clock: mockClock, latencyMs: 5000 });
    t.after(() => late.close());
    const gw2 = await startGateway(
      {
        providers: { late: { type: "openai", base_url: late.url }, fast: { type: "openai", base_url: fast.url } },
        models: { h: { targets: ["late/x", { provider: "fast", model: "y", priority: 1 }], hedge: { after: "2s" } } },
      },
      { clock, random: () => 0 },
    );
    t.after(() => gw2.close());
    fast.setFault("status=500", { times: 1 });
    const arrived = once(late, "request");
    const pending = post(`${gw2.url}/v1/chat/completions`, chat("h"));
    await arrived;
    await clock.waitForTimer((ms) => ms === 2000);
    const hedgeFailed = new Promise<AttemptEnd>((resolve) => {
      const on = (m: unknown) => {
        const e = m as AttemptEnd;
        if (e.gateway !== gw2.engine || e.target !== "fast/y") return;
        unsubscribe("switchyard:attempt:end", on);
        resolve(e);
      };
      subscribe("switchyard:attempt:end", on);
    });
    clock.advance(2000);
    assert.equal((await hedgeFailed).error?.code, "SY_ERR_UPSTREAM_STATUS");
    assert.equal(late.holding().length, 1, "the first attempt is still under way");
    mockClock.advance(5000);
    const res = await pending;
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("x-switchyard-target"), "late/x");
    assert.equal(res.headers.get("x-switchyard-attempts"), "2");
    const body = JSON.parse(res.text) as { choices: unknown[] };
    assert.equal(body.choices.length, 1);
  });
});

describe("hedge: { after: p95 }", () => {
  test(`waits for ${MIN_SAMPLES} first-byte times of the target, then hedges after their 95th percentile, from the target statistics`, () => {
    const config = resolveConfig(
      { providers: { p: { type: "openai", base_url: "http://127.0.0.1:1/v1" } }, models: { m: { targets: ["p/a", "p/b"], hedge: { after: "p95" } } } },
      { env: {} },
    );
    assert.equal(Hedges.usesStats(Object.values(config.models)), true, "the engine keeps target statistics for it");
    const gateway = {};
    const publish = (name: string, message: AttemptEnd) => channel(name).publish(message);
    const stats = new TargetStats();
    const unobserve = observeTargets(stats, gateway);
    const hedges = new Hedges(Object.values(config.models), stats);
    try {
      const end = (target: string, durationMs: number, error?: AttemptEnd["error"], streaming = false) =>
        publish("switchyard:attempt:end", { gateway, requestId: "r", target, provider: "p", durationMs, streaming, error } satisfies AttemptEnd);
      for (let i = 1; i < MIN_SAMPLES; i++) end("p/a", i * 10);
      assert.equal(hedges.delay("m", "p/a", false), undefined, "too few samples to say");
      end("p/a", 5000, { code: "SY_ERR_UPSTREAM_STATUS", message: "x", retryable: true });
      end("p/a", 200);
      publish("switchyard:attempt:end", { gateway: {}, requestId: "r", target: "p/a", provider: "p", durationMs: 9999, streaming: false });
      assert.equal(hedges.delay("m", "p/a", false), 190, "failures and other gateways' attempts are not timed");
      assert.equal(stats.firstByteLimit("p/a", false), 10_000, "the same percentile sets first_byte: auto (clamped to its floor)");
      assert.equal(hedges.delay("m", "p/a", true), undefined, "streams are timed apart from whole answers");
      for (let i = 0; i < MIN_SAMPLES; i++) end("p/a", 40, undefined, true);
      assert.equal(hedges.delay("m", "p/a", true), 40);
      for (let i = 0; i < 100; i++) end("p/a", i < 95 ? 100 : 1000);
      assert.equal(hedges.delay("m", "p/a", false), 100, "the last 100 times count");
      assert.equal(hedges.delay("m", "p/b", false), undefined);
      assert.equal(hedges.delay("other", "p/a", false), undefined, "a model without hedge");
    } finally {
      unobserve();
    }
  });
});
