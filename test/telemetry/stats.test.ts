import assert from "node:assert/strict";
import { channel } from "node:diagnostics_channel";
import { afterEach, beforeEach, describe, test } from "node:test";
import { resolveConfig } from "../../src/config/load.ts";
import type { AttemptRecord } from "../../src/protocol/errors.ts";
import { channels, type RequestEnd } from "../../src/telemetry/channels.ts";
import { healthScore } from "../../src/telemetry/health-score.ts";
import { healthReport, metricsReport } from "../../src/telemetry/metrics-json.ts";
import { emptyWindow, type WindowSummary } from "../../src/telemetry/rolling.ts";
import { mergeStats, StatsRecorder } from "../../src/telemetry/stats.ts";
import { FakeClock } from "../helpers/fake-clock.ts";

const config = resolveConfig(
  {
    providers: { a: { type: "openai", base_url: "http://127.0.0.1:9" }, b: { type: "openai", base_url: "http://127.0.0.1:9" } },
    models: {
      main: { targets: ["a/m1"], fallbacks: ["backup"] },
      backup: { targets: ["b/m2"] },
    },
    pricing: { "a/m1": { input: 2, output: 10 } },
  },
  { env: {}, source: "test" },
);

let clock: FakeClock;
let gateway: object;
let stats: StatsRecorder;
beforeEach(() => {
  clock = new FakeClock(1_800_000_000_000);
  gateway = {};
  stats = new StatsRecorder(gateway, config, clock);
});
afterEach(() => stats.close());

const rec = (target: string, durationMs: number, code?: string): AttemptRecord => ({ target, durationMs, message: code ?? "ok", ...(code ? { code } : {}) });

/** One whole request through the channels: attempts (each [target, ms, error code?]) then its end. */
function request(id: string, model: string, attempts: Array<[string, number, string?]>, end: Partial<RequestEnd> = {}) {
  channels.requestStart.publish({ gateway, requestId: id, op: "chat", model, stream: end.stream ?? false });
  const records: AttemptRecord[] = [];
  for (const [target, ms, code] of attempts) {
    channels.attemptStart.publish({ gateway, requestId: id, target, provider: target.split("/")[0] });
    clock.advance(ms);
    const error = code === undefined ? undefined : { code, message: code, retryable: true };
    channels.attemptEnd.publish({ gateway, requestId: id, target, provider: target.split("/")[0], streaming: false, durationMs: ms, ...(error ? { error } : {}) });
    records.push(rec(target, ms, code));
  }
  const last = attempts.at(-1);
  const failed = last?.[2];
  const total = attempts.reduce((s, a) => s + a[1], 0);
  channels.requestEnd.publish({
    gateway,
    requestId: id,
    model,
    stream: false,
    target: last?.[0],
    status: failed ? 502 : 200,
    attempts: records.length,
    durationMs: total,
    op: "chat",
    ...(failed ? { code: failed, message: failed } : { ttfbMs: total }),
    records,
    ...end,
  });
}

const metric = (text: string, line: string) => {
  const found = text.split("\n").find((l) => l.startsWith(`${line} `));
  return found === undefined ? undefined : Number(found.slice(line.length + 1));
};

