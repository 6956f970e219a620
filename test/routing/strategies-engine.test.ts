/**
 * The strategies in a running gateway, fed by real traffic: the engine, the
 * mock upstreams and the test share one fake clock, so latencies are exactly
 * what the test makes them and nothing waits for real time.
 */
import assert from "node:assert/strict";
import { once } from "node:events";
import { after, describe, test } from "node:test";
import { startMockUpstream, type MockUpstream } from "../../src/mock/index.ts";
import { EWMA_WEIGHT, FAILURE_SAMPLE_MS } from "../../src/upstream/target-stats.ts";
import { FakeClock } from "../helpers/fake-clock.ts";
import { chat, post, startGateway, type TestGateway } from "../helpers/gateway.ts";

const NO_BACKOFF = { attempts: 3, base_delay: 0, max_delay: 0 };

/** A random source the test scripts: queued values first, then `rest`. */
function scriptedRandom(rest = 0.5) {
  const queue: number[] = [];
  return { random: () => queue.shift() ?? rest, queue };
}

async function targetOf(gw: TestGateway, model: string): Promise<string | null> {
  const res = await post(`${gw.url}/v1/chat/completions`, chat(model));
  assert.equal(res.status, 200, res.text);
  return res.headers.get("x-switchyard-target");
}

describe("strategies in the engine", () => {
  const closers: Array<() => Promise<void>> = [];
  after(async () => {
    for (const close of closers.reverse()) await close();
  });
  async function mock(opts: Parameters<typeof startMockUpstream>[0]): Promise<MockUpstream> {
    const m = await startMockUpstream(opts);
    closers.push(() => m.close());
    return m;
  }
  async function gateway(raw: Record<string, unknown>, opts: Parameters<typeof startGateway>[1]): Promise<TestGateway> {
    const gw = await startGateway(raw, opts);
    closers.push(() => gw.close());
    return gw;
  }

  test("without least-busy or latency and without first_byte: auto, the gateway keeps no statistics", async () => {
    const m = await mock({});
    const gw = await gateway(
      {
        providers: { a: { type: "openai", base_url: m.url } },
        models: { w: { strategy: "weighted", targets: ["a/x", "a/y"] }, c: { strategy: "cost", targets: ["a/x", "a/y"] } },
      },
      {},
    );
    assert.equal(gw.engine.targets, undefined);
  });

  test("least-busy: a request goes to the target with fewer in flight; ties by weight", async () => {
    const clock = new FakeClock();
    const a = await mock({ clock, latencyMs: 1000 });
    const b = await mock({ clock, latencyMs: 1000 });
    const gw = await gateway(
      {
        providers: { a: { type: "openai", base_url: a.url }, b: { type: "openai", base_url: b.url } },
        models: { busy: { strategy: "least-busy", targets: ["a/m", "b/m"], retry: NO_BACKOFF } },
      },
      // 0.5 of two equal weights picks the second: b wins a tie.
      { clock, random: () => 0.5 },
    );
    const first = targetOf(gw, "busy");
    await once(b, "request");
    const second = targetOf(gw, "busy");
    await once(a, "request");
    const third = targetOf(gw, "busy");
    await once(b, "request");
    assert.deepEqual([a.holding().length, b.holding().length], [1, 2]);
    assert.equal(gw.engine.targets!.inFlight("b/m"), 2);
    clock.advance(1000);
    assert.deepEqual(await Promise.all([first, second, third]), ["b/m", "a/m", "b/m"]);
    assert.equal(gw.engine.targets!.inFlight("b/m"), 0);
    // /health/upstream shows what the strategy reads, per target.
    // Its probes wait out the mocks' latency too.
    const probed = fetch(`${gw.url}/health/upstream`);
    await Promise.all([once(a, "request"), once(b, "request")]);
    clock.advance(1000);
    const health = (await (await probed).json()) as { targets: Record<string, Record<string, unknown>> };
    const read = (label: string) => ({ in_flight: health.targets[label].in_flight, latency_ms: health.targets[label].latency_ms, limit: health.targets[label].first_byte_limit_ms });
    assert.deepEqual(read("b/m"), { in_flight: 0, latency_ms: { whole: 1000 }, limit: undefined });
    assert.deepEqual(read("a/m"), { in_flight: 0, latency_ms: { whole: 1000 }, limit: undefined });
  });

  test("latency: the fastest first, a failure sends it back, and exploring brings a recovered target back to the front", async () => {
    const clock = new FakeClock();
    const fast = await mock({ clock });
    const slow = await mock({ clock, latencyMs: 500 });
    const { random, queue } = scriptedRandom();
    const gw = await gateway(
      {
        providers: { fast: { type: "openai", base_url: fast.url }, slow: { type: "openai", base_url: slow.url } },
        models: { quick: { strategy: "latency", targets: ["fast/m", "slow/m"], retry: NO_BACKOFF } },
      },
      { clock, random },
    );
    const stats = gw.engine.targets!;
    const viaSlow = async () => {
      const res = targetOf(gw, "quick");
      await once(slow, "request");
      clock.advance(500);
      return res;
    };
    // Neither measured: the tie goes to the second (0.5), slow, which takes 500 ms.
    assert.equal(await viaSlow(), "slow/m");
    assert.equal(stats.latency("slow/m", false), 500);
    // fast, never measured, goes first; then it is the faster.
    assert.equal(await targetOf(gw, "quick"), "fast/m");
    assert.equal(await targetOf(gw, "quick"), "fast/m");
    assert.equal(stats.latency("fast/m", false), 0);

    // One failure: fast's average rises above slow's, and the request fails over to slow.
    fast.setFault("status=503", { times: 1 });
    assert.equal(await viaSlow(), "slow/m");
    assert.equal(stats.latency("fast/m", false), EWMA_WEIGHT * FAILURE_SAMPLE_MS);
    assert.equal(await viaSlow(), "slow/m");

    // Exploring (a draw under 0.05 after the two shuffling ones) tries fast again; it has recovered,
    // and each success brings its average down until it leads again without exploring.
    let explored = 0;
    for (;;) {
      queue.push(0.5, 0.5, 0.01, 0.5);
      assert.equal(await targetOf(gw, "quick"), "fast/m");
      explored++;
      if (stats.latency("fast/m", false)! < stats.latency("slow/m", false)!) break;
    }
    assert.equal(explored, Math.ceil(Math.log(500 / (EWMA_WEIGHT * FAILURE_SAMPLE_MS)) / Math.log(1 - EWMA_WEIGHT)));
    assert.equal(await targetOf(gw, "quick"), "fast/m");
  });

  test("cost: the cheapest target first, the next cheapest when it fails", async () => {
    const m = await mock({});
    const gw = await gateway(
      {
        providers: { cheap: { type: "openai", base_url: m.url }, mid: { type: "openai", base_url: m.url }, dear: { type: "openai", base_url: m.url } },
        pricing: { "gpt-x": { input: 5, output: 15 }, "cheap/gpt-x": { input: 0.1, output: 0.4 } },
        models: {
          thrifty: {
            strategy: "cost",
            targets: ["dear/gpt-x", { provider: "mid", model: "gpt-x", cost: { input: 1, output: 2 } }, "cheap/gpt-x"],
            retry: NO_BACKOFF,
          },
        },
      },
      { random: () => 0.5 },
    );
    assert.equal(await targetOf(gw, "thrifty"), "cheap/gpt-x");
    m.setFault("status=503", { times: 1 });
    const res = await post(`${gw.url}/v1/chat/completions`, chat("thrifty"));
    assert.equal(res.headers.get("x-switchyard-target"), "mid/gpt-x");
    assert.equal(res.headers.get("x-switchyard-attempts"), "2");
    m.setFault("status=503", { times: 2 });
    assert.equal((await post(`${gw.url}/v1/chat/completions`, chat("thrifty"))).headers.get("x-switchyard-target"), "dear/gpt-x");
  });
});
