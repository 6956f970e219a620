import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { startMockUpstream, type MockUpstream } from "../../src/mock/server.ts";
import { statsOf } from "../../src/server/metrics-routes.ts";
import { FakeClock } from "../helpers/fake-clock.ts";
import { chat, post, startGateway, type TestGateway } from "../helpers/gateway.ts";

const WINDOW_KEYS = ["requests", "errors", "timeouts", "success_rate", "rps", "latency_ms", "ttft_ms"];
const PCT_KEYS = ["p50", "p90", "p95", "p99"];
const SERIES_KEYS = ["step_s", "requests", "errors", "latency_p50_ms", "latency_p99_ms", "ttft_p50_ms"];

interface Window {
  requests: number;
  errors: number;
  timeouts: number;
  success_rate: number | null;
  rps: number;
  latency_ms: Record<string, number | null>;
  ttft_ms: Record<string, number | null>;
}
type Report = {
  now: number;
  uptime_s: number;
  in_flight: number;
  queued: number;
  windows: string[];
  targets: Record<string, Record<string, unknown> & { "1m": Window; "5m": Window; "15m": Window; series: Record<string, unknown[]> }>;
  models: Record<string, Record<string, unknown> & { "1m": Window; "15m": Window }>;
};

function assertWindow(w: Window, where: string): void {
  assert.deepEqual(Object.keys(w), WINDOW_KEYS, where);
  assert.deepEqual(Object.keys(w.latency_ms), PCT_KEYS, where);
  assert.deepEqual(Object.keys(w.ttft_ms), PCT_KEYS, where);
  for (const k of ["requests", "errors", "timeouts", "rps"] as const) assert.equal(typeof w[k], "number", `${where}.${k}`);
}

async function report(gw: TestGateway): Promise<Report> {
  const res = await fetch(`${gw.url}/v1/metrics`);
  assert.equal(res.status, 200);
  assert.match(res.headers.get("content-type")!, /^application\/json/);
  return (await res.json()) as Report;
}

let good: MockUpstream;
let bad: MockUpstream;
let gw: TestGateway;
const clock = new FakeClock(1_800_000_000_000);

before(async () => {
  good = await startMockUpstream();
  bad = await startMockUpstream({ fault: "status=503" });
  gw = await startGateway(
    {
      providers: {
        good: { type: "openai", base_url: good.url },
        bad: { type: "openai", base_url: bad.url, breaker: false, retry_budget: false },
      },
      models: {
        chat: { targets: ["good/gpt-4o-mini"] },
        flaky: { targets: ["bad/gpt-4o-mini"], retry: { attempts: 1 } },
        idle: { targets: ["good/idle-model"] },
      },
      pricing: { "good/gpt-4o-mini": { input: 1, output: 2 } },
    },
    { clock },
  );
});
after(async () => {
  await gw.close();
  await good.close();
  await bad.close();
});

