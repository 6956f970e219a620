import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { checkGoals } from "../../bench/goals.ts";
import { guardedSettings } from "../../bench/guarded.ts";
import type { ScenarioResult } from "../../bench/result-types.ts";

describe("bench: the guarded gateways and the cost goals", () => {
  test("guarded switches on what the resilience goal names, and this build's config takes all of it", () => {
    const g = guardedSettings();
    assert.deepEqual(g.missing, []);
    assert.deepEqual(Object.keys(g.provider).sort(), ["breaker", "health_check", "limits", "retry_budget"]);
    assert.equal(g.provider.retry_budget, false, "off, as in the bare gateway: not one of the mechanisms priced");
    assert.deepEqual(Object.keys(g.provider.limits as object).sort(), ["rpm", "tpm"]);
    assert.deepEqual(g.model, {});
    assert.deepEqual(g.server, {});
  });

  test("guarded-all adds concurrency, max_in_flight, first_byte: auto and a least-busy strategy", () => {
    const g = guardedSettings(true);
    assert.deepEqual(g.missing, []);
    assert.deepEqual(Object.keys(g.provider.limits as object).sort(), ["concurrency", "queue_timeout", "rpm", "tpm"]);
    assert.deepEqual(g.provider.timeouts, { first_byte: "auto" });
    assert.equal(g.provider.retry_budget, undefined, "the retry budget at its default: on");
    assert.deepEqual(g.model, { strategy: "least-busy" });
    assert.deepEqual(g.server, { max_in_flight: 1_000_000 });
  });

  test("the resilience and cache-miss goals compare requests per server CPU-second, not req/s", () => {
    const summary = (rps: number, perCore: number) => ({ rps: { median: rps }, rps_per_core: { median: perCore } });
    const scenarios = [
      { id: "resilience-c64", summary: { "switchyard-bare": summary(1000, 1000), "switchyard-guarded": summary(1000, 850) } },
      { id: "cache-miss-c64", summary: { switchyard: summary(500, 1000), "switchyard-cache-miss": summary(1000, 950) } },
    ] as unknown as ScenarioResult[];
    const goals = checkGoals(scenarios, [], "switchyard", "switchyard-5k", "switchyard-guarded", "switchyard-bare");
    const resilience = goals.find((g) => g.goal.startsWith("breakers, health checks"));
    const miss = goals.find((g) => g.goal.startsWith("cache on but missing"));
    assert.equal(resilience?.met, false, "0.85× per CPU-second misses, though req/s are equal");
    assert.match(resilience!.measured, /^0\.85× /);
    assert.equal(miss?.met, true, "0.95× per CPU-second is met, whatever req/s say");
  });
});
