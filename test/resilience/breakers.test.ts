/**
 * Circuit breakers in a running gateway, against the mock's faults, on a fake
 * clock: ejection after failures, no call to an ejected target, fail-fast
 * 503s with Retry-After, probes after recovery, what does not count, and
 * /health/upstream's view of it all.
 */
import assert from "node:assert/strict";
import { after, afterEach, before, beforeEach, describe, test } from "node:test";
import { startMockUpstream, type MockUpstream } from "../../src/mock/index.ts";
import { FakeClock } from "../helpers/fake-clock.ts";
import { chat, post, startGateway, type TestGateway } from "../helpers/gateway.ts";
import { closedPort } from "../server/util.ts";

interface ErrorBody {
  error: { message: string; code: string; switchyard_code: string };
}

describe("circuit breakers", () => {
  let primary: MockUpstream;
  let backup: MockUpstream;
  let deadPort: number;
  let clock: FakeClock;
  let gw: TestGateway;

  before(async () => {
    primary = await startMockUpstream();
    backup = await startMockUpstream();
    deadPort = await closedPort();
  });
  after(async () => {
    await primary.close();
    await backup.close();
  });
  beforeEach(async () => {
    primary.reset();
    backup.reset();
    clock = new FakeClock();
    gw = await startGateway(
      {
        providers: {
          primary: { type: "openai", base_url: primary.url },
          backup: { type: "openai", base_url: backup.url },
          gone: { type: "openai", base_url: `http://127.0.0.1:${deadPort}/v1` },
          off: { type: "openai", base_url: backup.url, disabled: true },
        },
        models: {
          solo: { targets: ["primary/a"], retry: { attempts: 1 } },
          pair: { targets: ["primary/a", { provider: "backup", model: "b", priority: 1 }], retry: { attempts: 2 } },
          spare: { targets: ["backup/b"], retry: { attempts: 1 } },
          "with-fallback": { targets: ["primary/a"], retry: { attempts: 1 }, fallbacks: ["spare"] },
          strict429: { targets: ["primary/c"], retry: { attempts: 1 }, breaker: { count_429: true } },
          unguarded: { targets: ["primary/d"], retry: { attempts: 1 }, breaker: false },
          remote: { targets: ["gone/x"], retry: { attempts: 1 } },
          "half-off": { targets: ["off/x", { provider: "backup", model: "b", disabled: true }, "backup/on"], retry: { attempts: 1 } },
          "all-off": { targets: ["off/x", { provider: "backup", model: "b", disabled: true }] },
        },
      },
      { clock, random: () => 0 },
    );
  });
  afterEach(() => gw.close());

  const ask = (model: string) => post(`${gw.url}/v1/chat/completions`, chat(model));
  const failTimes = async (mock: MockUpstream, fault: string, model: string, n: number) => {
    mock.setFault(fault, { times: n });
    for (let i = 0; i < n; i++) await ask(model);
  };
  const upstreamHealth = async () =>
    (await (await fetch(`${gw.url}/health/upstream`)).json()) as {
      status: string;
      providers: Record<string, { breaker?: { state: string; trips: number; recovers_in_s?: number }; disabled?: boolean }>;
      targets: Record<string, { breaker?: { state: string; trips: number; recovers_in_s?: number }; disabled?: boolean }>;
    };

  test("5 failures in a row eject a target: the next request fails fast, 503 with Retry-After, and no connection is made", async () => {
    await failTimes(primary, "status=503", "solo", 5);
    const requests = primary.requests.length;
    const connections = primary.connections;
    assert.equal(requests, 5);
    const res = await ask("solo");
    assert.equal(res.status, 503);
    assert.equal(res.headers.get("retry-after"), "60");
    assert.equal(res.headers.get("x-switchyard-attempts"), "0");
    const body = JSON.parse(res.text) as ErrorBody;
    assert.equal(body.error.switchyard_code, "SY_ERR_NO_HEALTHY_TARGET");
    assert.match(body.error.message, /no target of model "solo" could be tried: target primary\/a: circuit breaker open \(60 s to recovery\)/);
    assert.equal(primary.requests.length, requests, "no request reached the ejected target");
    assert.equal(primary.connections, connections, "no connection was opened to it");
  });

  test("beside a healthy target, an ejected one is skipped without a call, a backoff or an attempt", async () => {
    // The target primary/a is one breaker for every model routed to it.
    await failTimes(primary, "status=500", "solo", 5);
    const res = await ask("pair");
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("x-switchyard-target"), "backup/b");
    assert.equal(res.headers.get("x-switchyard-attempts"), "1");
    assert.equal(primary.requests.length, 5);
    assert.deepEqual(clock.scheduled.filter((ms) => ms < 60_000), [], "no backoff was waited");
  });

  test("fallbacks are tried when every target is ejected; when theirs are too, Retry-After is the earliest recovery", async () => {
    await failTimes(primary, "status=503", "solo", 5);
    let res = await ask("with-fallback");
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("x-switchyard-target"), "backup/b");
    clock.advance(20_000);
    await failTimes(backup, "status=503", "spare", 5);
    res = await ask("with-fallback");
    assert.equal(res.status, 503);
    assert.equal(res.headers.get("retry-after"), "40", "primary/a recovers in 40 s, backup/b in 60 s");
    const body = JSON.parse(res.text) as ErrorBody;
    assert.match(body.error.message, /target primary\/a: circuit breaker open \(40 s to recovery\); target backup\/b: circuit breaker open \(60 s to recovery\)/);
  });

  test("client errors and 429s do not eject a target", async () => {
    for (const fault of ["status=400", "status=404", "status=413", "status=422", "status=429"]) await failTimes(primary, fault, "solo", 6);
    const res = await ask("solo");
    assert.equal(res.status, 200);
    assert.equal(primary.requests.length, 31);
    assert.equal((await upstreamHealth()).targets["primary/a"].breaker?.state, "closed");
  });

  test("count_429: true lets 429s eject it", async () => {
    await failTimes(primary, "status=429", "strict429", 5);
    const res = await ask("strict429");
    assert.equal(res.status, 503);
    assert.equal(primary.requests.length, 5);
  });

  test("breaker: false turns it off", async () => {
    await failTimes(primary, "status=503", "unguarded", 8);
    const res = await ask("unguarded");
    assert.equal(res.status, 200);
    assert.equal(primary.requests.length, 9);
  });

  test("after its recovery 3 probes go through and close it; tripped again soon, it stays open twice as long", async () => {
    await failTimes(primary, "status=503", "solo", 5);
    clock.advance(60_000);
    for (let i = 0; i < 3; i++) assert.equal((await ask("solo")).status, 200);
    assert.equal(primary.requests.length, 8, "each probe reached the upstream");
    assert.equal((await upstreamHealth()).targets["primary/a"].breaker?.state, "closed");
    await failTimes(primary, "status=503", "solo", 5);
    const res = await ask("solo");
    assert.equal(res.headers.get("retry-after"), "120");
    clock.advance(120_000);
    await failTimes(primary, "status=503", "solo", 1);
    const health = await upstreamHealth();
    assert.deepEqual(health.targets["primary/a"].breaker, { state: "open", trips: 3, recovers_in_s: 240 }, "one failed probe opens it again");
  });

  test("a provider that cannot be reached is ejected as a whole: every model on it fails fast", async () => {
    for (let i = 0; i < 5; i++) assert.equal((await ask("remote")).status, 502);
    const res = await post(`${gw.url}/v1/chat/completions`, chat("gone/another-model"));
    assert.equal(res.status, 503);
    assert.equal(res.headers.get("retry-after"), "60");
    assert.match((JSON.parse(res.text) as ErrorBody).error.message, /provider "gone": circuit breaker open/);
    const health = await upstreamHealth();
    assert.equal(health.providers.gone.breaker?.state, "open");
    assert.equal(health.targets["gone/x"].breaker?.state, "closed", "the model itself was never judged");
  });

  test("a key the upstream refuses counts against the provider", async () => {
    await failTimes(primary, "status=401", "solo", 5);
    const res = await post(`${gw.url}/v1/chat/completions`, chat("primary/other"));
    assert.equal(res.status, 503);
    assert.match((JSON.parse(res.text) as ErrorBody).error.message, /provider "primary": circuit breaker open/);
    assert.equal(primary.requests.length, 5);
    assert.equal((await upstreamHealth()).targets["primary/other"], undefined, "names clients make up are not listed");
  });

  test("/health/upstream shows each provider's and each target's breaker, and time to recovery", async () => {
    await failTimes(primary, "status=503", "solo", 5);
    clock.advance(15_000);
    const health = await upstreamHealth();
    assert.deepEqual(health.targets["primary/a"], { provider: "primary", model: "a", breaker: { state: "open", trips: 1, recovers_in_s: 45 } });
    assert.deepEqual(health.targets["backup/b"].breaker, { state: "closed", trips: 0 });
    assert.deepEqual(health.providers.primary.breaker, { state: "closed", trips: 0 });
    assert.equal(health.targets["primary/d"].breaker, undefined, "a target without a breaker shows none");
  });

  test("disabled providers and targets are never tried; a model with nothing enabled answers 503 at once", async () => {
    const res = await ask("half-off");
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("x-switchyard-target"), "backup/on");
    assert.equal(backup.requests.length, 1);
    const none = await ask("all-off");
    assert.equal(none.status, 503);
    assert.equal(none.headers.get("retry-after"), null, "nothing will come back by waiting");
    assert.equal((JSON.parse(none.text) as ErrorBody).error.switchyard_code, "SY_ERR_DISABLED");
    assert.equal(backup.requests.length, 1);
    const health = await upstreamHealth();
    assert.equal(health.providers.off.disabled, true);
    assert.equal(health.targets["off/x"].disabled, true);
    assert.equal(health.targets["backup/on"].disabled, undefined);
  });
});

