import assert from "node:assert/strict";
import { test } from "node:test";
import { parseReset, UpstreamQuotas } from "../../src/limits/upstream-quota.ts";

test("resets read as OpenAI writes them, and as plain seconds", () => {
  assert.equal(parseReset("1s"), 1000);
  assert.equal(parseReset("6m0s"), 360_000);
  assert.equal(parseReset("20ms"), 20);
  assert.equal(parseReset("1h2m3.5s"), 3_723_500);
  assert.equal(parseReset("2m59.56s"), 179_560);
  assert.equal(parseReset("12"), 12_000);
  assert.equal(parseReset("0.5"), 500);
  assert.equal(parseReset("soon"), undefined);
  assert.equal(parseReset("5d"), undefined);
  assert.equal(parseReset(""), undefined);
});

test("a token count too small for the request waits for its reset; unreadable headers change nothing", () => {
  const q = new UpstreamQuotas();
  q.update("p/x", { "x-ratelimit-remaining-tokens": "100", "x-ratelimit-reset-tokens": "30s" }, 0);
  assert.equal(q.waitFor("p/x", 50, 0), 0);
  assert.equal(q.waitFor("p/x", 150, 1000), 29_000);
  q.spend("p/x", 60);
  assert.equal(q.waitFor("p/x", 50, 1000), 29_000, "40 left after spending 60");
  assert.equal(q.waitFor("p/x", 50, 30_000), 0, "reset: nothing known any more");
  assert.equal(q.report("p/x", 30_000), undefined);
  q.update("p/x", { "x-ratelimit-remaining-requests": "many", "x-ratelimit-reset-requests": "1s" }, 0);
  q.update("p/x", { "x-ratelimit-remaining-requests": "0" }, 0);
  assert.equal(q.waitFor("p/x", 0, 0), 0);
});