describe("GET /v1/metrics", () => {
  test("lists every configured target and model in the documented shape, with zeros and nulls before any traffic", async () => {
    const r = await report(gw);
    assert.deepEqual(Object.keys(r), ["now", "uptime_s", "in_flight", "queued", "windows", "targets", "models"]);
    assert.equal(r.now, clock.now());
    assert.deepEqual(r.windows, ["1m", "5m", "15m"]);
    assert.deepEqual(Object.keys(r.targets).sort(), ["bad/gpt-4o-mini", "good/gpt-4o-mini", "good/idle-model"]);
    assert.deepEqual(Object.keys(r.models).sort(), ["chat", "flaky", "idle"]);
    const idle = r.targets["good/idle-model"];
    assert.deepEqual(Object.keys(idle), ["provider", "model", "1m", "5m", "15m", "health_score", "in_flight", "series"]);
    assert.equal(idle.provider, "good");
    assert.equal(idle.model, "idle-model");
    for (const w of r.windows) assertWindow(idle[w as "1m"], `idle.${w}`);
    assert.equal(idle["1m"].requests, 0);
    assert.equal(idle["1m"].success_rate, null);
    assert.equal(idle["1m"].latency_ms.p50, null);
    assert.equal(idle.health_score, null);
    assert.deepEqual(Object.keys(idle.series), SERIES_KEYS);
    assert.equal(idle.series.step_s, 10);
    for (const k of SERIES_KEYS.slice(1)) assert.equal(idle.series[k].length, 90, k);
    assert.ok(!("series" in r.models.idle));
    for (const w of r.windows) assertWindow(r.models.idle[w as "1m"], `models.idle.${w}`);
  });

  test("counts requests, errors and latencies per target and model; the 1-minute window empties after a minute, the 15-minute one keeps them", async () => {
    for (let i = 0; i < 3; i++) await gw.client.chat.completions.create(chat("chat") as never);
    const stream = await gw.client.chat.completions.create({ ...chat("chat"), stream: true } as never);
    for await (const _ of stream as unknown as AsyncIterable<unknown>) {
      // read to the end
    }
    const failed = await post(`${gw.url}/v1/chat/completions`, chat("flaky"));
    assert.equal(failed.status, 503);

    let r = await report(gw);
    const t = r.targets["good/gpt-4o-mini"];
    assert.equal(t["1m"].requests, 4);
    assert.equal(t["1m"].errors, 0);
    assert.equal(t["1m"].success_rate, 1);
    assert.equal(t.health_score, 100);
    assert.equal(t.series.requests.at(-1), 4, "the current step is the last entry");
    const flaky = r.targets["bad/gpt-4o-mini"];
    assert.equal(flaky["1m"].requests, 1);
    assert.equal(flaky["1m"].errors, 1);
    assert.equal(flaky["1m"].success_rate, 0);
    assert.equal(flaky.health_score, 0);
    assert.equal(r.models.chat["1m"].requests, 4);
    assert.equal(r.models.flaky["1m"].errors, 1);
    // The fake clock stood still: every latency is 0 ms, and the stream's time to first token is counted.
    assert.equal(t["1m"].latency_ms.p50, 0);
    assert.equal(t["1m"].ttft_ms.p99, 0);
    assert.equal(r.in_flight, 0);

    clock.advance(61_000);
    r = await report(gw);
    assert.equal(r.targets["good/gpt-4o-mini"]["1m"].requests, 0);
    assert.equal(r.targets["good/gpt-4o-mini"]["15m"].requests, 4);
    assert.equal(r.targets["good/gpt-4o-mini"].series.requests.at(-7), 4, "61 s later the step is 6 or 7 back");
    clock.advance(15 * 60_000);
    r = await report(gw);
    assert.equal(r.targets["good/gpt-4o-mini"]["15m"].requests, 0);
    assert.deepEqual(r.targets["good/gpt-4o-mini"].series.requests, new Array(90).fill(0));
  });
});

describe("GET /v1/metrics?idle=false", () => {
  test("leaves out what had no traffic in the last 15 minutes", async () => {
    await gw.client.chat.completions.create(chat("chat") as never);
    const res = await fetch(`${gw.url}/v1/metrics?idle=false`);
    const r = (await res.json()) as Report;
    assert.deepEqual(Object.keys(r.targets), ["good/gpt-4o-mini"]);
    assert.deepEqual(Object.keys(r.models), ["chat"]);
    assert.equal(r.targets["good/gpt-4o-mini"]["1m"].requests, 1);
    clock.advance(16 * 60_000);
    const later = (await (await fetch(`${gw.url}/v1/metrics?idle=false`)).json()) as Report;
    assert.deepEqual(Object.keys(later.targets), []);
    const all = await report(gw);
    assert.equal(Object.keys(all.targets).length, 3, "by default, every configured target");
  });
});

