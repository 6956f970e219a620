import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { startMockUpstream, type MockUpstream } from "../../src/mock/index.ts";
import { resolveConfig } from "../../src/config/load.ts";
import type { Logger } from "../../src/telemetry/log.ts";
import { planPools } from "../../src/upstream/http-transport.ts";
import { chat, post, startGateway, type TestGateway } from "../helpers/gateway.ts";

describe("connection pooling", () => {
  let mock: MockUpstream;
  let gw: TestGateway;
  before(async () => {
    mock = await startMockUpstream({ latencyMs: 20 });
    gw = await startGateway({
      providers: {
        a: { type: "openai", base_url: mock.url, pool: { connections: 2 } },
        // Same origin: shares one pool with a, sized by the larger of the two.
        b: { type: "openai", base_url: mock.url, pool: { connections: 1 } },
      },
      models: { a: { targets: ["a/x"] }, b: { targets: ["b/x"] } },
    });
  });
  after(async () => {
    await gw.close();
    await mock.close();
  });

  test("sequential requests reuse one keep-alive connection", async () => {
    const before = mock.connections;
    for (let i = 0; i < 10; i++) assert.equal((await post(`${gw.url}/v1/chat/completions`, chat("a"))).status, 200);
    assert.equal(mock.connections - before, 1);
  });

  test("pool.connections bounds the sockets to an origin, shared by providers on it", async () => {
    const results = await Promise.all(
      Array.from({ length: 12 }, (_, i) => post(`${gw.url}/v1/chat/completions`, chat(i % 2 ? "a" : "b"))),
    );
    for (const r of results) assert.equal(r.status, 200);
    assert.ok(mock.openConnections <= 2, `${mock.openConnections} connections open, the pool allows 2`);
    assert.ok(mock.connections <= 2, `${mock.connections} connections made in all`);
  });
});

/** A logger that keeps its warnings. */
function recordingLogger(): Logger & { warnings: Array<{ obj: object; msg?: string }> } {
  const warnings: Array<{ obj: object; msg?: string }> = [];
  return { warnings, debug() {}, info() {}, error() {}, warn: (obj, msg) => void warnings.push({ obj, msg }) };
}

/** Resolves once the mock has received `n` requests in all. */
function arrivals(mock: MockUpstream, n: number): Promise<void> {
  return new Promise((resolve) => {
    let seen = mock.requests.length;
    if (seen >= n) return resolve();
    mock.on("request", function onRequest() {
      if (++seen < n) return;
      mock.off("request", onRequest);
      resolve();
    });
  });
}

describe("one pool per origin, sized from every provider on it", () => {
  let mock: MockUpstream;
  let gw: TestGateway;
  const log = recordingLogger();
  before(async () => {
    mock = await startMockUpstream();
    gw = await startGateway(
      {
        providers: {
          // The first provider on the origin asks for the smaller pool.
          small: { type: "openai", base_url: mock.url, pool: { connections: 1, keepalive_timeout: "1m" } },
          big: { type: "openai", base_url: `${mock.url}/`, pool: { connections: 3, keepalive_timeout: "30s" } },
          alone: { type: "openai", base_url: "http://127.0.0.1:9/v1", pool: { connections: 5 } },
          demo: { type: "demo" },
        },
        models: { small: { targets: ["small/x"] } },
      },
      { logger: log },
    );
  });
  after(async () => {
    await gw.close();
    await mock.close();
  });

  test("the largest pool.connections among them is the pool's size", { timeout: 10_000 }, async () => {
    // Answers never come, so each request keeps its connection busy and the next one needs another.
    mock.setFault("stall-headers");
    const pending = Array.from({ length: 3 }, () => post(`${gw.url}/v1/chat/completions`, chat("small")));
    await arrivals(mock, 3);
    assert.equal(mock.connections, 3);
    assert.equal(mock.openConnections, 3);
    gw.engine.abortInFlight();
    for (const r of await Promise.all(pending)) assert.equal(r.status, 503);
    mock.setFault(null);
  });

  test("a warning at start-up names the origin, its providers and the settings chosen", () => {
    const origin = new URL(mock.url).origin;
    const pools = log.warnings.filter((w) => (w.msg ?? "").includes(origin));
    assert.equal(pools.length, 1, JSON.stringify(log.warnings));
    const { obj, msg } = pools[0];
    assert.match(msg!, /small/);
    assert.match(msg!, /big/);
    assert.match(msg!, /3 connections/);
    assert.deepEqual(obj, {
      origin,
      providers: ["small", "big"],
      connections: 3,
      keepAliveTimeout: 60_000,
      http2: false,
      connectTimeout: 10_000,
    });
    // An origin with one provider has nothing to reconcile.
    assert.ok(!log.warnings.some((w) => (w.msg ?? "").includes("127.0.0.1:9")));
  });
});

describe("planPools", () => {
  const providers = (raw: Record<string, unknown>) => Object.values(resolveConfig({ providers: raw, models: {} }, { env: {}, source: "test" }).providers);

  test("groups providers by origin and resolves each setting towards the more generous one", () => {
    const plans = planPools(
      providers({
        a: { type: "openai", base_url: "https://api.example.com/v1", pool: { connections: 4, http2: false }, timeouts: { connect: "2s" } },
        b: { type: "openai", base_url: "https://api.example.com/other", pool: { connections: 2, http2: true, keepalive_timeout: "10m" } },
        c: { type: "openai", base_url: "https://api.example.com:8443/v1" },
        d: { type: "demo" },
      }),
    );
    assert.deepEqual([...plans.keys()], ["https://api.example.com", "https://api.example.com:8443"]);
    assert.deepEqual(plans.get("https://api.example.com"), {
      origin: "https://api.example.com",
      providers: ["a", "b"],
      connections: 4,
      keepAliveTimeout: 600_000,
      http2: true,
      connectTimeout: 10_000,
      differs: true,
    });
    assert.equal(plans.get("https://api.example.com:8443")?.differs, false);
  });

  test("providers that agree are not reported as differing", () => {
    const plans = planPools(
      providers({
        a: { type: "openai", base_url: "http://127.0.0.1:9001/v1", pool: { connections: 8 } },
        b: { type: "openai", base_url: "http://127.0.0.1:9001/v2", pool: { connections: 8 } },
      }),
    );
    assert.deepEqual(plans.get("http://127.0.0.1:9001")?.providers, ["a", "b"]);
    assert.equal(plans.get("http://127.0.0.1:9001")?.differs, false);
    assert.equal(plans.get("http://127.0.0.1:9001")?.connections, 8);
  });
});
