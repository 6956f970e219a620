import assert from "node:assert/strict";
import { test } from "node:test";
import { resolveConfig } from "../../src/config/load.ts";
import { configWarnings } from "../../src/config/warnings.ts";

const providers = { a: { type: "demo" }, b: { type: "demo" } };

test("strategy cost warns about targets without a price, naming them", () => {
  const some = resolveConfig({ providers, pricing: { x: { input: 1, output: 2 } }, models: { m: { strategy: "cost", targets: ["a/x", "b/y"] } } }, { env: {} });
  assert.deepEqual(configWarnings(some), ["models.m uses strategy cost but b/y has no price (pricing: or targets[].cost), so it goes last"]);
  const none = resolveConfig({ providers, models: { m: { strategy: "cost", targets: ["a/x", "b/y"] } } }, { env: {} });
  assert.match(configWarnings(none).join("\n"), /models\.m uses strategy cost but none of its targets has a price/);
  const priced = resolveConfig({ providers, pricing: { x: { input: 1, output: 2 }, "b/y": { input: 0, output: 0 } }, models: { m: { strategy: "cost", targets: ["a/x", "b/y"] } } }, { env: {} });
  assert.deepEqual(configWarnings(priced), []);
  const other = resolveConfig({ providers, models: { m: { strategy: "latency", targets: ["a/x", "b/y"] } } }, { env: {} });
  assert.deepEqual(configWarnings(other), []);
});

test("a target's own cost wins over pricing:, and provider/model over the model name", () => {
  const config = resolveConfig(
    {
      providers,
      pricing: { x: { input: 1, output: 1 }, "b/x": { input: 2, output: 2 } },
      models: { m: { strategy: "cost", targets: ["a/x", "b/x", { provider: "a", model: "x", cost: { input: 3, output: 3 } }, "a/unknown"] } },
    },
    { env: {} },
  );
  assert.deepEqual(
    config.models.m.targets.map((t) => t.cost?.input),
    [1, 2, 3, undefined],
  );
  assert.deepEqual(config.pricing, { x: { input: 1, output: 1 }, "b/x": { input: 2, output: 2 } });
});

test("first_byte: auto starts from the duration defaults set, else the built-in one", () => {
  const config = resolveConfig(
    {
      defaults: { timeouts: { first_byte: "20s" } },
      providers: {
        own: { type: "demo", timeouts: { first_byte: "auto" } },
        plain: { type: "demo" },
        set: { type: "demo", timeouts: { first_byte: "5s" } },
      },
    },
    { env: {} },
  );
  assert.deepEqual([config.providers.own.timeouts.firstByte, config.providers.own.timeouts.firstByteAuto], [20_000, true]);
  assert.deepEqual([config.providers.plain.timeouts.firstByte, config.providers.plain.timeouts.firstByteAuto], [20_000, undefined]);
  const shared = resolveConfig({ defaults: { timeouts: { first_byte: "auto" } }, providers: { p: { type: "demo" }, q: { type: "demo", timeouts: { first_byte: "5s" } } } }, { env: {} });
  assert.deepEqual([shared.providers.p.timeouts.firstByte, shared.providers.p.timeouts.firstByteAuto], [60_000, true]);
  assert.deepEqual([shared.providers.q.timeouts.firstByte, shared.providers.q.timeouts.firstByteAuto], [5_000, undefined]);
  assert.throws(() => resolveConfig({ providers: { p: { type: "demo", timeouts: { first_byte: "automatic" } } } }, { env: {} }), /first_byte: invalid duration "automatic"/);
});
