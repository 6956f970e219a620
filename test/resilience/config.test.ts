/** The resilience keys in the config file: layering, switches, defaults and the values refused. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { ConfigError, DEFAULTS, resolveConfig } from "../../src/config/index.ts";

const provider = { type: "openai", base_url: "http://127.0.0.1:9/v1" };

function problems(raw: unknown): string[] {
  try {
    resolveConfig(raw, { env: {} });
  } catch (err) {
    assert.ok(err instanceof ConfigError);
    return err.problems;
  }
  assert.fail("expected the config to be refused");
}

test("nothing set: no keys in the normalised config, so the built-in defaults apply", () => {
  const c = resolveConfig({ providers: { p: provider }, models: { m: { targets: ["p/x"] } } }, { env: {} });
  assert.equal(c.providers.p.breaker, undefined);
  assert.equal(c.providers.p.healthCheck, undefined);
  assert.equal(c.providers.p.retryBudget, undefined);
  assert.equal(c.models.m.targets[0].breaker, undefined);
  assert.equal(c.models.m.hedge, undefined);
});

test("a target's breaker: the model's values, then its provider's, then defaults.breaker, then the built-in ones", () => {
  const c = resolveConfig(
    {
      defaults: { breaker: { window: "2m", recovery: "30s" } },
      providers: { p: { ...provider, breaker: { consecutive: 7, recovery: "45s" } }, q: provider },
      models: { m: { targets: ["p/x", "q/y"], breaker: { consecutive: 3 } }, n: { targets: ["p/x"] } },
    },
    { env: {} },
  );
  const [px, qy] = c.models.m.targets;
  assert.deepEqual(px.breaker, { ...DEFAULTS.breaker, consecutive: 3, recovery: 45_000, window: 120_000 });
  assert.deepEqual(qy.breaker, { ...DEFAULTS.breaker, consecutive: 3, recovery: 30_000, window: 120_000 });
  assert.deepEqual(c.models.n.targets[0].breaker, { ...DEFAULTS.breaker, consecutive: 7, recovery: 45_000, window: 120_000 });
  assert.deepEqual(c.providers.p.breaker, { ...DEFAULTS.breaker, consecutive: 7, recovery: 45_000, window: 120_000 });
});

test("the most specific layer that is set decides whether it is on", () => {
  const c = resolveConfig(
    {
      defaults: { breaker: false, retry_budget: false, health_check: true },
      providers: { p: { ...provider, breaker: { consecutive: 2 } }, q: { ...provider, retry_budget: { ratio: 0.5 }, health_check: false } },
      models: { m: { targets: ["p/x", "q/y"] }, n: { targets: ["p/x"], breaker: false } },
    },
    { env: {} },
  );
  assert.equal(c.providers.p.breaker === false ? 0 : c.providers.p.breaker?.consecutive, 2);
  assert.equal(c.providers.q.breaker, false);
  assert.equal(c.models.m.targets[1].breaker, false);
  assert.equal(c.models.n.targets[0].breaker, false);
  assert.equal(c.providers.p.retryBudget, false);
  assert.deepEqual(c.providers.q.retryBudget, { ...DEFAULTS.retryBudget, ratio: 0.5 });
  assert.deepEqual(c.providers.p.healthCheck, { ...DEFAULTS.healthCheck });
  assert.equal(c.providers.q.healthCheck, undefined);
});

test("health_check's path and model, hedge, disabled", () => {
  const c = resolveConfig(
    {
      providers: { p: { ...provider, disabled: true, health_check: { path: "healthz", interval: "1m" } }, q: { ...provider, health_check: { model: "tiny" } } },
      models: { m: { targets: [{ provider: "p", model: "x", disabled: true }, "q/y"], hedge: { after: "p95" } }, n: { targets: ["q/y"], hedge: { after: "1.5s" } } },
    },
    { env: {} },
  );
  assert.equal(c.providers.p.disabled, true);
  assert.deepEqual(c.providers.p.healthCheck, { ...DEFAULTS.healthCheck, interval: 60_000, path: "/healthz" });
  assert.deepEqual(c.providers.q.healthCheck, { ...DEFAULTS.healthCheck, model: "tiny" });
  assert.equal(c.models.m.targets[0].disabled, true);
  assert.equal(c.models.m.targets[1].disabled, undefined);
  assert.deepEqual(c.models.m.hedge, { after: "p95" });
  assert.deepEqual(c.models.n.hedge, { after: 1500 });
});

test("values that cannot work are refused, each with its path", () => {
  assert.deepEqual(
    problems({
      providers: {
        p: {
          ...provider,
          breaker: { failure_rate: 1.5, half_open_probes: 0, recovery: "10m", max_recovery: "1m", window: 0 },
          health_check: { interval: 0, unhealthy_threshold: 0, bogus: 1 },
          retry_budget: { ratio: 0, min_per_second: -1 },
        },
      },
      models: { m: { targets: ["p/x"], hedge: { after: 0 }, breaker: true } },
    }),
    [
      "providers.p.breaker.failure_rate: expected a number > 0 and ≤ 1",
      "providers.p.breaker.window: must be at least 1ms",
      "providers.p.breaker.half_open_probes: expected an integer ≥ 1",
      "providers.p.breaker.max_recovery: must not be shorter than recovery",
      "providers.p.health_check.interval: must be at least 1ms",
      "providers.p.health_check.unhealthy_threshold: expected an integer ≥ 1",
      "providers.p.health_check.bogus: unknown key",
      "providers.p.retry_budget.ratio: expected a number > 0 and ≤ 1",
      "providers.p.retry_budget.min_per_second: expected an integer ≥ 0",
      "models.m.breaker: expected false or a mapping of breaker settings",
      "models.m.hedge.after: must be longer than 0",
    ],
  );
});
