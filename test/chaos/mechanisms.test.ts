/**
 * The chaos suite's look at each resilience mechanism on its own, on the
 * engine's fake clock: a dead target ejected and then left alone, readmitted
 * once it has recovered; a full outage that costs about one attempt per
 * request, bounded by the retry budget, and with breakers fails fast; a full
 * queue that answers 503 with Retry-After. Each ends with nothing left open.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { closedPort } from "../server/util.ts";
import { activeResources, Chaos, leftOpen } from "./harness.ts";

/** The default breaker: failures in a row that open it, how long it stays open, probes let through half-open. */
const CONSECUTIVE = 5;
const RECOVERY_MS = 60_000;
const HALF_OPEN_PROBES = 3;

const chat = (model: string) => ({ model, stream: false });

describe("chaos, one mechanism at a time", () => {
  let baseline: Record<string, number>;
  const started: Chaos[] = [];
  before(() => {
    baseline = activeResources();
  });
  after(async () => {
    for (const c of started) await c.close();
  });
  async function start(options: Parameters<typeof Chaos.start>[0]): Promise<Chaos> {
    const c = await Chaos.start(options);
    started.push(c);
    return c;
  }

  test("a dead target is ejected after its threshold, costs no request while open, and is readmitted once it has recovered", async () => {
    let primaryDown = true;
    const chaos = await start({
      seed: 1,
      refusedUrl: `http://127.0.0.1:${await closedPort()}/v1`,
      mocks: { primary: { faults: () => (primaryDown ? "status=503" : null) }, backup: {} },
      config: (url) => ({
        providers: { primary: { type: "openai", base_url: url.primary }, backup: { type: "openai", base_url: url.backup } },
        models: { m: { targets: [{ provider: "primary", model: "m" }, { provider: "backup", model: "m", priority: 1 }], retry: { attempts: 2, base_delay: 0, max_delay: 0 } } },
      }),
    });
    const sentToPrimary = () => chaos.attempts.filter((a) => a.target === "primary/m").length;
    for (let i = 0; i < 30; i++) {
      const o = await chaos.send("m", false);
      assert.deepEqual([o.ok, o.target], [true, "backup/m"]);
    }
    assert.equal(sentToPrimary(), CONSECUTIVE, "ejected after exactly its threshold, then left alone");
    assert.equal((await chaos.engine.upstreamHealth()).targets["primary/m"].breaker?.state, "open");

    // It recovers, but stays ejected until its recovery time is up.
    primaryDown = false;
    chaos.clock.advance(RECOVERY_MS - 1);
    assert.equal((await chaos.send("m", false)).target, "backup/m");
    assert.equal(sentToPrimary(), CONSECUTIVE);
    chaos.clock.advance(1);
    // Half-open: its probes get through and succeed, and it is closed again.
    for (let i = 0; i < HALF_OPEN_PROBES + 5; i++) assert.equal((await chaos.send("m", false)).target, "primary/m");
    assert.equal((await chaos.engine.upstreamHealth()).targets["primary/m"].breaker?.state, "closed");
  });

  test("a full outage without breakers costs about one attempt per request: the retry budget bounds the rest", async () => {
    const providers = ["a", "b", "c"];
    const chaos = await start({
      seed: 2,
      refusedUrl: `http://127.0.0.1:${await closedPort()}/v1`,
      mocks: Object.fromEntries(providers.map((p) => [p, { faults: () => "status=503" }])),
      config: (url) => ({
        defaults: { breaker: false },
        providers: Object.fromEntries(providers.map((p) => [p, { type: "openai", base_url: url[p] }])),
        models: { m: { strategy: "weighted", targets: providers.map((p) => `${p}/m`), retry: { attempts: 3, base_delay: 0, max_delay: 0 } } },
      }),
    });
    const n = 300;
    // 25 ms apart: 7.5 s, inside one budget window of 10 s.
    const outcomes = await chaos.run(Array.from({ length: n }, () => chat("m")), 10, 25);
    assert.ok(outcomes.every((o) => !o.ok && o.status === 503));
    // Each provider may cause retries of 20% of the requests it was sent, and 3 a second (30 in the window) always.
    const allowed = providers.length * 30 + 0.2 * n;
    const attempts = chaos.attempts.length;
    assert.ok(attempts >= n, "every request was tried once");
    assert.ok(attempts <= n + allowed, `${attempts} attempts for ${n} requests; the budget allows ${n + allowed}, without it ${3 * n}`);
    assert.ok(outcomes.filter((o) => o.attempts.length === 1).length >= n - allowed, "most failed at once");
  });

  test("a full outage with breakers fails fast: 503 SY_ERR_NO_HEALTHY_TARGET with Retry-After, and no attempt", async () => {
    const chaos = await start({
      seed: 3,
      refusedUrl: `http://127.0.0.1:${await closedPort()}/v1`,
      mocks: { a: { faults: () => "status=503" }, b: { faults: () => "status=500" } },
      config: (url) => ({
        providers: { a: { type: "openai", base_url: url.a }, b: { type: "openai", base_url: url.b } },
        models: { m: { targets: ["a/m", "b/m"], retry: { attempts: 2, base_delay: 0, max_delay: 0 } } },
      }),
    });
    const outcomes = await chaos.run(Array.from({ length: 40 }, () => chat("m")), 1, 100);
    const attemptsAfter = (i: number) => outcomes.slice(i).reduce((sum, o) => sum + o.attempts.length, 0);
    const fast = outcomes.findIndex((o) => o.code === "SY_ERR_NO_HEALTHY_TARGET");
    assert.ok(fast > 0 && fast <= CONSECUTIVE, `fails fast from request ${fast}`);
    for (const o of outcomes.slice(fast)) {
      assert.deepEqual([o.status, o.code], [503, "SY_ERR_NO_HEALTHY_TARGET"]);
      assert.ok(o.retryAfterMs! > 0 && o.retryAfterMs! <= RECOVERY_MS, `Retry-After ${o.retryAfterMs} ms`);
    }
    assert.equal(attemptsAfter(fast), 0, "no upstream is called once both are ejected");
    assert.equal(chaos.attempts.length, 2 * CONSECUTIVE);
  });

  test("a full queue times out with 503 SY_ERR_QUEUE_TIMEOUT and a Retry-After", async () => {
    const chaos = await start({
      seed: 4,
      refusedUrl: `http://127.0.0.1:${await closedPort()}/v1`,
      mocks: { slow: { engineClock: true, options: { latencyMs: 5000 } } },
      config: (url) => ({
        providers: { slow: { type: "openai", base_url: url.slow, limits: { concurrency: 1, queue_timeout: "1s" } } },
        models: { m: { targets: ["slow/m"] } },
      }),
    });
    const held = chaos.send("m", false);
    while (chaos.mocks.slow.holding().length === 0) await new Promise((resolve) => setImmediate(resolve));
    const queued = [chaos.send("m", false), chaos.send("m", false)];
    // Both wait for the one slot: a queue timer each, on the engine's clock.
    await chaos.clock.waitForTimer((ms) => ms === 1000);
    chaos.clock.advance(1000);
    for (const o of await Promise.all(queued)) {
      assert.deepEqual([o.ok, o.status, o.code, o.attempts.length], [false, 503, "SY_ERR_QUEUE_TIMEOUT", 0]);
      assert.ok(o.retryAfterMs! >= 1000, `Retry-After ${o.retryAfterMs} ms`);
    }
    assert.equal(chaos.mocks.slow.holding().length, 1, "the request holding the slot goes on");
    chaos.clock.advance(4000);
    assert.equal((await held).ok, true);
  });

  test("nothing is left open", async () => {
    for (const c of started.splice(0)) {
      await c.close();
      assert.deepEqual(c.clock.pending(), []);
    }
    assert.deepEqual(await leftOpen(baseline), {});
  });
});