describe("the statistics recorder", () => {
  test("ignores the events of other gateways", () => {
    channels.requestStart.publish({ gateway: {}, requestId: "x", op: "chat", model: "main", stream: false });
    assert.equal(stats.inFlight(), 0);
  });

  test("counts requests in flight until they end, and attempts in flight per target", () => {
    channels.requestStart.publish({ gateway, requestId: "r1", op: "chat", model: "main", stream: true });
    channels.attemptStart.publish({ gateway, requestId: "r1", target: "a/m1", provider: "a" });
    assert.equal(stats.inFlight(), 1);
    assert.equal(stats.targets.get("a/m1")!.inFlight, 1);
    // A committed stream still holds its target until it ends.
    channels.attemptEnd.publish({ gateway, requestId: "r1", target: "a/m1", provider: "a", streaming: true, durationMs: 5 });
    assert.equal(stats.targets.get("a/m1")!.inFlight, 1);
    channels.streamEnd.publish({ gateway, requestId: "r1", target: "a/m1", provider: "a", completed: true, durationMs: 50 });
    assert.equal(stats.targets.get("a/m1")!.inFlight, 0);
    channels.requestEnd.publish({ gateway, requestId: "r1", model: "main", stream: true, target: "a/m1", status: 200, attempts: 1, durationMs: 50, ttfbMs: 5 });
    assert.equal(stats.inFlight(), 0);
    const w = metricsReport(stats).targets["a/m1"]["1m"];
    assert.equal(w.requests, 1);
    assert.equal(w.ttft_ms.p50, 5);
    assert.equal(w.latency_ms.p50, 50);
  });

  test("a stream that fails mid-way is an error of its target; one the client left counts nowhere", () => {
    for (const [id, completed, code] of [["s1", false, "SY_ERR_UPSTREAM_RESET"], ["s2", false, "SY_ERR_CLIENT_ABORT"], ["s3", false, "SY_ERR_IDLE_TIMEOUT"]] as const) {
      channels.attemptStart.publish({ gateway, requestId: id, target: "a/m1", provider: "a" });
      channels.attemptEnd.publish({ gateway, requestId: id, target: "a/m1", provider: "a", streaming: true, durationMs: 5 });
      channels.streamEnd.publish({ gateway, requestId: id, target: "a/m1", provider: "a", completed, error: { code, message: code }, durationMs: 9 });
    }
    const w = metricsReport(stats).targets["a/m1"]["1m"];
    assert.deepEqual([w.requests, w.errors, w.timeouts], [2, 2, 1]);
  });

  test("percentiles come from the buckets, close to the exact values", () => {
    // 1..100 ms, one request each.
    for (let i = 1; i <= 100; i++) request(`p${i}`, "main", [["a/m1", i]]);
    const w = metricsReport(stats).targets["a/m1"]["1m"];
    for (const [p, exact] of [["p50", 50], ["p90", 90], ["p95", 95], ["p99", 99]] as const) {
      const got = w.latency_ms[p]!;
      assert.ok(Math.abs(got - exact) / exact < 0.1, `${p}: ${got} vs ${exact}`);
    }
    assert.ok(w.latency_ms.p99! <= 100, "never above the largest sample");
  });

  test("retries, hedges and fallbacks are counted from the attempt records; cost from the prices", async () => {
    request("r", "main", [["a/m1", 10, "SY_ERR_UPSTREAM_STATUS"], ["a/m1", 10]], { usage: { inputTokens: 1000, outputTokens: 100 } });
    request("h", "main", [["a/m1", 10, "SY_ERR_HEDGE_CANCELLED"], ["a/m1", 10]]);
    request("f", "main", [["a/m1", 10, "SY_ERR_UPSTREAM_STATUS"], ["b/m2", 10]]);
    const { PrometheusExporter } = await import("../../src/telemetry/prometheus.ts");
    const text = await new PrometheusExporter(stats).render();
    assert.equal(metric(text, 'switchyard_retries_total{model="main"}'), 2);
    assert.equal(metric(text, 'switchyard_hedges_total{model="main"}'), 1);
    assert.equal(metric(text, 'switchyard_fallbacks_total{model="main"}'), 1);
    assert.equal(metric(text, 'switchyard_tokens_total{model="main",target="a/m1",type="input"}'), 1000);
    // 1000 × 2 + 100 × 10 per million.
    assert.equal(metric(text, 'switchyard_cost_total{model="main",target="a/m1"}'), 0.003);
    assert.equal(metric(text, 'switchyard_upstream_attempts_total{target="a/m1",outcome="cancelled"}'), 1);
    assert.equal(metric(text, 'switchyard_upstream_attempts_total{target="a/m1",outcome="error"}'), 2);
    // Two failures and two answers: the hedge that lost counts nowhere in the windows.
    const w = metricsReport(stats).targets["a/m1"]["1m"];
    assert.deepEqual([w.requests, w.errors], [4, 2]);
  });

  test("a model or target not in the config is counted under _other", async () => {
    request("d", "a/unlisted", [["a/unlisted", 3]]);
    const { PrometheusExporter } = await import("../../src/telemetry/prometheus.ts");
    const text = await new PrometheusExporter(stats).render();
    assert.equal(metric(text, 'switchyard_requests_total{model="_other",target="_other",status="200",outcome="success"}'), 1);
    assert.deepEqual(Object.keys(metricsReport(stats).targets).sort(), ["a/m1", "b/m2"]);
  });

  test("the gateway overhead is the time to commit less the upstream attempt's", async () => {
    channels.requestStart.publish({ gateway, requestId: "o", op: "chat", model: "main", stream: false });
    channels.attemptStart.publish({ gateway, requestId: "o", target: "a/m1", provider: "a" });
    channels.attemptEnd.publish({ gateway, requestId: "o", target: "a/m1", provider: "a", streaming: false, durationMs: 40 });
    channels.requestEnd.publish({ gateway, requestId: "o", model: "main", stream: false, target: "a/m1", status: 200, attempts: 1, durationMs: 43, ttfbMs: 43, records: [rec("a/m1", 41)] });
    const { PrometheusExporter } = await import("../../src/telemetry/prometheus.ts");
    const text = await new PrometheusExporter(stats).render();
    assert.equal(metric(text, 'switchyard_gateway_overhead_seconds_sum{model="main"}'), 0.003);
    assert.equal(metric(text, 'switchyard_gateway_overhead_seconds_bucket{model="main",le="0.0025"}'), 0);
    assert.equal(metric(text, 'switchyard_gateway_overhead_seconds_bucket{model="main",le="0.005"}'), 1);
  });

  test("queue events set the queued count and the wait histogram", async () => {
    const queue = channel("switchyard:queue");
    queue.publish({ gateway, queue: "provider:a", event: "wait", queued: 1 });
    queue.publish({ gateway, queue: "provider:a", event: "wait", queued: 2 });
    assert.equal(stats.queued(), 2);
    assert.equal(metricsReport(stats).queued, 2);
    queue.publish({ gateway, queue: "provider:a", event: "admit", queued: 1, waitedMs: 20 });
    queue.publish({ gateway, queue: "provider:a", event: "timeout", queued: 0, waitedMs: 2000 });
    assert.equal(stats.queued(), 0);
    const { PrometheusExporter } = await import("../../src/telemetry/prometheus.ts");
    const text = await new PrometheusExporter(stats).render();
    assert.equal(metric(text, 'switchyard_queue_wait_seconds_count{queue="provider:a",outcome="admitted"}'), 1);
    assert.equal(metric(text, 'switchyard_queue_wait_seconds_sum{queue="provider:a",outcome="timeout"}'), 2);
  });

  test("the queue of a rate window for a direct provider/model name is counted as _other", async () => {
    const queue = channel("switchyard:queue");
    queue.publish({ gateway, queue: "rate:target:a/client-made-up-1", event: "wait", queued: 1 });
    queue.publish({ gateway, queue: "rate:target:a/client-made-up-2", event: "wait", queued: 1 });
    assert.equal(stats.queued(), 2);
    queue.publish({ gateway, queue: "rate:target:a/client-made-up-1", event: "admit", queued: 0, waitedMs: 5 });
    assert.equal(stats.queued(), 1);
    queue.publish({ gateway, queue: "rate:target:a/m1", event: "wait", queued: 1 });
    assert.deepEqual([...stats.queues.keys()].sort(), ["rate:_other", "rate:target:a/m1"]);
    const { PrometheusExporter } = await import("../../src/telemetry/prometheus.ts");
    const text = await new PrometheusExporter(stats).render();
    assert.ok(!text.includes("client-made-up"));
    assert.equal(metric(text, 'switchyard_queue_wait_seconds_count{queue="rate:_other",outcome="admitted"}'), 1);
  });

  test("the series puts each request in its 10-second step, oldest first", () => {
    request("a", "main", [["a/m1", 1]]);
    clock.advance(25_000);
    request("b", "main", [["a/m1", 1]]);
    request("c", "main", [["a/m1", 1, "SY_ERR_UPSTREAM_STATUS"]]);
    const s = metricsReport(stats).targets["a/m1"].series;
    assert.equal(s.requests.length, 90);
    assert.deepEqual(s.requests.slice(-4), [0, 1, 0, 2]);
    assert.deepEqual(s.errors.slice(-4), [0, 0, 0, 1]);
    assert.equal(s.latency_p50_ms.at(-2), null);
  });

  test("rps is measured over the time recorded so far, then over the window, and a step leaves the window whole", () => {
    clock.advance(9_000);
    for (let i = 0; i < 10; i++) request(`q${i}`, "main", [["a/m1", 0]]);
    // 10 requests in the 9 s recorded so far.
    assert.equal(metricsReport(stats).targets["a/m1"]["1m"].rps, 1.111);
    clock.advance(50_000);
    // The 1-minute window is the current step so far (9 s) and the 5 before it.
    assert.equal(metricsReport(stats).targets["a/m1"]["1m"].rps, 0.169);
    clock.advance(10_000);
    assert.equal(metricsReport(stats).targets["a/m1"]["1m"].requests, 0);
    assert.equal(metricsReport(stats).targets["a/m1"]["5m"].requests, 10);
  });
});