describe("GET /v1/health", () => {
  test("gives each configured target its health score", async () => {
    await post(`${gw.url}/v1/chat/completions`, chat("flaky"));
    await gw.client.chat.completions.create(chat("chat") as never);
    const res = await fetch(`${gw.url}/v1/health`);
    assert.equal(res.status, 200);
    const body = (await res.json()) as { targets: Record<string, { health_score: number | null; "5m": Window }> };
    assert.equal(body.targets["good/gpt-4o-mini"].health_score, 100);
    assert.equal(body.targets["bad/gpt-4o-mini"].health_score, 0);
    assert.equal(body.targets["good/idle-model"].health_score, null);
    assertWindow(body.targets["good/gpt-4o-mini"]["5m"], "5m");
  });
});

describe("polling", () => {
  test("reading the metrics sends nothing upstream (no probes), however often", async () => {
    const before = good.requests.length + bad.requests.length;
    for (let i = 0; i < 5; i++) {
      for (const path of ["/metrics", "/v1/metrics", "/v1/health"]) assert.equal((await fetch(`${gw.url}${path}`)).status, 200, path);
    }
    assert.equal(good.requests.length + bad.requests.length, before);
  });
});

describe("who may read the metrics", () => {
  const GATEWAY_KEY = "gateway-key-0123456789abcdef";
  const ADMIN_KEY = "admin-key-0123456789abcdefgh";
  const config = (admin: boolean) => ({
    server: { auth: { keys: [GATEWAY_KEY] }, ...(admin ? { admin_key: ADMIN_KEY } : {}) },
    providers: { good: { type: "openai", base_url: good.url } },
    models: { chat: { targets: ["good/x"] } },
  });
  const status = async (url: string, headers: Record<string, string> = {}) => (await fetch(url, { headers })).status;

  test("with an admin key: only the admin key, as a bearer token, x-admin-key or a Basic password", async () => {
    const g = await startGateway(config(true));
    try {
      for (const path of ["/metrics", "/v1/metrics", "/v1/health"]) {
        const url = `${g.url}${path}`;
        assert.equal(await status(url), 401, path);
        assert.equal(await status(url, { authorization: `Bearer ${GATEWAY_KEY}` }), 401, `${path} with a gateway key`);
        assert.equal(await status(url, { authorization: `Bearer ${ADMIN_KEY}` }), 200, path);
        assert.equal(await status(url, { "x-admin-key": ADMIN_KEY }), 200, path);
        assert.equal(await status(url, { authorization: `Basic ${Buffer.from(`ops:${ADMIN_KEY}`).toString("base64")}` }), 200, path);
      }
      const res = await fetch(`${g.url}/v1/metrics`);
      assert.match(res.headers.get("www-authenticate") ?? "", /^Basic/, "a browser is asked to log in");
    } finally {
      await g.close();
    }
  });

  test("without one: a gateway key, when there are some", async () => {
    const g = await startGateway(config(false));
    try {
      assert.equal(await status(`${g.url}/v1/metrics`), 401);
      assert.equal(await status(`${g.url}/v1/metrics`, { authorization: `Bearer ${GATEWAY_KEY}` }), 200);
      assert.equal(await status(`${g.url}/metrics`, { "x-api-key": GATEWAY_KEY }), 200);
    } finally {
      await g.close();
    }
  });
});

describe("server.metrics: false", () => {
  test("serves none of the metrics routes", async () => {
    const off = await startGateway({ server: { metrics: false }, providers: { good: { type: "openai", base_url: good.url } }, models: { chat: { targets: ["good/x"] } } });
    try {
      for (const path of ["/metrics", "/v1/metrics", "/v1/health"]) assert.equal((await fetch(`${off.url}${path}`)).status, 404, path);
      assert.equal(statsOf(off.engine), undefined, "no recorder, so no subscriber");
      assert.ok(statsOf(gw.engine) !== undefined);
    } finally {
      await off.close();
    }
  });
});
