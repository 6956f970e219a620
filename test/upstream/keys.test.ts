import assert from "node:assert/strict";
import { test } from "node:test";
import { KEY_BENCH, KeyRing } from "../../src/upstream/keys.ts";
import { FakeClock } from "../helpers/fake-clock.ts";

test("keys take turns; each attempt may fall back on the others in order", () => {
  const clock = new FakeClock();
  const ring = new KeyRing(3, () => clock.now());
  assert.deepEqual(ring.order(), [0, 1, 2]);
  assert.deepEqual(ring.order(), [1, 2, 0]);
  assert.deepEqual(ring.order(), [2, 0, 1]);
  assert.deepEqual(ring.order(), [0, 1, 2]);
});

test("a refused key sits out its bench, then takes its turns again", () => {
  const clock = new FakeClock();
  const ring = new KeyRing(3, () => clock.now());
  assert.equal(ring.refused(1), KEY_BENCH.baseMs);
  assert.equal(ring.benched(1), true);
  assert.deepEqual(ring.order(), [0, 2]);
  assert.deepEqual(ring.order(), [2, 0], "its turn passes to the next key");
  assert.equal(ring.peek(), 2);
  clock.advance(KEY_BENCH.baseMs - 1);
  assert.deepEqual(ring.order(), [2, 0]);
  clock.advance(1);
  assert.equal(ring.benched(1), false);
  assert.deepEqual(ring.order(), [0, 1, 2]);
});

test("refusals in a row double the bench up to its cap; a success clears the record", () => {
  const clock = new FakeClock();
  const ring = new KeyRing(2, () => clock.now(), { baseMs: 1000, maxMs: 5000 });
  assert.deepEqual([ring.refused(0), ring.refused(0), ring.refused(0), ring.refused(0)], [1000, 2000, 4000, 5000]);
  ring.served(0);
  assert.equal(ring.benched(0), false);
  assert.equal(ring.refused(0), 1000);
});

test("when every key is benched, only the one back first is tried: the provider is never shut out", () => {
  const clock = new FakeClock();
  const ring = new KeyRing(3, () => clock.now(), { baseMs: 1000, maxMs: 60_000 });
  ring.refused(0);
  ring.refused(0); // 2 s
  clock.advance(10);
  ring.refused(1); // 1 s, from 10 ms on
  ring.refused(2);
  ring.refused(2); // 2 s
  assert.deepEqual(ring.order(), [1]);
  assert.deepEqual(ring.order(), [1]);
  const single = new KeyRing(1, () => clock.now());
  single.refused(0);
  assert.deepEqual(single.order(), [0]);
});
