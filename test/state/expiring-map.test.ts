import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { ExpiringMap } from "../../src/state/expiring-map.ts";

const entry = (expiresAt: number) => ({ expiresAt });

describe("ExpiringMap", () => {
  test("a read at or after expiresAt finds nothing and drops the entry", () => {
    const m = new ExpiringMap();
    m.set("k", entry(10), 0);
    assert.deepEqual(m.get("k", 9), entry(10));
    assert.equal(m.get("k", 10), undefined);
    assert.equal(m.size, 0);
  });

  test("expired entries nobody reads again are swept by later writes to other keys", () => {
    const m = new ExpiringMap();
    for (let i = 0; i < 1000; i++) m.set(`k${i}`, entry(10), 0);
    assert.equal(m.size, 1000);
    // Two entries examined per write: one pass over the 1000 takes 500 writes.
    for (let i = 0; i < 501; i++) m.set("live", entry(Infinity), 20);
    assert.equal(m.size, 1);
    assert.deepEqual(m.get("live", 20), entry(Infinity));
  });

  test("under steady churn of short-lived keys the map stays near the number alive", () => {
    const m = new ExpiringMap();
    let most = 0;
    // One new key per millisecond, each alive for 10 ms: about 10 alive at any time.
    for (let t = 0; t < 100_000; t++) {
      m.set(`k${t}`, entry(t + 10), t);
      most = Math.max(most, m.size);
    }
    // A pass ends after at most as many writes as the map held when it began: about twice the number alive.
    assert.ok(most <= 22, `${most} entries held at most, for about 10 alive`);
  });

  test("deletes also sweep", () => {
    const m = new ExpiringMap();
    for (let i = 0; i < 10; i++) m.set(`k${i}`, entry(10), 0);
    for (let i = 0; i < 10; i++) m.delete("absent", 20);
    assert.equal(m.size, 0);
  });

  test("entries that have not expired survive any number of sweeps", () => {
    const m = new ExpiringMap();
    m.set("forever", entry(Infinity), 0);
    m.set("later", entry(1_000_000), 0);
    for (let t = 0; t < 1000; t++) m.set("churn", entry(t + 1), t);
    assert.deepEqual(m.get("forever", 1000), entry(Infinity));
    assert.deepEqual(m.get("later", 1000), entry(1_000_000));
  });

  test("clear empties the map and a new pass starts after it", () => {
    const m = new ExpiringMap();
    for (let i = 0; i < 10; i++) m.set(`k${i}`, entry(10), 0);
    m.clear();
    assert.equal(m.size, 0);
    m.set("a", entry(5), 0);
    m.set("b", entry(50), 6);
    assert.equal(m.size, 1, "the entry expired before the write is swept");
  });

  test("fewer than two entries examined per write could not keep up with the writes", () => {
    assert.throws(() => new ExpiringMap(1), RangeError);
  });
});
