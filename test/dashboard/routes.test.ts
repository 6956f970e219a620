/**
 * The dashboard's routes in a running gateway: the page and its assets with
 * their security headers, the operator's guard, the state read without
 * probing, and the live tail as server-sent events.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { startMockUpstream, type MockUpstream } from "../../src/mock/index.ts";
import { channels } from "../../src/telemetry/channels.ts";
import { chat, post, startGateway, type TestGateway } from "../helpers/gateway.ts";
import { SseReader } from "./sse.ts";

const ADMIN = "admin-key-0123456789abcdef";
const GATEWAY_KEY = "gateway-key-0123456789abcdef";
const basic = (pass: string) => `Basic ${Buffer.from(`operator:${pass}`).toString("base64")}`;

let mock: MockUpstream;
before(async () => {
  mock = await startMockUpstream();
});
after(() => mock.close());

const config = (server: Record<string, unknown> = {}) => ({
  server,
  providers: { a: { type: "openai", base_url: mock.url }, b: { type: "openai", base_url: mock.url } },
  models: { fast: { targets: ["a/m1"], retry: { attempts: 1 } }, slow: { targets: ["b/m2"], retry: { attempts: 1 } } },
});

describe("without keys", () => {
  let gw: TestGateway;
  before(async () => {
    gw = await startGateway(config());
  });
  after(() => gw.close());

  test("GET / and /dashboard serve the page with a strict content security policy; its script and style come from the gateway", async () => {
    for (const path of ["/", "/dashboard", "/dashboard/"]) {
      const res = await fetch(gw.url + path);
      assert.equal(res.status, 200, path);
      assert.equal(res.headers.get("content-type"), "text/html; charset=utf-8");
      const csp = res.headers.get("content-security-policy") ?? "";
      assert.match(csp, /default-src 'none'/);
      assert.match(csp, /script-src 'self'/);
      assert.match(csp, /connect-src 'self'/);
      assert.equal(res.headers.get("x-content-type-options"), "nosniff");
      const html = await res.text();
      assert.match(html, /<script src="\/dashboard\/app\.js" defer><\/script>/);
      assert.doesNotMatch(html, /https?:\/\//, "nothing loaded from elsewhere");
    }
    const js = await fetch(`${gw.url}/dashboard/app.js`);
    assert.equal(js.headers.get("content-type"), "text/javascript; charset=utf-8");
    assert.match(await js.text(), /EventSource\("\/dashboard\/events"\)/);
    const css = await fetch(`${gw.url}/dashboard/app.css`);
    assert.equal(css.headers.get("content-type"), "text/css; charset=utf-8");
    const head = await fetch(`${gw.url}/dashboard/events`, { method: "HEAD" });
    assert.equal(head.status, 200, "HEAD answers at once, with no stream to hold open");
    assert.equal(head.headers.get("content-type"), "text/event-stream; charset=utf-8");
    assert.equal((await fetch(`${gw.url}/dashboard/nothing`)).status, 404);
    assert.equal((await fetch(`${gw.url}/`, { method: "POST" })).status, 405);
  });

  test("/dashboard/state shows providers and targets with their breakers, and probes no upstream (unlike /health/upstream)", async () => {
    mock.reset();
    const res = await fetch(`${gw.url}/dashboard/state`);
    assert.equal(res.status, 200);
    const state = (await res.json()) as {
      now: number;
      providers: Record<string, { type: string; breaker?: { state: string } }>;
      targets: Record<string, { provider: string; breaker?: { state: string } }>;
    };
    assert.equal(typeof state.now, "number");
    assert.deepEqual(Object.keys(state.providers).sort(), ["a", "b"]);
    assert.deepEqual(Object.keys(state.targets).sort(), ["a/m1", "b/m2"]);
    assert.equal(state.targets["a/m1"].breaker?.state, "closed");
    assert.equal(mock.requests.length, 0, "no probe was sent");
    await (await fetch(`${gw.url}/health/upstream`)).arrayBuffer();
    assert.ok(mock.requests.length > 0, "the health route does probe: the comparison means something");
  });

  test("/dashboard/state carries the /v1/metrics report, so the page needs no other request", async () => {
    assert.equal((await post(`${gw.url}/v1/chat/completions`, chat("fast"))).status, 200);
    const state = (await (await fetch(`${gw.url}/dashboard/state`)).json()) as {
      metrics?: { windows: string[]; targets: Record<string, { "1m": { requests: number }; health_score: number | null; series: { step_s: number } }> };
    };
    assert.deepEqual(state.metrics?.windows, ["1m", "5m", "15m"]);
    assert.ok(state.metrics.targets["a/m1"]["1m"].requests >= 1);
    assert.equal(state.metrics.targets["a/m1"].health_score, 100);
    assert.equal(state.metrics.targets["a/m1"].series.step_s, 10);
    const off = await startGateway(config({ metrics: false }));
    try {
      const bare = (await (await fetch(`${off.url}/dashboard/state`)).json()) as Record<string, unknown>;
      assert.equal("metrics" in bare, false, "server.metrics: false leaves it out");
    } finally {
      await off.close();
    }
  });
});

test("the tail's ring is made on the first view: until then no one listens to request ends", async () => {
  // Metrics off: they listen from the start.
  const gw = await startGateway(config({ metrics: false }));
  try {
    await post(`${gw.url}/v1/chat/completions`, chat("fast"));
    assert.equal(channels.requestEnd.hasSubscribers, false);
    await (await fetch(gw.url)).text();
    assert.equal(channels.requestEnd.hasSubscribers, true);
  } finally {
    await gw.close();
  }
  assert.equal(channels.requestEnd.hasSubscribers, false, "closing the server stops the listening");
});

test("server.dashboard: false serves none of its routes", async () => {
  const gw = await startGateway(config({ dashboard: false }));
  try {
    for (const path of ["/", "/dashboard", "/dashboard/app.js", "/dashboard/state", "/dashboard/events"]) {
      const res = await fetch(`${gw.url}${path}`);
      await res.text();
      assert.equal(res.status, 404, path);
    }
    assert.equal((await post(`${gw.url}/v1/chat/completions`, chat("fast"))).status, 200, "the API still serves");
  } finally {
    await gw.close();
  }
});

describe("with server.admin_key", () => {
  let gw: TestGateway;
  before(async () => {
    gw = await startGateway(config({ admin_key: ADMIN, auth: { keys: [GATEWAY_KEY] } }));
  });
  after(() => gw.close());

  test("the page, its assets, state and events answer 401 with a Basic challenge without the key, and 200 with it", async () => {
    for (const path of ["/", "/dashboard", "/dashboard/app.js", "/dashboard/app.css", "/dashboard/state", "/dashboard/events"]) {
      for (const headers of [{}, { authorization: `Bearer ${GATEWAY_KEY}` }, { authorization: basic("wrong") }] as Array<Record<string, string>>) {
        const res = await fetch(gw.url + path, { headers });
        assert.equal(res.status, 401, `${path} ${JSON.stringify(headers)}`);
        assert.match(res.headers.get("www-authenticate") ?? "", /^Basic realm=/);
        const body = await res.text();
        assert.ok(!body.includes(ADMIN));
      }
      const ok = await fetch(gw.url + path, { headers: { authorization: basic(ADMIN) } });
      assert.equal(ok.status, 200, path);
      await ok.body?.cancel();
      const bearer = await fetch(gw.url + path, { headers: { authorization: `Bearer ${ADMIN}` } });
      assert.equal(bearer.status, 200, path);
      await bearer.body?.cancel();
    }
  });
});

describe("/dashboard/events", () => {
  let gw: TestGateway;
  before(async () => {
    gw = await startGateway(config());
  });
  after(() => gw.close());

  const open = async (headers: Record<string, string> = {}) => {
    const res = await fetch(`${gw.url}/dashboard/events`, { headers });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("content-type"), "text/event-stream; charset=utf-8");
    assert.equal(res.headers.get("cache-control"), "no-store");
    return new SseReader(res.body!);
  };

  test("each finished request is one event with its summary; a new viewer gets the held ones first; Last-Event-ID resumes", async () => {
    const first = await open();
    const hello = await first.next();
    assert.equal(hello?.retry, "3000", "the stream opens with the reconnect delay");
    mock.setFault("status=503", { times: 1 });
    await post(`${gw.url}/v1/chat/completions`, chat("fast"), { "x-request-id": "failing-one" });
    await post(`${gw.url}/v1/chat/completions`, chat("slow", { messages: [{ role: "user", content: "secret prompt text" }] }), { "x-request-id": "good-one" });

    const failed = await first.nextRequest();
    assert.equal(failed.id, "failing-one");
    assert.equal(failed.target, "a/m1");
    assert.equal(failed.model, "fast");
    assert.equal(failed.status, 503);
    assert.equal(typeof failed.code, "string");
    const good = await first.nextRequest();
    assert.equal(good.id, "good-one");
    assert.equal(good.status, 200);
    assert.equal(good.target, "b/m2");
    assert.equal(good.seq, failed.seq + 1);
    assert.equal(typeof good.tokens_out, "number");
    assert.equal(JSON.stringify(good).includes("secret"), false, "no prompt in the tail");
    await first.cancel();

    const second = await open();
    const held = [await second.nextRequest(), await second.nextRequest()];
    assert.deepEqual(held.map((r) => r.id), ["failing-one", "good-one"]);
    await second.cancel();

    const resumed = await open({ "last-event-id": String(failed.seq) });
    assert.equal((await resumed.nextRequest()).id, "good-one", "only what came after the last one seen");
    await resumed.cancel();
  });
});
