import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { once } from "node:events";
import { startMockUpstream, type MockUpstream } from "../../src/mock/server.ts";
import { openChatStream, startGateway, type TestGateway } from "../helpers/gateway.ts";
import { closedPort, rawRequest } from "./util.ts";

interface ProviderReport {
  type: string;
  reachable: boolean;
  status?: number;
  response_time_ms?: number;
  last_error?: string;
  last_error_at?: string;
  checked_at?: string;
  in_flight: number;
}

interface UpstreamReport {
  status: string;
  providers: Record<string, ProviderReport>;
}

async function upstreamHealth(gw: TestGateway): Promise<{ status: number; body: UpstreamReport }> {
  const res = await fetch(`${gw.url}/health/upstream`);
  assert.equal(res.headers.get("content-type"), "application/json");
  return { status: res.status, body: (await res.json()) as UpstreamReport };
}

function assertRecentIso(value: string | undefined, since: number): void {
  assert.equal(typeof value, "string");
  const t = Date.parse(value!);
  assert.ok(Number.isFinite(t), `not a date: ${value}`);
  assert.equal(new Date(t).toISOString(), value, "ISO 8601 in UTC");
  assert.ok(t >= since - 1000 && t <= Date.now() + 1000, `${value} is not from this check`);
}

let mock: MockUpstream;
let failing: MockUpstream;
let deadPort: number;

before(async () => {
  mock = await startMockUpstream();
  failing = await startMockUpstream({ fault: "status=503" });
  deadPort = await closedPort();
});
after(async () => {
  await mock.close();
  await failing.close();
});

describe("GET /v1/models", () => {
  const CONFIGURED = ["gpt-4o", "embed", "demo"];
  const UPSTREAM = ["up/mock-model", "up/gpt-4o-mini", "up/text-embedding-3-small"];
  let gw: TestGateway;
  before(async () => {
    gw = await startGateway({
      providers: { up: { type: "openai", base_url: mock.url }, demo: { type: "demo" } },
      models: {
        "gpt-4o": { targets: ["up/gpt-4o-mini"] },
        embed: { targets: ["up/text-embedding-3-small"] },
        demo: { targets: ["demo/demo-1"] },
      },
    });
  });
  after(() => gw.close());

  test("lists the configured public names, then the upstreams' own models, in OpenAI's list format", async () => {
    const res = await fetch(`${gw.url}/v1/models`);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("content-type"), "application/json");
    const body = (await res.json()) as { object: string; data: Array<Record<string, unknown>> };
    assert.equal(body.object, "list");
    assert.deepEqual(body.data.map((m) => m.id), [...CONFIGURED, ...UPSTREAM]);
    for (const m of body.data) {
      assert.equal(m.object, "model");
      assert.equal(typeof m.created, "number");
      assert.equal(typeof m.owned_by, "string");
    }
    // Upstream model names are listed the way clients address them: provider/model.
    assert.ok(!body.data.some((m) => m.id === "gpt-4o-mini"));
  });

  test("the un-prefixed path and a trailing slash give the same list", async () => {
    const a = await (await fetch(`${gw.url}/v1/models`)).text();
    const b = await (await fetch(`${gw.url}/models`)).text();
    const c = await (await fetch(`${gw.url}/v1/models/`)).text();
    assert.equal(b, a);
    assert.equal(c, a);
  });

  test("the SDK's models.list() sees them", async () => {
    const ids: string[] = [];
    for await (const m of gw.client.models.list()) ids.push(m.id);
    assert.deepEqual(ids, [...CONFIGURED, ...UPSTREAM]);
  });

  test("listing models again costs no upstream call: the upstreams' lists are cached", async () => {
    const before = mock.requests.length;
    await fetch(`${gw.url}/v1/models`);
    assert.equal(mock.requests.length, before);
  });
});

describe("GET /health", () => {
  test("is 200 {status: ok} even when every upstream is down", async (t) => {
    const gw = await startGateway({
      providers: { down: { type: "openai", base_url: `http://127.0.0.1:${deadPort}/v1` } },
      models: { chat: { targets: ["down/x"] } },
    });
    t.after(() => gw.close());
    const res = await rawRequest(gw.url, "/health");
    assert.equal(res.status, 200);
    assert.equal(res.headers["content-type"], "application/json");
    const body = JSON.parse(res.text) as { status: string; uptime_s: number };
    assert.equal(body.status, "ok");
    assert.equal(typeof body.uptime_s, "number");
    assert.ok(body.uptime_s >= 0);
  });
});

