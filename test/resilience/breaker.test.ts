/**
 * One breaker's state machine over the memory store, on a hand-moved clock:
 * every transition, and what does not move it.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { DEFAULTS } from "../../src/config/defaults.ts";
import type { BreakerSettings } from "../../src/config/types.ts";
import { MemoryStore } from "../../src/state/store.ts";
import { Breaker, type Pass, type Verdict } from "../../src/upstream/breaker.ts";

const SECOND = 1000;

function setup(overrides: Partial<BreakerSettings> = {}) {
  let now = 1_700_000_000_000;
  const clock = { now: () => now, advance: (ms: number) => void (now += ms) };
  const store = new MemoryStore(clock.now);
  const breaker = new Breaker("breaker:target:p/m", { ...DEFAULTS.breaker, ...overrides }, store, clock.now);
  /** One attempt: passes (or not) and ends as `verdict`. */
  const attempt = async (verdict: Verdict): Promise<Pass> => {
    const pass = await breaker.pass();
    await breaker.record(pass, verdict);
    return pass;
  };
  return { clock, store, breaker, attempt };
}

describe("circuit breaker", () => {
  test("closed until 5 failures in a row, then open for 60 s", async () => {
    const { breaker, attempt } = setup();
    for (let i = 0; i < 4; i++) assert.equal((await attempt("failure")).kind, "closed");
    assert.equal((await breaker.view()).state, "closed");
    await attempt("failure");
    assert.deepEqual(await breaker.view(), { state: "open", trips: 1, retryInMs: 60 * SECOND });
    const pass = await breaker.pass();
    assert.deepEqual(pass, { kind: "open", retryAfterMs: 60 * SECOND, phase: "open" });
  });

  test("a success breaks the row: 4 failures, a success, 4 failures stay closed", async () => {
    const { breaker, attempt } = setup({ minRequests: 100 });
    for (let i = 0; i < 4; i++) await attempt("failure");
    await attempt("success");
    for (let i = 0; i < 4; i++) await attempt("failure");
    assert.equal((await breaker.view()).state, "closed");
  });

  test("neutral outcomes (client errors, 429s, aborts) neither count nor break the row", async () => {
    const { breaker, attempt } = setup();
    for (let i = 0; i < 4; i++) {
      await attempt("failure");
      await attempt("neutral");
    }
    assert.equal((await breaker.view()).state, "closed");
    for (let i = 0; i < 20; i++) await attempt("neutral");
    await attempt("failure");
    assert.equal((await breaker.view()).state, "open");
  });

  test("a failure rate of 50% over at least 20 attempts in the window opens it", async () => {
    const { breaker, attempt } = setup({ consecutive: 0 });
    // 9 failures among 19 attempts: below the minimum count.
    for (let i = 0; i < 9; i++) {
      await attempt("success");
      await attempt("failure");
    }
    await attempt("success");
    assert.equal((await breaker.view()).state, "closed", "19 attempts are too few to judge");
    await attempt("failure");
    assert.equal((await breaker.view()).state, "open", "10 of 20 failed");
  });

  test("the rate only looks at the window: old failures fade", async () => {
    const { breaker, attempt, clock } = setup({ consecutive: 0, window: 60 * SECOND });
    for (let i = 0; i < 9; i++) await attempt("failure");
    clock.advance(130 * SECOND);
    for (let i = 0; i < 10; i++) await attempt("success");
    await attempt("failure");
    assert.equal((await breaker.view()).state, "closed");
  });

  test("after its recovery it lets 3 probes through; all succeed → closed", async () => {
    const { breaker, attempt, clock } = setup();
    for (let i = 0; i < 5; i++) await attempt("failure");
    clock.advance(60 * SECOND);
    const probes = [await breaker.pass(), await breaker.pass(), await breaker.pass()];
    assert.deepEqual(
      probes.map((p) => p.kind),
      ["probe", "probe", "probe"],
    );
    const fourth = await breaker.pass();
    assert.equal(fourth.kind, "open", "a fourth attempt waits while the probes are out");
    assert.equal((await breaker.view()).state, "half_open");
    for (const p of probes.slice(0, 2)) await breaker.record(p, "success");
    assert.equal((await breaker.view()).state, "half_open");
    await breaker.record(probes[2], "success");
    assert.deepEqual(await breaker.view(), { state: "closed", trips: 0 });
    assert.equal((await breaker.pass()).kind, "closed");
  });

  test("closing starts the counts afresh: 4 old failures do not add to a new one", async () => {
    const { breaker, attempt, clock } = setup();
    for (let i = 0; i < 5; i++) await attempt("failure");
    clock.advance(60 * SECOND);
    for (let i = 0; i < 3; i++) await attempt("success");
    assert.equal((await breaker.view()).state, "closed");
    for (let i = 0; i < 4; i++) await attempt("failure");
    assert.equal((await breaker.view()).state, "closed");
  });

  test("one failed probe opens it again, for twice as long; repeated trips are capped by max_recovery", async () => {
    const { breaker, attempt, clock } = setup({ recovery: 60 * SECOND, maxRecovery: 5 * 60 * SECOND });
    for (let i = 0; i < 5; i++) await attempt("failure");
    const expected = [120, 240, 300, 300].map((s) => s * SECOND);
    let recovery = 60 * SECOND;
    for (const next of expected) {
      clock.advance(recovery);
      const probe = await breaker.pass();
      assert.equal(probe.kind, "probe");
      await breaker.record(probe, "failure");
      const view = await breaker.view();
      assert.equal(view.state, "open");
      assert.equal(view.retryInMs, next);
      recovery = next;
    }
  });

  test("a probe that ends with no verdict gives its place to the next attempt", async () => {
    const { breaker, attempt, clock } = setup({ halfOpenProbes: 1 });
    for (let i = 0; i < 5; i++) await attempt("failure");
    clock.advance(60 * SECOND);
    const probe = await breaker.pass();
    assert.equal(probe.kind, "probe");
    assert.equal((await breaker.pass()).kind, "open");
    await breaker.record(probe, "neutral");
    const next = await breaker.pass();
    assert.equal(next.kind, "probe");
    await breaker.record(next, "success");
    assert.equal((await breaker.view()).state, "closed");
  });

  test("a trip soon after recovering counts as a repeat; one after a quiet spell starts over", async () => {
    const { breaker, attempt, clock } = setup({ recovery: 10 * SECOND, maxRecovery: 60 * SECOND });
    const trip = async () => {
      for (let i = 0; i < 5; i++) await attempt("failure");
    };
    const recover = async () => {
      clock.advance((await breaker.view()).retryInMs!);
      for (let i = 0; i < 3; i++) await attempt("success");
    };
    await trip();
    await recover();
    await trip();
    assert.equal((await breaker.view()).retryInMs, 20 * SECOND, "tripped again within max_recovery of closing");
    await recover();
    clock.advance(61 * SECOND);
    await trip();
    assert.equal((await breaker.view()).retryInMs, 10 * SECOND, "a quiet spell longer than max_recovery");
  });

  test("trip() opens it at once; readmit() lets an open one probe before its recovery is over", async () => {
    const { breaker } = setup();
    await breaker.trip();
    assert.equal((await breaker.view()).state, "open");
    await breaker.trip();
    assert.equal((await breaker.view()).trips, 1, "tripping an open breaker changes nothing");
    await breaker.readmit();
    assert.equal((await breaker.view()).state, "half_open");
    const probe = await breaker.pass();
    assert.equal(probe.kind, "probe");
  });

  test("two breakers over one store are one breaker: another instance sees the trip", async () => {
    const { store, clock, attempt } = setup();
    const other = new Breaker("breaker:target:p/m", DEFAULTS.breaker, store, clock.now);
    for (let i = 0; i < 5; i++) await attempt("failure");
    assert.equal((await other.pass()).kind, "open");
  });
});
