import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { FingerprintTable } from "../../src/cache/fingerprint-table.ts";
import { FlightTable } from "../../src/cache/flight-table.ts";

describe("the table of calls in flight", () => {
  test("finds, replaces and removes by fingerprint, including negative ones and ones that share a home slot", () => {
    const t = new FlightTable<{ n: number }>();
    const a = { n: 1 };
    const b = { n: 2 };
    const c = { n: 3 };
    // 5, 69 and -59 all land on slot 5 of a 64-slot table.
    t.set(5, a);
    t.set(69, b);
    t.set(-59, c);
    assert.equal(t.size, 3);
    assert.equal(t.get(5), a);
    assert.equal(t.get(69), b);
    assert.equal(t.get(-59), c);
    assert.equal(t.get(133), undefined);
    t.delete(5, a);
    assert.equal(t.get(5), undefined);
    assert.equal(t.get(69), b, "the rest of the run is still found after a removal in front of it");
    assert.equal(t.get(-59), c);
    const b2 = { n: 4 };
    t.set(69, b2);
    assert.equal(t.size, 2);
    t.delete(69, b);
    assert.equal(t.get(69), b2, "a later call under the same fingerprint is not removed by the earlier one's end");
    t.delete(69, b2);
    t.delete(-59, c);
    assert.equal(t.size, 0);
  });

  test("grows past its first size, and after many joins and leaves holds exactly what is in flight", () => {
    const t = new FlightTable<{ fp: number }>();
    const live = new Map<number, { fp: number }>();
    let seed = 1;
    const next = () => (seed = (Math.imul(seed, 1103515245) + 12345) | 0);
    for (let i = 0; i < 20_000; i++) {
      if (live.size < 300 && (live.size === 0 || (next() & 3) !== 0)) {
        const fp = next() >> 1;
        const v = { fp };
        live.set(fp, v);
        t.set(fp, v);
      } else {
        const [fp, v] = live.entries().next().value!;
        live.delete(fp);
        t.delete(fp, v);
      }
    }
    assert.equal(t.size, live.size);
    for (const [fp, v] of live) assert.equal(t.get(fp), v);
  });
});

describe("the fingerprint table", () => {
  test("maps fingerprints to slot numbers, 0 included, and lists them", () => {
    const t = new FingerprintTable();
    assert.equal(t.get(7), -1);
    t.set(7, 0);
    t.set(-7, 3);
    t.set(71, 2); // 71 and 7 share a home place in 64
    assert.equal(t.get(7), 0);
    assert.equal(t.get(-7), 3);
    assert.equal(t.get(71), 2);
    assert.deepEqual(t.values().sort(), [0, 2, 3]);
    t.delete(7, 1);
    assert.equal(t.get(7), 0, "a delete for another value leaves the entry");
    t.delete(7, 0);
    assert.equal(t.get(7), -1);
    assert.equal(t.get(71), 2);
    assert.equal(t.size, 2);
  });
});