describe("GET /health/upstream", () => {
  test("reports each provider; one down makes the whole degraded (200)", async (t) => {
    const gw = await startGateway({
      providers: {
        up: { type: "openai", base_url: mock.url, api_key: "sk-test-secret-0123456789" },
        down: { type: "openai", base_url: `http://127.0.0.1:${deadPort}/v1` },
        local: { type: "demo" },
      },
      models: { chat: { targets: ["up/gpt-4o-mini", "down/gpt-4o-mini"] } },
    });
    t.after(() => gw.close());
    const since = Date.now();
    const { status, body } = await upstreamHealth(gw);
    assert.equal(status, 200);
    assert.equal(body.status, "degraded");
    assert.deepEqual(Object.keys(body.providers).sort(), ["down", "local", "up"]);

    const up = body.providers.up;
    assert.equal(up.type, "openai");
    assert.equal(up.reachable, true);
    assert.equal(up.status, 200);
    assert.equal(typeof up.response_time_ms, "number");
    assert.ok(up.response_time_ms! >= 0);
    assertRecentIso(up.checked_at, since);
    assert.equal(up.last_error, undefined);
    assert.equal(up.in_flight, 0);

    const down = body.providers.down;
    assert.equal(down.reachable, false);
    assert.match(String(down.last_error), /could not connect to provider "down" \(ECONNREFUSED\)/);
    assert.equal(typeof down.response_time_ms, "number");
    assertRecentIso(down.checked_at, since);
    assert.equal(down.status, undefined);

    assert.equal(body.providers.local.type, "demo");
    assert.equal(body.providers.local.reachable, true);

    const probe = mock.requests.find((r) => r.method === "GET" && r.path === "/v1/models");
    assert.ok(probe, "the probe is a model listing");
  });

  test("an upstream answering 5xx is unreachable, with its status and error", async (t) => {
    const gw = await startGateway({
      providers: { up: { type: "openai", base_url: mock.url }, sick: { type: "openai", base_url: failing.url } },
      models: { chat: { targets: ["up/gpt-4o-mini"] } },
    });
    t.after(() => gw.close());
    const { status, body } = await upstreamHealth(gw);
    assert.equal(status, 200);
    assert.equal(body.status, "degraded");
    assert.equal(body.providers.sick.reachable, false);
    assert.equal(body.providers.sick.status, 503);
    assert.match(String(body.providers.sick.last_error), /503/);
  });

  test("all providers down → 503 {status: down}", async (t) => {
    const other = await closedPort();
    const gw = await startGateway({
      providers: {
        a: { type: "openai", base_url: `http://127.0.0.1:${deadPort}/v1` },
        b: { type: "openai", base_url: `http://127.0.0.1:${other}/v1` },
      },
      models: { chat: { targets: ["a/x", "b/x"] } },
    });
    t.after(() => gw.close());
    const { status, body } = await upstreamHealth(gw);
    assert.equal(status, 503);
    assert.equal(body.status, "down");
    for (const name of ["a", "b"]) {
      assert.equal(body.providers[name].reachable, false);
      assert.match(String(body.providers[name].last_error), /ECONNREFUSED/);
    }
  });

  test("all providers up → 200 {status: ok}", async (t) => {
    const gw = await startGateway({
      providers: { up: { type: "openai", base_url: mock.url }, local: { type: "demo" } },
      models: { chat: { targets: ["up/gpt-4o-mini"] } },
    });
    t.after(() => gw.close());
    const { status, body } = await upstreamHealth(gw);
    assert.equal(status, 200);
    assert.equal(body.status, "ok");
  });

  test("a provider that comes back is reported reachable on the next check", async (t) => {
    const flaky = await startMockUpstream({ fault: "status=500;times=1" });
    t.after(() => flaky.close());
    const gw = await startGateway({
      providers: { flaky: { type: "openai", base_url: flaky.url } },
      models: { chat: { targets: ["flaky/gpt-4o-mini"] } },
    });
    t.after(() => gw.close());
    const first = await upstreamHealth(gw);
    assert.equal(first.status, 503);
    assert.equal(first.body.providers.flaky.reachable, false);
    const second = await upstreamHealth(gw);
    assert.equal(second.status, 200);
    assert.equal(second.body.providers.flaky.reachable, true);
    assert.equal(second.body.providers.flaky.status, 200);
  });

  test(
    "a provider with no total timeout (timeouts.total: 0) is probed with the normal probe timeout",
    async (t) => {
      // A little latency, so that a 0 ms probe timeout always loses the race.
      const slowish = await startMockUpstream({ latencyMs: 20 });
      t.after(() => slowish.close());
      const gw = await startGateway({
        providers: { p: { type: "openai", base_url: slowish.url, timeouts: { total: 0 } } },
        models: { chat: { targets: ["p/gpt-4o-mini"] } },
      });
      t.after(() => gw.close());
      const { status, body } = await upstreamHealth(gw);
      assert.equal(body.providers.p.last_error, undefined);
      assert.equal(body.providers.p.reachable, true);
      assert.equal(status, 200);
    },
  );

  test("concurrent checks share one probe round", async (t) => {
    const slow = await startMockUpstream({ latencyMs: 100 });
    t.after(() => slow.close());
    const gw = await startGateway({
      providers: { slow: { type: "openai", base_url: slow.url } },
      models: { chat: { targets: ["slow/gpt-4o-mini"] } },
    });
    t.after(() => gw.close());
    const [a, b, c] = await Promise.all([upstreamHealth(gw), upstreamHealth(gw), upstreamHealth(gw)]);
    for (const r of [a, b, c]) assert.equal(r.body.providers.slow.reachable, true);
    assert.equal(slow.requests.filter((r) => r.path === "/v1/models").length, 1);
  });

  test("in_flight counts an open stream and drops back when the client leaves", async (t) => {
    const stalling = await startMockUpstream();
    t.after(() => stalling.close());
    const gw = await startGateway({
      providers: { p: { type: "openai", base_url: stalling.url } },
      models: { m: { targets: ["p/gpt-4o-mini"] } },
    });
    t.after(() => gw.close());
    // The stream sends one event and then stalls; only this request gets the fault, not the probes.
    stalling.setFault("stall-body;after=1", { times: 1 });
    const ac = new AbortController();
    const res = await openChatStream(gw.url, ac.signal);
    const reader = res.body!.getReader();
    const first = await reader.read();
    assert.match(new TextDecoder().decode(first.value), /^data: \{/);

    const during = await upstreamHealth(gw);
    assert.equal(during.body.providers.p.in_flight, 1);

    const upstreamAborted = once(stalling, "abort");
    ac.abort();
    await upstreamAborted;
    const afterwards = await upstreamHealth(gw);
    assert.equal(afterwards.body.providers.p.in_flight, 0);
    assert.equal(afterwards.body.providers.p.last_error, undefined, "a client leaving is not the provider's fault");
  });
});
