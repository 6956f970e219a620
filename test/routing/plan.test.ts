import assert from "node:assert/strict";
import { test } from "node:test";
import { buildTiers, orderTargets } from "../../src/routing/plan.ts";
import { parseRetryAfter } from "../../src/protocol/retry-after.ts";
import { backoffDelay } from "../../src/routing/retry-policy.ts";
import { seededRandom } from "../helpers/fake-clock.ts";

const t = (name: string, priority: number, weight = 1) => ({ name, priority, weight });

test("tiers are tried lowest priority first", () => {
  const plan = buildTiers([t("c", 2), t("a", 0), t("b", 1)]);
  assert.deepEqual(orderTargets(plan, Math.random).map((x) => x.name), ["a", "b", "c"]);
});

test("inside a tier the order is a weighted random permutation", () => {
  const plan = buildTiers([t("heavy", 0, 9), t("light", 0, 1), t("backup", 1)]);
  const random = seededRandom(42);
  let heavyFirst = 0;
  const runs = 2000;
  for (let i = 0; i < runs; i++) {
    const order = orderTargets(plan, random).map((x) => x.name);
    assert.equal(order.length, 3);
    assert.equal(order[2], "backup");
    assert.deepEqual([...order].sort(), ["backup", "heavy", "light"]);
    if (order[0] === "heavy") heavyFirst++;
  }
  const share = heavyFirst / runs;
  assert.ok(share > 0.85 && share < 0.95, `heavy went first ${share} of the time, expected about 0.9`);
});

test("random() at its extremes still picks a valid target", () => {
  const plan = buildTiers([t("a", 0, 1), t("b", 0, 1)]);
  assert.deepEqual(orderTargets(plan, () => 0).map((x) => x.name), ["a", "b"]);
  assert.deepEqual(orderTargets(plan, () => 0.999999).map((x) => x.name), ["b", "a"]);
});

test("backoff is full jitter under an exponential ceiling capped by max_delay", () => {
  const policy = { attempts: 5, baseDelay: 100, maxDelay: 1000 };
  assert.equal(backoffDelay(policy, 1, () => 0.999), 99);
  assert.equal(backoffDelay(policy, 2, () => 0.999), 199);
  assert.equal(backoffDelay(policy, 3, () => 0.999), 399);
  assert.equal(backoffDelay(policy, 10, () => 0.999), 999);
  assert.equal(backoffDelay(policy, 3, () => 0), 0);
  assert.equal(backoffDelay(policy, 3, () => 0.5), 200);
});

test("Retry-After is read as seconds or as an HTTP date", () => {
  const now = Date.parse("2026-01-01T00:00:00Z");
  assert.equal(parseRetryAfter("2", now), 2000);
  assert.equal(parseRetryAfter("0.5", now), 500);
  assert.equal(parseRetryAfter(["3"], now), 3000);
  assert.equal(parseRetryAfter("Thu, 01 Jan 2026 00:00:10 GMT", now), 10_000);
  assert.equal(parseRetryAfter("soon", now), undefined);
  assert.equal(parseRetryAfter(undefined, now), undefined);
});