describe("merging workers' statistics", () => {
  test("sums counts and in-flight, and reads percentiles over every worker's samples", () => {
    const otherGateway = {};
    const other = new StatsRecorder(otherGateway, config, clock);
    try {
      // This worker: 1..50 ms; the other: 51..100 ms, and one in flight.
      for (let i = 1; i <= 50; i++) request(`w1-${i}`, "main", [["a/m1", i]]);
      for (let i = 51; i <= 100; i++) {
        channels.requestStart.publish({ gateway: otherGateway, requestId: `w2-${i}`, op: "chat", model: "main", stream: false });
        channels.requestEnd.publish({ gateway: otherGateway, requestId: `w2-${i}`, model: "main", stream: false, target: "a/m1", status: 200, attempts: 1, durationMs: i });
      }
      channels.requestStart.publish({ gateway: otherGateway, requestId: "w2-open", op: "chat", model: "main", stream: false });
      // Across a structured clone, as between threads.
      const view = mergeStats(stats, [structuredClone(stats.state()), structuredClone(other.state())]);
      const m = metricsReport(view).models.main["1m"];
      assert.equal(m.requests, 100);
      assert.ok(Math.abs(m.latency_ms.p50! - 50) / 50 < 0.1, `p50 ${m.latency_ms.p50}`);
      assert.ok(Math.abs(m.latency_ms.p99! - 99) / 99 < 0.1, `p99 ${m.latency_ms.p99}`);
      assert.equal(view.inFlight(), 1);
      assert.equal(metricsReport(view).models.main.in_flight, 1);
      // A step one worker last wrote 15 minutes ago does not add to the current one.
      clock.advance(15 * 60_000);
      request("w1-late", "main", [["a/m1", 1]]);
      const later = mergeStats(stats, [stats.state(), other.state()]);
      assert.equal(metricsReport(later).models.main["1m"].requests, 1);
    } finally {
      other.close();
    }
  });
});

