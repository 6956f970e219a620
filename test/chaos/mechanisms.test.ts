/**
 * The chaos suite's look at each resilience mechanism on its own, on the
 * engine's fake clock: a dead target ejected and then left alone, readmitted
 * once it has recovered; a full outage that costs about one attempt per
 * request, bounded by the retry budget, and with breakers fails fast; a full
 * queue that answers 503 with Retry-After, for a provider's concurrency and
 * for server.max_in_flight (through the HTTP front); active health checks
 * that eject a provider and readmit it; hedges beside stalled attempts. Each
 * ends with nothing left open.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { seededRandom } from "../helpers/fake-clock.ts";
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

  test("active health checks eject a provider that fails them, and a passing check readmits it long before its recovery: half-open, then closed after its probes", async () => {
    let down = true;
    const chaos = await start({
      seed: 5,
      refusedUrl: `http://127.0.0.1:${await closedPort()}/v1`,
      mocks: { p: { faults: () => (down ? "status=503" : null) } },
      config: (url) => ({
        providers: { p: { type: "openai", base_url: url.p, health_check: { interval: "10s", unhealthy_threshold: 2 } } },
        models: { m: { targets: ["p/m"], retry: { attempts: 1 } } },
      }),
    });
    const started = chaos.clock.now();
    const state = async () => (await chaos.engine.upstreamHealth()).providers.p.breaker?.state;
    /** Fires the next check and lets it run to its end: the one after it is scheduled once it is done (10 s ± 10%). */
    const check = async () => {
      chaos.clock.advance(await chaos.clock.waitForTimer((ms) => ms <= 11_000));
      await chaos.clock.waitForTimer((ms) => ms >= 9_000 && ms <= 11_000);
    };
    await check();
    assert.equal(await state(), "closed", "one failed check is under the threshold");
    await check();
    assert.equal(await state(), "open", "two failed checks in a row eject the provider");
    const refused = await chaos.send("m", false);
    assert.deepEqual([refused.status, refused.code, refused.attempts.length], [503, "SY_ERR_NO_HEALTHY_TARGET", 0]);
    assert.ok(refused.retryAfterMs! > 30_000, `Retry-After ${refused.retryAfterMs} ms: the recovery of ${RECOVERY_MS} ms`);

    down = false;
    await check();
    assert.equal(await state(), "half_open", "a passing check lets its probes through at once");
    assert.ok(chaos.clock.now() - started < RECOVERY_MS / 2, "long before the breaker's own recovery");
    for (let i = 0; i < HALF_OPEN_PROBES; i++) assert.equal((await chaos.send("m", false)).ok, true);
    assert.equal(await state(), "closed", "its probes succeeded");
    assert.equal(chaos.attempts.length, HALF_OPEN_PROBES, "no request reached it while it was ejected");
  });

  test("hedging under stalls before the headers: a stalled attempt gets a hedge after 2 s, the hedge answers and the stalled one is aborted", async () => {
    const pick = seededRandom(21);
    let received = 0;
    let last: string | null = null;
    const chaos = await start({
      seed: 6,
      refusedUrl: `http://127.0.0.1:${await closedPort()}/v1`,
      mocks: {
        stalling: {
          faults: () => {
            received++;
            last = pick() < 0.3 ? "stall-headers" : null;
            return last;
          },
        },
        healthy: {},
      },
      config: (url) => ({
        providers: { stalling: { type: "openai", base_url: url.stalling }, healthy: { type: "openai", base_url: url.healthy } },
        models: { m: { targets: ["stalling/m", { provider: "healthy", model: "m", priority: 1 }], hedge: { after: "2s" } } },
      }),
    });
    const turn = () => new Promise((resolve) => setImmediate(resolve));
    let hedged = 0;
    for (let i = 0; i < 40; i++) {
      const before = received;
      const pending = chaos.send("m", i % 2 === 1);
      // The stalling target is first in line: its mock decides, then only the hedge's timer can move a stalled request on.
      while (received === before) await turn();
      const stalled = last === "stall-headers";
      if (stalled) {
        chaos.clock.advance(await chaos.clock.waitForTimer((ms) => ms === 2000));
        hedged++;
      }
      const o = await pending;
      assert.equal(o.ok, true, `request ${i}: ${o.code} ${o.message}`);
      if (stalled) {
        assert.equal(o.target, "healthy/m");
        assert.deepEqual(
          o.attempts.map((a) => [a.target, a.code]),
          [
            ["stalling/m", "SY_ERR_HEDGE_CANCELLED"],
            ["healthy/m", undefined],
          ],
        );
      } else assert.deepEqual([o.target, o.attempts.length], ["stalling/m", 1]);
    }
    assert.ok(hedged > 3 && hedged < 30, `${hedged} of 40 stalled`);
    for (let t = 0; chaos.mocks.stalling.holding().length > 0; t++) {
      assert.ok(t < 10_000, "every stalled attempt was aborted");
      await turn();
    }
    const health = await chaos.engine.upstreamHealth();
    assert.equal(health.targets["stalling/m"].breaker?.state, "closed", "a hedge that lost says nothing against its target");
    assert.deepEqual(chaos.clock.pending(), [], "no hedge timer is left");
  });

  test("server.max_in_flight through the HTTP front: past it requests queue, and at queue_timeout get 503 SY_ERR_QUEUE_TIMEOUT with Retry-After", async () => {
    const chaos = await start({
      seed: 7,
      http: true,
      refusedUrl: `http://127.0.0.1:${await closedPort()}/v1`,
      mocks: { slow: { engineClock: true, options: { latencyMs: 5000 } } },
      config: (url) => ({
        server: { max_in_flight: 1 },
        providers: { slow: { type: "openai", base_url: url.slow, limits: { queue_timeout: "1s" } } },
        models: { m: { targets: ["slow/m"] } },
      }),
    });
    const turn = () => new Promise((resolve) => setImmediate(resolve));
    const held = chaos.send("m", false);
    while (chaos.mocks.slow.holding().length === 0) await turn();
    const queued = [chaos.send("m", false), chaos.send("m", true)];
    while (chaos.engine.limits!.serverQueue()!.queued < 2) await turn();
    assert.deepEqual(chaos.engine.limits!.serverQueue(), { limit: 1, in_flight: 1, queued: 2, waited: 2, timeouts: 0 });
    chaos.clock.advance(1000);
    for (const o of await Promise.all(queued)) {
      assert.deepEqual([o.ok, o.status, o.code, o.attempts.length], [false, 503, "SY_ERR_QUEUE_TIMEOUT", 0]);
      assert.ok(o.retryAfterMs! >= 1000, `Retry-After ${o.retryAfterMs} ms`);
    }
    assert.equal(chaos.engine.limits!.serverQueue()!.timeouts, 2);
    assert.equal(chaos.mocks.slow.holding().length, 1, "the request holding the slot goes on");
    chaos.clock.advance(4000);
    assert.equal((await held).ok, true);
    assert.equal(chaos.engine.limits!.serverQueue()!.in_flight, 0, "its slot is given back");
  });

  test("nothing is left open", async () => {
    for (const c of started.splice(0)) {
      await c.close();
      assert.deepEqual(c.clock.pending(), []);
    }
    assert.deepEqual(await leftOpen(baseline), {});
  });
});
