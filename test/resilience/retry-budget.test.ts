/**
 * Retry budgets: the retries a provider's failures may cause are bounded by
 * its recent requests, so a full outage costs about one attempt per request.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { DEFAULTS } from "../../src/config/defaults.ts";
import type { ProviderConfig, RetryBudgetSettings } from "../../src/config/types.ts";
import { startMockUpstream, type MockUpstream } from "../../src/mock/index.ts";
import { RetryBudgets } from "../../src/routing/retry-budget.ts";
import { MemoryStore } from "../../src/state/store.ts";
import { FakeClock } from "../helpers/fake-clock.ts";
import { chat, post, startGateway } from "../helpers/gateway.ts";

function budgets(retryBudget: RetryBudgetSettings | false | undefined) {
  let now = 1_700_000_000_000;
  const provider = { name: "p", type: "openai", baseUrl: "http://x/v1", headers: {}, timeouts: DEFAULTS.timeouts, pool: DEFAULTS.pool } as ProviderConfig;
  if (retryBudget !== undefined) provider.retryBudget = retryBudget;
  const b = new RetryBudgets([provider], new MemoryStore(() => now));
  return { b, advance: (ms: number) => void (now += ms) };
}

async function admitted(b: RetryBudgets, n: number): Promise<number> {
  let yes = 0;
  for (let i = 0; i < n; i++) if (await b.retry("p")) yes++;
  return yes;
}

describe("retry budget", () => {
  test("by default: 3 retries a second (30 in the 10 s window) however few the requests", async () => {
    const { b } = budgets(undefined);
    assert.equal(await admitted(b, 40), 30);
  });

  test("20% of recent requests when that is more than the minimum", async () => {
    const { b, advance } = budgets({ ratio: 0.2, minPerSecond: 0, window: 10_000 });
    assert.equal(await admitted(b, 1), 0, "no requests yet, no minimum: nothing to retry on");
    for (let i = 0; i < 100; i++) b.request("p");
    assert.equal(await admitted(b, 30), 20);
    // Two windows later both counts have faded.
    advance(20_000);
    assert.equal(await admitted(b, 1), 0);
    for (let i = 0; i < 10; i++) b.request("p");
    assert.equal(await admitted(b, 5), 2);
  });

  test("retry_budget: false lifts the bound", async () => {
    const { b } = budgets(false);
    assert.equal(b.size, 0);
    assert.equal(await admitted(b, 100), 100);
  });
});

describe("retry budget in a full outage", () => {
  let a: MockUpstream;
  let z: MockUpstream;
  before(async () => {
    a = await startMockUpstream();
    z = await startMockUpstream();
  });
  after(async () => {
    await a.close();
    await z.close();
  });

  test("every target failing: attempts stay within the requests plus 20%, and the rest fail at once", async (t) => {
    a.setFault("status=503");
    z.setFault("status=503");
    const gw = await startGateway(
      {
        defaults: { breaker: false, retry_budget: { ratio: 0.2, min_per_second: 0 } },
        providers: { a: { type: "openai", base_url: a.url }, z: { type: "openai", base_url: z.url } },
        models: { m: { targets: ["a/x", "z/x"], retry: { attempts: 3, base_delay: "1ms", max_delay: "1ms" } } },
      },
      { clock: new FakeClock(), random: () => 0 },
    );
    t.after(() => gw.close());
    const REQUESTS = 50;
    const attempts: number[] = [];
    for (let i = 0; i < REQUESTS; i++) {
      const res = await post(`${gw.url}/v1/chat/completions`, chat("m"));
      assert.equal(res.status, 503);
      attempts.push(Number(res.headers.get("x-switchyard-attempts")));
    }
    const sent = a.requests.length + z.requests.length;
    assert.equal(sent, attempts.reduce((x, y) => x + y, 0));
    assert.ok(sent <= REQUESTS * 1.2, `${sent} attempts for ${REQUESTS} requests`);
    assert.ok(sent > REQUESTS, "some retries were within budget");
    assert.equal(attempts[0], 1, "no request seen yet: no retry");
    const health = (await (await fetch(`${gw.url}/health/upstream`)).json()) as { providers: Record<string, { retry_budget?: Record<string, number> }> };
    const budgetA = health.providers.a.retry_budget!;
    assert.deepEqual([budgetA.ratio, budgetA.min_per_second, budgetA.window_s], [0.2, 0, 10], "each provider's budget shows in /health/upstream");
    assert.ok(budgetA.requests > 0 && budgetA.retries <= budgetA.allowed, JSON.stringify(budgetA));
  });

  test("a spent budget answers at once: no backoff is waited", async (t) => {
    a.reset();
    a.setFault("status=503");
    const clock = new FakeClock();
    const gw = await startGateway(
      {
        defaults: { breaker: false, retry_budget: { ratio: 0.2, min_per_second: 0 } },
        providers: { a: { type: "openai", base_url: a.url } },
        models: { m: { targets: ["a/x"], retry: { attempts: 3, base_delay: "1s", max_delay: "1s" } } },
      },
      { clock, random: () => 0.5 },
    );
    t.after(() => gw.close());
    const res = await post(`${gw.url}/v1/chat/completions`, chat("m"));
    assert.equal(res.status, 503);
    assert.equal(res.headers.get("x-switchyard-attempts"), "1");
    assert.match(JSON.parse(res.text).error.message, /not retried: the retry budget of provider "a" is spent/);
    assert.ok(!clock.scheduled.includes(500), "the 500 ms backoff was never scheduled");
    assert.equal(a.requests.length, 1);
  });

  test("an upstream 429 fails over to a target not yet tried without spending the budget; retrying the same target spends it", async (t) => {
    a.reset();
    z.reset();
    a.setFault("status=429;retry-after=1");
    const clock = new FakeClock();
    const gw = await startGateway(
      {
        // Next to no budget: 1% of a handful of requests admits no retry.
        defaults: { breaker: false, retry_budget: { ratio: 0.01, min_per_second: 0 } },
        providers: { a: { type: "openai", base_url: a.url }, z: { type: "openai", base_url: z.url } },
        models: {
          pair: { targets: ["a/x", { provider: "z", model: "x", priority: 1 }], retry: { attempts: 3, base_delay: "1ms", max_delay: "1ms" } },
          solo: { targets: ["a/x"], retry: { attempts: 3, base_delay: "1ms", max_delay: "1ms" } },
        },
      },
      { clock, random: () => 0 },
    );
    t.after(() => gw.close());
    for (let i = 0; i < 3; i++) {
      // Past the Retry-After each time, so the rate-limited target is tried first again.
      clock.advance(1500);
      const res = await post(`${gw.url}/v1/chat/completions`, chat("pair"));
      assert.equal(res.status, 200, res.text);
      assert.equal(res.headers.get("x-switchyard-attempts"), "2");
      assert.equal(res.headers.get("x-switchyard-target"), "z/x");
    }
    assert.equal(a.requests.length, 3);
    assert.equal(z.requests.length, 3);
    clock.advance(1500);
    const res = await post(`${gw.url}/v1/chat/completions`, chat("solo"));
    assert.equal(res.status, 429);
    assert.match(JSON.parse(res.text).error.message, /not retried: the retry budget of provider "a" is spent/);
    assert.equal(a.requests.length, 4, "the same target is not called again");
  });
});