describe("circuit breakers and several keys", () => {
  let guarded: MockUpstream;
  before(async () => {
    guarded = await startMockUpstream({ apiKey: "right-key-1111" });
  });
  after(() => guarded.close());

  test("a refused key counts against its provider only once every key is refused", async (t) => {
    const gw = await startGateway(
      {
        providers: {
          mixed: { type: "openai", base_url: guarded.url, api_keys: ["wrong-key-0000", "right-key-1111"] },
          refused: { type: "openai", base_url: guarded.url, api_keys: ["wrong-key-0000", "wrong-key-2222"] },
        },
        models: { mixed: { targets: ["mixed/x"], retry: { attempts: 1 } }, refused: { targets: ["refused/x"], retry: { attempts: 1 } } },
      },
      { clock: new FakeClock(), random: () => 0 },
    );
    t.after(() => gw.close());
    for (let i = 0; i < 6; i++) assert.equal((await post(`${gw.url}/v1/chat/completions`, chat("mixed"))).status, 200);
    for (let i = 0; i < 5; i++) {
      const res = await post(`${gw.url}/v1/chat/completions`, chat("refused"));
      assert.equal((JSON.parse(res.text) as ErrorBody).error.switchyard_code, "SY_ERR_UPSTREAM_AUTH");
    }
    const res = await post(`${gw.url}/v1/chat/completions`, chat("refused"));
    assert.equal(res.status, 503);
    assert.match((JSON.parse(res.text) as ErrorBody).error.message, /provider "refused": circuit breaker open/);
    const health = (await (await fetch(`${gw.url}/health/upstream`)).json()) as { providers: Record<string, { breaker: { state: string } }> };
    assert.equal(health.providers.mixed.breaker.state, "closed");
    assert.equal(health.providers.refused.breaker.state, "open");
  });
});
