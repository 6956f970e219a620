/** The limits keys of the config: what they normalise to, what is refused, and disabled providers and targets. */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { resolveConfig } from "../../src/config/index.ts";
import { limitSlots } from "../../src/limits/index.ts";
import { problemsOf } from "../config/fixtures.ts";
import { chat, post, startGateway } from "../helpers/gateway.ts";
import { GateUpstream } from "./gate-upstream.ts";

const base = (provider: Record<string, unknown> = {}, target: Record<string, unknown> = {}, server: Record<string, unknown> = {}) => ({
  server,
  providers: { p: { type: "openai", base_url: "https://api.example.com/v1", ...provider }, q: { type: "demo" } },
  models: { m: { targets: [{ provider: "p", model: "x", ...target }, "q/demo-1"] } },
});

describe("config", () => {
  test("limits normalise to milliseconds and leave unset keys out", () => {
    const c = resolveConfig(base({ limits: { concurrency: 4, queue_timeout: "30s", rpm: 600, tpm: "90000", burst: 20 } }, { limits: { rpm: 60 } }, { max_in_flight: 100 }), { env: {} });
    assert.deepEqual(c.providers.p.limits, { concurrency: 4, queueTimeout: 30_000, rpm: 600, tpm: 90_000, burst: 20 });
    assert.deepEqual(c.models.m.targets[0].limits, { rpm: 60 });
    assert.equal(c.models.m.targets[1].limits, undefined);
    assert.equal(c.providers.q.limits, undefined);
    assert.equal(c.server.maxInFlight, 100);
    assert.deepEqual(limitSlots(c), ["server", "provider:p"]);
  });

  test("no limits anywhere: nothing set, no slots", () => {
    const c = resolveConfig(base({ limits: {} }), { env: {} });
    assert.equal(c.providers.p.limits, undefined);
    assert.equal(c.server.maxInFlight, undefined);
    assert.deepEqual(limitSlots(c), []);
  });

  test("bad values are refused with their path", () => {
    assert.deepEqual(problemsOf(base({ limits: { concurrency: 0 } })), ["providers.p.limits.concurrency: expected an integer ≥ 1"]);
    assert.deepEqual(problemsOf(base({ limits: { rpm: 1.5 } })), ["providers.p.limits.rpm: expected an integer from 1 to 1000000000"]);
    assert.match(problemsOf(base({ limits: { queue_timeout: "soon" } }))[0], /^providers\.p\.limits\.queue_timeout: invalid duration "soon"/);
    assert.match(problemsOf(base({ limits: { rmp: 5 } }))[0], /^providers\.p\.limits\.rmp: unknown key \(did you mean "rpm"\?\)/);
    assert.deepEqual(problemsOf(base({ disabled: "maybe" })), ["providers.p.disabled: expected true or false"]);
    assert.deepEqual(problemsOf(base({}, { limits: { tpm: 0 } })), ["models.m.targets[0].limits.tpm: expected an integer from 1 to 1000000000"]);
    assert.deepEqual(problemsOf(base({}, {}, { max_in_flight: 0 })), ["server.max_in_flight: expected an integer ≥ 1"]);
  });

  test("burst needs rpm, and cannot be above it", () => {
    assert.deepEqual(problemsOf(base({ limits: { burst: 5 } })), ["providers.p.limits.burst: needs rpm"]);
    assert.deepEqual(problemsOf(base({ limits: { rpm: 5, burst: 10 } })), ["providers.p.limits.burst: must not be above rpm"]);
  });

  test("two models that set different limits on one target are refused: a target's windows are shared", () => {
    const raw = base({}, { limits: { rpm: 10 } });
    (raw.models as Record<string, unknown>).other = { targets: [{ provider: "p", model: "x", limits: { rpm: 20 } }] };
    assert.deepEqual(problemsOf(raw), [
      "models.other.targets[0].limits: differ from those of p/x in models.m; a target's limits are shared by every model that lists it",
    ]);
    // The same limits twice, or set once and left out elsewhere, are fine.
    (raw.models as Record<string, { targets: Array<Record<string, unknown>> }>).other.targets[0].limits = { rpm: 10 };
    assert.doesNotThrow(() => resolveConfig(raw, { env: {} }));
    delete (raw.models as Record<string, { targets: Array<Record<string, unknown>> }>).other.targets[0].limits;
    assert.doesNotThrow(() => resolveConfig(raw, { env: {} }));
  });
});

describe("disabled: true", () => {
  test("a disabled provider's and a disabled target's calls are never made; the others serve", async (t) => {
    const up = await new GateUpstream().listen();
    const off = await new GateUpstream().listen();
    t.after(async () => {
      await up.close();
      await off.close();
    });
    const gw = await startGateway({
      providers: {
        off: { type: "openai", base_url: off.url, disabled: true },
        up: { type: "openai", base_url: up.url },
      },
      models: {
        m: { targets: ["off/x", { provider: "up", model: "benched", disabled: true }, { provider: "up", model: "x", priority: 1 }], retry: { attempts: 1 } },
        elsewhere: { targets: ["up/benched"] },
        none: { targets: ["off/x", { provider: "up", model: "x", disabled: true }], fallbacks: ["m"] },
        dead: { targets: ["off/x"] },
      },
    });
    t.after(() => gw.close());
    const url = `${gw.url}/v1/chat/completions`;
    const res = await post(url, chat("m"));
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("x-switchyard-target"), "up/x");
    assert.equal(res.headers.get("x-switchyard-attempts"), "1");
    // A target switched off in one model is still used by another that lists it.
    assert.equal((await post(url, chat("elsewhere"))).headers.get("x-switchyard-target"), "up/benched");
    // A model left with nothing falls back.
    assert.equal((await post(url, chat("none"))).headers.get("x-switchyard-target"), "up/x");
    const dead = await post(url, chat("dead"));
    assert.equal(dead.status, 503);
    const err = (JSON.parse(dead.text) as { error: { switchyard_code: string; message: string } }).error;
    assert.equal(err.switchyard_code, "SY_ERR_DISABLED");
    assert.match(err.message, /every target of model "dead" is disabled/);
    assert.equal((await post(url, chat("off/x"))).status, 503, "a direct request to a disabled provider");
    assert.deepEqual(off.arrivals, []);
  });
});
