/**
 * Health probes name the timeout that ended them: a probe that used up its
 * whole budget is a total timeout, a first-byte timeout is a first-byte one.
 * The budget runs on the injected clock, so the stalls below end when the
 * test advances it, not after seconds of waiting.
 */
import assert from "node:assert/strict";
import { once } from "node:events";
import { after, before, describe, test } from "node:test";
import { resolveConfig } from "../../src/config/load.ts";
import { Engine } from "../../src/engine/gateway.ts";
import { startMockUpstream, type MockUpstream } from "../../src/mock/index.ts";
import { FakeClock } from "../helpers/fake-clock.ts";

/** The probe's budget when the provider's total timeout is longer. */
const PROBE_BUDGET_MS = 5000;

function engineFor(mock: MockUpstream, fault: string, timeouts: Record<string, string> = {}): { engine: Engine; clock: FakeClock } {
  const clock = new FakeClock();
  const config = resolveConfig(
    {
      providers: { p: { type: "openai", base_url: mock.url, headers: { "x-mock-fault": fault }, timeouts } },
      models: { m: { targets: ["p/x"] } },
    },
    { env: {}, source: "test" },
  );
  return { engine: new Engine(config, { clock }), clock };
}

/**
 * Runs one probe round against a stalled upstream and, once the upstream holds
 * the probe, runs out the budget on the fake clock (unless the probe ended first).
 */
async function probeOutOfBudget(mock: MockUpstream, engine: Engine, clock: FakeClock, budgetMs = PROBE_BUDGET_MS) {
  const arrived = once(mock, "request");
  const report = engine.providerHealth();
  await arrived;
  const first = await Promise.race([clock.waitForTimer((ms) => ms === budgetMs).then(() => "budget"), report.then(() => "report")]);
  if (first === "budget") clock.advance(budgetMs);
  return (await report).p;
}

describe("health probe timeouts", () => {
  let mock: MockUpstream;
  before(async () => {
    mock = await startMockUpstream();
  });
  after(() => mock.close());

  test("a probe whose upstream never sends headers runs out of its whole budget: a total timeout", async (t) => {
    const { engine, clock } = engineFor(mock, "stall-headers");
    t.after(() => engine.close());
    const health = await probeOutOfBudget(mock, engine, clock);
    assert.equal(health.reachable, false);
    assert.equal(health.last_error_code, "SY_ERR_TOTAL_TIMEOUT");
    assert.match(String(health.last_error), /health probe of provider "p" used its whole budget of 5000 ms/);
  });

  test("a probe whose body stalls after the headers runs out of its whole budget: a total timeout", async (t) => {
    const { engine, clock } = engineFor(mock, "stall-body");
    t.after(() => engine.close());
    const health = await probeOutOfBudget(mock, engine, clock);
    assert.equal(health.reachable, false);
    assert.equal(health.last_error_code, "SY_ERR_TOTAL_TIMEOUT");
  });

  test("a first_byte timeout shorter than the budget keeps its own code", async (t) => {
    const { engine, clock } = engineFor(mock, "stall-headers", { first_byte: "20ms" });
    t.after(() => engine.close());
    const health = (await engine.providerHealth()).p;
    assert.equal(health.reachable, false);
    assert.equal(health.last_error_code, "SY_ERR_FIRST_BYTE_TIMEOUT");
    assert.match(String(health.last_error), /timed out waiting for the first byte from provider "p"/);
    assert.deepEqual(clock.pending(), [], "the budget timer is cleared once the probe ends");
  });

  test("a short total timeout is the probe's budget", async (t) => {
    const { engine, clock } = engineFor(mock, "stall-headers", { total: "2s" });
    t.after(() => engine.close());
    const health = await probeOutOfBudget(mock, engine, clock, 2000);
    assert.equal(health.last_error_code, "SY_ERR_TOTAL_TIMEOUT");
    assert.match(String(health.last_error), /budget of 2000 ms/);
  });
});
