import assert from "node:assert/strict";
import { test } from "node:test";
import { parseDuration, parseSize } from "../../src/config/index.ts";
import { formatDuration, formatSize } from "../../src/config/duration.ts";

test("parseDuration converts units to milliseconds", () => {
  assert.equal(parseDuration("250ms"), 250);
  assert.equal(parseDuration("10s"), 10_000);
  assert.equal(parseDuration("2m"), 120_000);
  assert.equal(parseDuration("1h"), 3_600_000);
  assert.equal(parseDuration("1.5s"), 1500);
  assert.equal(parseDuration("10S"), 10_000);
  assert.equal(parseDuration(" 5 m "), 300_000);
  assert.equal(parseDuration("0"), 0);
});

test("parseDuration treats plain numbers and numeric strings as milliseconds", () => {
  assert.equal(parseDuration(1500), 1500);
  assert.equal(parseDuration("1500"), 1500);
});

test("parseDuration rejects negatives, garbage and unknown units, naming the value", () => {
  assert.throws(() => parseDuration("-1s"), /invalid duration "-1s"/);
  assert.throws(() => parseDuration(-5), /invalid duration -5/);
  assert.throws(() => parseDuration("abc"), /invalid duration "abc"/);
  assert.throws(() => parseDuration("10x"), /invalid duration "10x": unknown unit "x"/);
  assert.throws(() => parseDuration(""), /invalid duration ""/);
  assert.throws(() => parseDuration("1s2"), /invalid duration "1s2"/);
  assert.throws(() => parseDuration(Number.NaN), /invalid duration NaN/);
  assert.throws(() => parseDuration(Number.POSITIVE_INFINITY), /invalid duration Infinity/);
});

test("parseDuration rejects durations Node timers can't hold", () => {
  assert.throws(() => parseDuration("1000h"), /invalid duration "1000h": longer than the maximum/);
  assert.equal(parseDuration("24h"), 86_400_000);
});

test("parseSize converts units to bytes with 1kb = 1024", () => {
  assert.equal(parseSize("100b"), 100);
  assert.equal(parseSize("512kb"), 512 * 1024);
  assert.equal(parseSize("10mb"), 10 * 1024 * 1024);
  assert.equal(parseSize("1gb"), 1024 ** 3);
  assert.equal(parseSize("10MB"), 10 * 1024 * 1024);
  assert.equal(parseSize("1.5kb"), 1536);
  assert.equal(parseSize(2048), 2048);
  assert.equal(parseSize("2048"), 2048);
});

test("parseSize rejects negatives, garbage and unknown units, naming the value", () => {
  assert.throws(() => parseSize("-1mb"), /invalid size "-1mb"/);
  assert.throws(() => parseSize(-1), /invalid size -1/);
  assert.throws(() => parseSize("lots"), /invalid size "lots"/);
  assert.throws(() => parseSize("10zb"), /invalid size "10zb": unknown unit "zb"/);
  assert.throws(() => parseSize("10m"), /invalid size "10m"/);
});

test("formatDuration and formatSize write a value in the largest unit that divides it, and read back the same", () => {
  const durations: [number, string][] = [[0, "0"], [250, "250ms"], [1500, "1500ms"], [10_000, "10s"], [300_000, "5m"], [7_200_000, "2h"]];
  for (const [ms, text] of durations) {
    assert.equal(formatDuration(ms), text);
    assert.equal(parseDuration(text), ms);
  }
  const sizes: [number, string][] = [[1, "1b"], [1000, "1000b"], [512 * 1024, "512kb"], [10 * 1024 ** 2, "10mb"], [1024 ** 3, "1gb"]];
  for (const [bytes, text] of sizes) {
    assert.equal(formatSize(bytes), text);
    assert.equal(parseSize(text), bytes);
  }
});
