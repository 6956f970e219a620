import assert from "node:assert/strict";
import { test } from "node:test";
import { BOUNDED, BUCKET_BASE_MS, BUCKETS, bucketOf, quantile, upperBound } from "../../src/telemetry/buckets.ts";

test("each sample falls in the bucket whose bounds hold it", () => {
  assert.equal(bucketOf(0), 0);
  assert.equal(bucketOf(-5), 0);
  assert.equal(bucketOf(Number.NaN), 0);
  assert.equal(bucketOf(BUCKET_BASE_MS), 0);
  for (const ms of [0.3, 1, 7.5, 99, 1234.5, 60_000, 3_600_000]) {
    const i = bucketOf(ms);
    assert.ok(ms <= upperBound(i), `${ms} ≤ upper(${i})`);
    assert.ok(i === 0 || ms > upperBound(i - 1), `${ms} > upper(${i - 1})`);
  }
  assert.equal(bucketOf(1e12), BOUNDED, "beyond the last bound: the overflow bucket");
  assert.equal(upperBound(BOUNDED), Infinity);
});

test("neighbouring bounds are a fourth of a doubling apart", () => {
  for (let i = 1; i < BOUNDED; i++) assert.ok(Math.abs(upperBound(i) / upperBound(i - 1) - 2 ** 0.25) < 1e-9);
});

test("a quantile is read from counts, kept between the smallest and largest sample, null without samples", () => {
  const counts = new Uint32Array(BUCKETS);
  assert.equal(quantile(counts, 0, 0, 0.5, Infinity, -Infinity), null);
  counts[bucketOf(10)] = 1;
  assert.equal(quantile(counts, 0, 1, 0.5, 10, 10), 10);
  assert.equal(quantile(counts, 0, 1, 0.99, 10, 10), 10);
  counts[bucketOf(1e12)] = 1;
  assert.equal(quantile(counts, 0, 2, 1, 10, 1e12), 1e12, "the overflow bucket ends at the largest sample");
});