describe("the health score", () => {
  const w = (requests: number, errors: number, timeouts: number, p90: number | null): WindowSummary => {
    const e = emptyWindow();
    return { ...e, requests, errors, timeouts, latency_ms: { ...e.latency_ms, p90 } };
  };
  test("is the success rate less penalties for timeouts and slowness", () => {
    assert.equal(healthScore(w(100, 0, 0, 500), w(100, 0, 0, 500)), 100);
    assert.equal(healthScore(w(100, 10, 0, 500), w(100, 10, 0, 500)), 90);
    // 10 timeouts: 90 − 5.
    assert.equal(healthScore(w(100, 10, 10, 500), w(100, 10, 10, 500)), 85);
    // Half way between 2 s and 10 s: −10.
    assert.equal(healthScore(w(100, 0, 0, 6000), w(100, 0, 0, 6000)), 90);
    assert.equal(healthScore(w(100, 0, 0, 60_000), w(100, 0, 0, 60_000)), 80);
    assert.equal(healthScore(w(10, 10, 10, 60_000), w(10, 10, 10, 60_000)), 0);
  });
  test("falls back to 15 minutes when 5 hold too few attempts, and is null without any", () => {
    assert.equal(healthScore(w(1, 1, 0, null), w(50, 1, 0, null)), 98);
    assert.equal(healthScore(emptyWindow(), emptyWindow()), null);
  });
  test("an open breaker makes it 0, a half-open one caps it at 50", () => {
    assert.equal(healthScore(w(100, 0, 0, 1), w(100, 0, 0, 1), "open"), 0);
    assert.equal(healthScore(w(100, 0, 0, 1), w(100, 0, 0, 1), "half_open"), 50);
    assert.equal(healthScore(emptyWindow(), emptyWindow(), "half_open"), 50);
    const h = healthReport(stats, new Map([["a/m1", "open" as const]]));
    assert.equal(h["a/m1"].health_score, 0);
    assert.equal(h["a/m1"].breaker, "open");
    assert.equal(h["b/m2"].breaker, undefined);
  });
});
