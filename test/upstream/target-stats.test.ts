import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { channels } from "../../src/telemetry/channels.ts";
import {
  AUTO_MAX_MS,
  AUTO_MIN_MS,
  EWMA_WEIGHT,
  FAILURE_SAMPLE_MS,
  MIN_SAMPLES,
  percentile,
  SAMPLE_WINDOW,
  TargetStats,
} from "../../src/upstream/target-stats.ts";
import { observeTargets } from "../../src/upstream/target-stats-events.ts";
import { seededRandom } from "../helpers/fake-clock.ts";

describe("target statistics", () => {
  test("the moving average weighs the newest sample by EWMA_WEIGHT, per kind", () => {
    const s = new TargetStats();
    assert.equal(s.latency("p/m", false), undefined);
    s.committed("p/m", false, 100);
    assert.equal(s.latency("p/m", false), 100);
    s.committed("p/m", false, 200);
    assert.equal(s.latency("p/m", false), 100 + EWMA_WEIGHT * 100);
    assert.equal(s.latency("p/m", true), undefined, "streams are kept apart");
    s.committed("p/m", true, 10);
    assert.equal(s.latency("p/m", true), 10);
  });

  test("a retryable failure lifts both averages by at least FAILURE_SAMPLE_MS and leaves the percentile alone", () => {
    const s = new TargetStats();
    for (let i = 0; i < MIN_SAMPLES; i++) s.committed("p/m", false, 1000);
    const before = s.firstByteLimit("p/m", false);
    s.failed("p/m", 5);
    assert.equal(s.latency("p/m", false), 1000 + EWMA_WEIGHT * (FAILURE_SAMPLE_MS - 1000));
    assert.equal(s.latency("p/m", true), FAILURE_SAMPLE_MS);
    assert.equal(s.firstByteLimit("p/m", false), before);
    s.failed("p/m", 3 * FAILURE_SAMPLE_MS);
    assert.equal(s.latency("p/m", true), FAILURE_SAMPLE_MS + EWMA_WEIGHT * 2 * FAILURE_SAMPLE_MS);
  });

  test("first_byte auto: nothing until MIN_SAMPLES, then clamp(p95 × 2, 10s, 10m)", () => {
    const s = new TargetStats();
    for (let i = 1; i < MIN_SAMPLES; i++) s.committed("p/m", false, i * 1000);
    assert.equal(s.firstByteLimit("p/m", false), undefined);
    s.committed("p/m", false, 20_000);
    // 1 s … 20 s: the 95th percentile (nearest rank) is the 19th, 19 s.
    assert.equal(s.firstByteLimit("p/m", false), 38_000);
    assert.equal(s.firstByteLimit("p/m", true), undefined, "streams learn their own");

    const quick = new TargetStats();
    for (let i = 0; i < MIN_SAMPLES; i++) quick.committed("q/m", true, 300);
    assert.equal(quick.firstByteLimit("q/m", true), AUTO_MIN_MS);
    const slow = new TargetStats();
    for (let i = 0; i < MIN_SAMPLES; i++) slow.committed("s/m", false, 400_000);
    assert.equal(slow.firstByteLimit("s/m", false), AUTO_MAX_MS);
  });

  test("only the last SAMPLE_WINDOW samples count", () => {
    const s = new TargetStats();
    assert.equal(SAMPLE_WINDOW, 100);
    for (let i = 0; i < SAMPLE_WINDOW; i++) s.committed("p/m", false, 100_000);
    assert.equal(s.firstByteLimit("p/m", false), 200_000);
    // 94 new ones push out 94 old ones: the 6 left still reach the 95th percentile …
    for (let i = 0; i < 94; i++) s.committed("p/m", false, 6_000);
    assert.equal(s.firstByteLimit("p/m", false), 200_000);
    // … and with one more only 5 are left, above it.
    s.committed("p/m", false, 6_000);
    assert.equal(s.firstByteLimit("p/m", false), 12_000);
  });

  test("percentile is nearest-rank", () => {
    assert.equal(percentile([5, 1, 4, 2, 3], 0.95), 5);
    assert.equal(percentile([5, 1, 4, 2, 3], 0.5), 3);
    assert.equal(percentile([7], 0.95), 7);
    const random = seededRandom(3);
    for (let n = 1; n <= SAMPLE_WINDOW; n++) {
      // Ties included: values from a small range.
      const values = Array.from({ length: n }, () => Math.floor(random() * 40));
      const sorted = values.slice().sort((a, b) => a - b);
      for (const p of [0.01, 0.5, 0.9, 0.95, 0.99, 1]) assert.equal(percentile(values, p), sorted[Math.ceil(p * n) - 1], `n=${n} p=${p}`);
    }
  });

  test("in flight: from an attempt's start until its failure, its whole answer, or its stream's end; only this gateway's", () => {
    const s = new TargetStats();
    const gateway = {};
    const other = {};
    const stop = observeTargets(s, gateway);
    try {
      const start = (target: string, g = gateway) => channels.attemptStart.publish({ gateway: g, requestId: "r", target, provider: "p" });
      const end = (target: string, streaming: boolean, durationMs: number, error?: { code: string; message: string; retryable: boolean }) =>
        channels.attemptEnd.publish({ gateway, requestId: "r", target, provider: "p", streaming, durationMs, ...(error ? { error } : {}) });
      start("p/a");
      start("p/a");
      start("p/b");
      start("p/a", other);
      assert.equal(s.inFlight("p/a"), 2);
      end("p/a", false, 40);
      assert.equal(s.inFlight("p/a"), 1);
      assert.equal(s.latency("p/a", false), 40);
      end("p/a", true, 15);
      assert.equal(s.inFlight("p/a"), 1, "a committed stream stays in flight");
      assert.equal(s.latency("p/a", true), 15);
      channels.streamEnd.publish({ gateway, requestId: "r", target: "p/a", provider: "p", completed: true, durationMs: 90 });
      assert.equal(s.inFlight("p/a"), 0);
      end("p/b", false, 7, { code: "SY_ERR_CLIENT_ABORT", message: "gone", retryable: false });
      assert.equal(s.inFlight("p/b"), 0);
      assert.equal(s.latency("p/b", false), undefined, "a client that left says nothing of the target");
      start("p/b");
      end("p/b", false, 7, { code: "SY_ERR_UPSTREAM_STATUS", message: "503", retryable: true });
      assert.equal(s.latency("p/b", false), FAILURE_SAMPLE_MS);
      assert.deepEqual(s.snapshot(), {
        "p/a": { in_flight: 0, latency_ms: { stream: 15, whole: 40 } },
        "p/b": { in_flight: 0, latency_ms: { stream: FAILURE_SAMPLE_MS, whole: FAILURE_SAMPLE_MS } },
      });
    } finally {
      stop();
    }
    channels.attemptStart.publish({ gateway, requestId: "r", target: "p/a", provider: "p" });
    assert.equal(s.inFlight("p/a"), 0, "unsubscribed");
  });
});
