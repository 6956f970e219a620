/**
 * No request outlives its total timeout, whatever the upstream does: stalls
 * before the headers, in the body before anything is committed, in the middle
 * of a committed stream, or failures retried with backoff. The upstream's own
 * limits are off (0), so only the engine's deadline can end these; it runs on
 * the fake clock, so the test moves time and sees exactly when each ends.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { activeResources, Chaos, leftOpen, type Outcome } from "./harness.ts";
import { closedPort } from "../server/util.ts";

const TOTAL = 2000;
const NO_LIMITS = { first_byte: 0, idle: 0, total: TOTAL };

describe("chaos: the total timeout bounds every request", () => {
  let baseline: Record<string, number>;
  let chaos: Chaos;

  before(async () => {
    baseline = activeResources();
    chaos = await Chaos.start({
      seed: 5,
      refusedUrl: `http://127.0.0.1:${await closedPort()}/v1`,
      mocks: {
        headers: { faults: () => "stall-headers" },
        body: { faults: (req) => (req.body?.stream === true ? "stall-body;after=0" : "stall-body") },
        mid: { faults: () => "stall-body;after=3" },
        cut: { faults: () => "reset-mid;after=3" },
        failing: { faults: () => "status=503" },
      },
      config: (url) => ({
        providers: Object.fromEntries(["headers", "body", "mid", "cut", "failing"].map((p) => [p, { type: "openai", base_url: url[p], timeouts: NO_LIMITS }])),
        models: {
          headers: { targets: ["headers/m"], retry: { attempts: 1 } },
          body: { targets: ["body/m"], retry: { attempts: 1 } },
          mid: { targets: ["mid/m"], retry: { attempts: 1 } },
          cut: { targets: ["cut/m"], retry: { attempts: 1 } },
          failing: { targets: ["failing/m"], retry: { attempts: 100, base_delay: "100ms", max_delay: "100ms" } },
        },
      }),
    });
  });
  after(async () => {
    await chaos?.close();
  });

  const holding = () => Object.values(chaos.mocks).reduce((sum, m) => sum + m.holding().length, 0);

  /** Resolves once the mocks hold `n` requests in all. */
  async function held(n: number): Promise<void> {
    while (holding() < n) await new Promise((resolve) => setImmediate(resolve));
  }

  /** Resolves once the mocks hold none, or after `turns` turns of the event loop (aborts reach them a few turns later). */
  async function released(turns = 1000): Promise<void> {
    for (let i = 0; i < turns && holding() > 0; i++) await new Promise((resolve) => setImmediate(resolve));
  }

  test("stalls before the headers, in the body and mid-stream all end exactly at the deadline", async () => {
    const started = chaos.clock.now();
    const sends: Array<[string, boolean]> = [];
    for (let i = 0; i < 5; i++) sends.push(["headers", false], ["headers", true], ["body", false], ["body", true], ["mid", true]);
    let settled = 0;
    const all = Promise.all(sends.map(([model, stream]) => chaos.send(model, stream).finally(() => settled++)));
    await held(sends.length);
    chaos.clock.advance(TOTAL - 1);
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(settled, 0, "nothing ends before the deadline");
    chaos.clock.advance(1);
    const outcomes: Outcome[] = await all;
    assert.equal(chaos.clock.now() - started, TOTAL);
    for (const o of outcomes) {
      assert.equal(o.ok, false);
      assert.equal(o.code, "SY_ERR_TOTAL_TIMEOUT", JSON.stringify(o));
    }
    // Committed streams (mid) answered 200 and then ended with the error; the others never committed.
    assert.deepEqual(new Set(outcomes.filter((o) => o.status === 200).map((o) => o.model)), new Set(["mid"]));
    // Every upstream call the deadline ended was aborted.
    await released();
    for (const m of Object.values(chaos.mocks)) assert.deepEqual(m.holding(), []);
  });

  test("a stream cut after it was committed ends with its error, not a hang", async () => {
    const o = await chaos.send("cut", true);
    assert.deepEqual([o.ok, o.status, o.code], [false, 200, "SY_ERR_UPSTREAM_RESET"]);
  });

  test("retries with backoff stop at the deadline", async () => {
    const started = chaos.clock.now();
    let settled = false;
    const pending = chaos.send("failing", false).finally(() => (settled = true));
    // Each backoff is a timer of at most 100 ms on the fake clock: let it fire, then the next attempt runs.
    while (!settled) {
      await Promise.race([chaos.clock.waitForTimer((ms) => ms <= 100), pending]);
      if (!settled) chaos.clock.advance(100);
    }
    const o = await pending;
    assert.ok(chaos.clock.now() - started <= TOTAL, `settled at ${chaos.clock.now() - started} ms`);
    assert.equal(o.ok, false);
    assert.ok(o.attempts.length > 1 && o.attempts.length < 100, `${o.attempts.length} attempts`);
    assert.ok(o.attempts.slice(0, -1).every((a) => a.status === 503));
  });

  test("nothing is left open", async () => {
    await chaos.close();
    assert.deepEqual(chaos.clock.pending(), []);
    assert.deepEqual(await leftOpen(baseline), {});
  });
});
