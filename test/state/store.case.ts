/**
 * The behaviour every Store backend shows. A backend's test file calls
 * runStoreTests with a factory; the memory store runs it in
 * memory-store.test.ts and a Redis backend will run the same cases.
 *
 * `makeStore(now)` must return an empty store whose every notion of time comes
 * from `now`: the suite moves that clock by hand and never waits.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { Store } from "../../src/state/store.ts";

export type MakeStore = (now: () => number) => Store | Promise<Store>;

/** Time the suite sets by hand; it can also go back, as a lagging instance's clock does. */
class ManualClock {
  t = 1_700_000_000_000;
  readonly now = (): number => this.t;
  advance(ms: number): void {
    this.t += ms;
  }
  /** Moves to the start of the next bucket of a `windowMs` window (or stays, when already at one). */
  toWindowStart(windowMs: number): void {
    this.t += (windowMs - (this.t % windowMs)) % windowMs;
  }
}

export function runStoreTests(name: string, makeStore: MakeStore): void {
  /** One case on a fresh store and clock; the store is closed afterwards whatever happens. */
  const it = (title: string, body: (store: Store, clock: ManualClock) => Promise<void>) =>
    test(title, async () => {
      const clock = new ManualClock();
      const store = await makeStore(clock.now);
      try {
        await body(store, clock);
      } finally {
        await store.close();
      }
    });

  describe(`Store conformance: ${name}`, () => {
    describe("counters", () => {
      it("incr creates a counter at 0 and answers each new value", async (s) => {
        assert.equal(await s.incr("c", 1, 1000), 1);
        assert.equal(await s.incr("c", 5, 1000), 6);
        assert.equal(await s.incr("c", -2, 1000), 4);
        assert.equal(await s.count("c"), 4);
      });

      it("a counter never written counts 0", async (s) => {
        assert.equal(await s.count("never"), 0);
      });

      it("a counter may go below 0 and back", async (s) => {
        assert.equal(await s.incr("c", -1, 1000), -1);
        assert.equal(await s.count("c"), -1);
        assert.equal(await s.incr("c", 1, 1000), 0);
        assert.equal(await s.count("c"), 0);
      });

      it("every incr sets the counter to expire ttlMs later", async (s, clock) => {
        await s.incr("c", 1, 100);
        clock.advance(60);
        assert.equal(await s.incr("c", 1, 100), 2);
        clock.advance(99);
        assert.equal(await s.count("c"), 2, "still there 99 ms after the last incr");
        clock.advance(1);
        assert.equal(await s.count("c"), 0, "gone 100 ms after the last incr");
        assert.equal(await s.incr("c", 1, 100), 1, "an expired counter starts again from 0");
      });

      it("resetCount removes a counter", async (s) => {
        await s.incr("c", 7, 1000);
        await s.resetCount("c");
        assert.equal(await s.count("c"), 0);
        assert.equal(await s.incr("c", 1, 1000), 1);
      });

      it("concurrent incrs each see their own step", async (s) => {
        const seen = await Promise.all(Array.from({ length: 100 }, () => s.incr("c", 1, 1000)));
        assert.deepEqual(
          seen.toSorted((a, b) => a - b),
          Array.from({ length: 100 }, (_, i) => i + 1),
        );
        assert.equal(await s.count("c"), 100);
      });

      it("rejects a fractional step, a TTL that is not a positive whole number, an empty key", async (s) => {
        await assert.rejects(s.incr("c", 1.5, 1000), RangeError);
        await assert.rejects(s.incr("c", 1, 0), RangeError);
        await assert.rejects(s.incr("c", 1, -5), RangeError);
        await assert.rejects(s.incr("c", 1, Infinity), RangeError);
        await assert.rejects(s.incr("", 1, 1000), RangeError);
        assert.equal(await s.count("c"), 0, "a rejected call changes nothing");
      });
    });

    describe("values", () => {
      it("get answers what set stored, undefined when nothing was", async (s) => {
        assert.equal(await s.get("v"), undefined);
        await s.set("v", "one");
        assert.equal(await s.get("v"), "one");
        await s.set("v", "two");
        assert.equal(await s.get("v"), "two");
      });

      it("a value with a TTL is gone ttlMs after it was set", async (s, clock) => {
        await s.set("v", "x", 100);
        clock.advance(99);
        assert.equal(await s.get("v"), "x");
        clock.advance(1);
        assert.equal(await s.get("v"), undefined);
      });

      it("a value without a TTL stays, and setting one without a TTL drops the earlier TTL", async (s, clock) => {
        await s.set("v", "a", 100);
        await s.set("v", "b");
        clock.advance(365 * 24 * 3600 * 1000);
        assert.equal(await s.get("v"), "b");
      });

      it("delete removes a value", async (s) => {
        await s.set("v", "x");
        await s.delete("v");
        assert.equal(await s.get("v"), undefined);
        await s.delete("v");
      });

      it("compareAndSet with expected undefined sets only where there is no value", async (s) => {
        assert.equal(await s.compareAndSet("v", undefined, "first"), true);
        assert.equal(await s.get("v"), "first");
        assert.equal(await s.compareAndSet("v", undefined, "second"), false);
        assert.equal(await s.get("v"), "first");
      });

      it("compareAndSet replaces only the expected value", async (s) => {
        await s.set("v", "closed");
        assert.equal(await s.compareAndSet("v", "open", "half-open"), false);
        assert.equal(await s.get("v"), "closed");
        assert.equal(await s.compareAndSet("v", "closed", "open"), true);
        assert.equal(await s.get("v"), "open");
        assert.equal(await s.compareAndSet("absent", "anything", "x"), false);
        assert.equal(await s.get("absent"), undefined);
      });

      it("compareAndSet treats an expired value as none, and applies its own TTL", async (s, clock) => {
        await s.set("v", "old", 10);
        clock.advance(10);
        assert.equal(await s.compareAndSet("v", "old", "x"), false);
        assert.equal(await s.compareAndSet("v", undefined, "new", 50), true);
        clock.advance(49);
        assert.equal(await s.get("v"), "new");
        clock.advance(1);
        assert.equal(await s.get("v"), undefined);
      });

      it("of concurrent compareAndSets from one value exactly one wins", async (s) => {
        await s.set("v", "v0");
        const won = await Promise.all(Array.from({ length: 20 }, (_, i) => s.compareAndSet("v", "v0", `v${i + 1}`)));
        assert.equal(won.filter(Boolean).length, 1);
        assert.equal(await s.get("v"), `v${won.indexOf(true) + 1}`);
      });

      it("rejects a TTL that is not a positive whole number", async (s) => {
        await assert.rejects(s.set("v", "x", 0), RangeError);
        await assert.rejects(s.set("v", "x", 1.5), RangeError);
        await assert.rejects(s.compareAndSet("v", undefined, "x", -1), RangeError);
        assert.equal(await s.get("v"), undefined);
      });
    });

    describe("windows", () => {
      const W = 1000;

      it("admits up to the limit, then refuses until the window has room", async (s, clock) => {
        clock.toWindowStart(W);
        for (let left = 4; left >= 0; left--) {
          assert.deepEqual(await s.windowTake("w", 1, 5, W), { allowed: true, remaining: left, retryAfterMs: 0 });
        }
        // Full at the start of a bucket: in the next bucket these 5 fade from weight 1 until one more fits (5·(1 − t/W) + 1 ≤ 5).
        assert.deepEqual(await s.windowTake("w", 1, 5, W), { allowed: false, remaining: 0, retryAfterMs: 1200 });
      });

      it("retryAfterMs is the exact wait: refused one millisecond before, admitted at it", async (s, clock) => {
        clock.toWindowStart(W);
        await s.windowTake("w", 5, 5, W);
        clock.advance(1199);
        assert.deepEqual(await s.windowTake("w", 1, 5, W), { allowed: false, remaining: 0, retryAfterMs: 1 });
        clock.advance(1);
        assert.equal((await s.windowTake("w", 1, 5, W)).allowed, true);
      });

      it("the previous bucket counts by the part of it still inside the window", async (s, clock) => {
        clock.toWindowStart(W);
        await s.windowTake("w", 10, 10, W);
        clock.advance(W);
        // Weight 1 at the bucket's start: 4 more fit once 6 remain of the 10, 400 ms in.
        assert.deepEqual(await s.windowTake("w", 4, 10, W), { allowed: false, remaining: 0, retryAfterMs: 400 });
        clock.advance(399);
        assert.equal((await s.windowTake("w", 4, 10, W)).allowed, false);
        clock.advance(1);
        assert.deepEqual(await s.windowTake("w", 4, 10, W), { allowed: true, remaining: 0, retryAfterMs: 0 });
        clock.advance(100);
        // Now 10·0.5 of the old bucket and the 4 just taken: 1 unit left.
        assert.deepEqual(await s.windowTake("w", 0, 10, W), { allowed: true, remaining: 1, retryAfterMs: 0 });
      });

      it("a refused take consumes nothing", async (s, clock) => {
        clock.toWindowStart(W);
        assert.equal((await s.windowTake("w", 2, 3, W)).allowed, true);
        assert.deepEqual(await s.windowTake("w", 2, 3, W), { allowed: false, remaining: 1, retryAfterMs: 1000 + 1000 - 500 });
        assert.deepEqual(await s.windowTake("w", 1, 3, W), { allowed: true, remaining: 0, retryAfterMs: 0 });
      });

      it("a cost of 0 looks without taking", async (s, clock) => {
        clock.toWindowStart(W);
        await s.windowTake("w", 3, 10, W);
        assert.deepEqual(await s.windowTake("w", 0, 10, W), { allowed: true, remaining: 7, retryAfterMs: 0 });
        assert.deepEqual(await s.windowTake("w", 0, 10, W), { allowed: true, remaining: 7, retryAfterMs: 0 });
      });

      it("after two quiet window lengths the whole limit is back", async (s, clock) => {
        clock.toWindowStart(W);
        await s.windowTake("w", 10, 10, W);
        clock.advance(2 * W);
        assert.deepEqual(await s.windowTake("w", 10, 10, W), { allowed: true, remaining: 0, retryAfterMs: 0 });
      });

      it("a cost above the limit is refused with no wait that would help", async (s, clock) => {
        clock.toWindowStart(W);
        assert.deepEqual(await s.windowTake("w", 11, 10, W), { allowed: false, remaining: 10, retryAfterMs: Infinity });
      });

      it("windows under different keys are independent", async (s) => {
        await s.windowTake("a", 10, 10, W);
        assert.equal((await s.windowTake("a", 1, 10, W)).allowed, false);
        assert.deepEqual(await s.windowTake("b", 1, 10, W), { allowed: true, remaining: 9, retryAfterMs: 0 });
      });

      it("concurrent takes never admit more than the limit", async (s, clock) => {
        clock.toWindowStart(W);
        const takes = await Promise.all(Array.from({ length: 25 }, () => s.windowTake("w", 1, 10, W)));
        assert.equal(takes.filter((t) => t.allowed).length, 10);
      });

      it("a clock behind the newest bucket counts at that bucket's start instead of wiping it", async (s, clock) => {
        clock.toWindowStart(W);
        clock.advance(10);
        await s.windowTake("w", 10, 10, W);
        clock.advance(-20);
        assert.equal((await s.windowTake("w", 1, 10, W)).allowed, false);
        clock.advance(20);
        assert.equal((await s.windowTake("w", 1, 10, W)).allowed, false);
      });

      it("rejects a negative or fractional cost, a limit or window length that is not a positive whole number", async (s) => {
        await assert.rejects(s.windowTake("w", -1, 10, W), RangeError);
        await assert.rejects(s.windowTake("w", 0.5, 10, W), RangeError);
        await assert.rejects(s.windowTake("w", 1, 0, W), RangeError);
        await assert.rejects(s.windowTake("w", 1, 10, 0), RangeError);
        await assert.rejects(s.windowTake("w", 1, 10, 2.5), RangeError);
        assert.deepEqual(await s.windowTake("w", 0, 10, W), { allowed: true, remaining: 10, retryAfterMs: 0 });
      });
    });

    describe("key spaces", () => {
      it("a counter, a value and a window under one key are three separate entries", async (s) => {
        await s.set("k", "v");
        assert.equal(await s.incr("k", 3, 1000), 3);
        assert.equal((await s.windowTake("k", 1, 10, 1000)).remaining, 9);
        assert.equal(await s.get("k"), "v");
        await s.delete("k");
        assert.equal(await s.count("k"), 3, "delete leaves the counter");
        await s.set("k", "v");
        await s.resetCount("k");
        assert.equal(await s.get("k"), "v", "resetCount leaves the value");
        assert.equal((await s.windowTake("k", 0, 10, 1000)).remaining, 9, "neither touches the window");
      });
    });

    describe("close", () => {
      it("close can be called more than once", async (s) => {
        await s.close();
        await s.close();
      });
    });
  });
}
