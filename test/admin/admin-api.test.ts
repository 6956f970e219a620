import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { startMockUpstream } from "../../src/mock/index.ts";
import { FakeClock } from "../helpers/fake-clock.ts";
import { chat, post, startGateway } from "../helpers/gateway.ts";
import { ADMIN_KEY, admin, pump, streamRequest } from "./helpers.ts";

async function setUp(extra: Record<string, unknown> = {}) {
  const clock = new FakeClock();
  const a = await startMockUpstream({ tokens: 3, tokensPerSecond: 10, clock });
  const b = await startMockUpstream();
  const gw = await startGateway({
    server: { admin_key: ADMIN_KEY },
    providers: { a: { type: "openai", base_url: a.url, api_key: "sk-a-secret-0001" }, b: { type: "openai", base_url: b.url, api_key: "sk-b-secret-0002" } },
    models: { m: { targets: [{ provider: "a", model: "x", priority: 0 }, { provider: "b", model: "y", priority: 1 }] } },
    ...extra,
  });
  return {
    clock,
    a,
    b,
    gw,
    async close() {
      await gw.close();
      await a.close();
      await b.close();
    },
  };
}

describe("admin API", () => {
  test("off without server.admin_key (403), and a wrong key gets 401", async () => {
    const up = await startMockUpstream();
    const off = await startGateway({ providers: { a: { type: "openai", base_url: up.url } }, models: { m: { targets: ["a/x"] } } });
    const on = await startGateway({ server: { admin_key: ADMIN_KEY }, providers: { a: { type: "openai", base_url: up.url } }, models: { m: { targets: ["a/x"] } } });
    try {
      assert.equal((await admin(off.url, "GET", "/admin/targets")).status, 403);
      const wrong = await admin(on.url, "GET", "/admin/targets", "not-the-key");
      assert.equal(wrong.status, 401);
      assert.equal(wrong.body.error.switchyard_code, "SY_ERR_UNAUTHORIZED");
    } finally {
      await off.close();
      await on.close();
      await up.close();
    }
  });

  test("lists providers and targets; disabling a target sends new requests to the next one, enabling brings it back", async () => {
    const s = await setUp();
    try {
      const list = await admin(s.gw.url, "GET", "/admin/targets");
      assert.equal(list.status, 200);
      assert.deepEqual(Object.keys(list.body.providers), ["a", "b"]);
      assert.equal(list.body.targets["a/x"].state, "enabled");
      assert.equal(list.body.targets["a/x"].in_flight, 0);
      assert.equal(list.body.providers.a.breaker.state, "closed");

      const off = await admin(s.gw.url, "POST", "/admin/targets/a/x/disable");
      assert.deepEqual(off.body, { target: "a/x", state: "disabled" });
      const r1 = await post(`${s.gw.url}/v1/chat/completions`, chat("m"));
      assert.equal(r1.status, 200);
      assert.equal(r1.headers.get("x-switchyard-target"), "b/y");
      assert.equal((await admin(s.gw.url, "GET", "/admin/targets")).body.targets["a/x"].state, "disabled");

      await admin(s.gw.url, "POST", "/admin/targets/a/x/enable");
      const r2 = pump(s.clock, post(`${s.gw.url}/v1/chat/completions`, chat("m")));
      assert.equal((await r2).headers.get("x-switchyard-target"), "a/x");

      // A provider switched off takes its targets with it; with every target off the model answers 503.
      await admin(s.gw.url, "POST", "/admin/providers/a/disable");
      await admin(s.gw.url, "POST", "/admin/providers/b/disable");
      const none = await post(`${s.gw.url}/v1/chat/completions`, chat("m"));
      assert.equal(none.status, 503);
      assert.equal(JSON.parse(none.text).error.switchyard_code, "SY_ERR_DISABLED");
      const states = (await admin(s.gw.url, "GET", "/admin/targets")).body;
      assert.equal(states.providers.a.state, "disabled");
      assert.equal(states.targets["b/y"].state, "disabled");
      // /health/upstream (and the dashboard) show them switched off too.
      const health = (await (await fetch(`${s.gw.url}/health/upstream`)).json()) as { providers: Record<string, { disabled?: boolean }>; targets: Record<string, { disabled?: boolean }> };
      assert.equal(health.providers.a.disabled, true);
      assert.equal(health.targets["b/y"].disabled, true);
    } finally {
      await s.close();
    }
  });

  test("drain: no new requests, 'draining' while a stream is in flight, 'drained' once it ends", async () => {
    const s = await setUp();
    try {
      const res = await streamRequest(s.gw.url, "m");
      assert.equal(res.headers.get("x-switchyard-target"), "a/x");
      await admin(s.gw.url, "POST", "/admin/targets/a/x/drain");
      const during = (await admin(s.gw.url, "GET", "/admin/targets")).body.targets["a/x"];
      assert.deepEqual([during.state, during.in_flight], ["draining", 1]);
      const next = await post(`${s.gw.url}/v1/chat/completions`, chat("m"));
      assert.equal(next.headers.get("x-switchyard-target"), "b/y", "new requests pass the draining target by");
      const text = await pump(s.clock, res.text());
      assert.ok(text.endsWith("data: [DONE]\n\n"), "the stream in flight completes");
      const after = (await admin(s.gw.url, "GET", "/admin/targets")).body.targets["a/x"];
      assert.deepEqual([after.state, after.in_flight], ["drained", 0]);
    } finally {
      await s.close();
    }
  });

  test("unknown names get a 404 naming them; unknown routes and wrong methods are refused in OpenAI's shape", async () => {
    const s = await setUp();
    try {
      const p = await admin(s.gw.url, "POST", "/admin/providers/nope/disable");
      assert.equal(p.status, 404);
      assert.match(p.body.error.message, /unknown provider "nope"/);
      const t = await admin(s.gw.url, "POST", "/admin/targets/a/missing-model/drain");
      assert.equal(t.status, 404);
      assert.match(t.body.error.message, /unknown target "a\/missing-model"/);
      const b = await admin(s.gw.url, "POST", "/admin/breakers/zzz/reset");
      assert.match(b.body.error.message, /"zzz"/);
      const long = await admin(s.gw.url, "POST", `/admin/providers/${"x".repeat(5000)}/drain`);
      assert.equal(long.status, 404);
      assert.ok(long.body.error.message.length < 400, "a long name from the path is quoted cut short");
      assert.equal((await admin(s.gw.url, "POST", "/admin/whatever")).status, 404);
      const m = await admin(s.gw.url, "GET", "/admin/reload");
      assert.equal(m.status, 405);
      assert.equal(m.body.error.switchyard_code, "SY_ERR_METHOD_NOT_ALLOWED");
    } finally {
      await s.close();
    }
  });

  test("resetting a breaker closes it", async () => {
    const s = await setUp({ defaults: { breaker: { consecutive: 1, recovery: "10m" } } });
    try {
      s.b.setFault("status=500");
      await s.gw.engine.setSwitch("a", undefined, "disabled");
      const failed = await post(`${s.gw.url}/v1/chat/completions`, chat("m"));
      assert.ok(failed.status >= 500);
      const open = (await admin(s.gw.url, "GET", "/admin/targets")).body;
      assert.equal(open.targets["b/y"].breaker.state, "open");
      const reset = await admin(s.gw.url, "POST", "/admin/breakers/b/y/reset");
      assert.deepEqual(reset.body, { breaker: "b/y", state: "closed", had_breaker: true });
      await admin(s.gw.url, "POST", "/admin/breakers/b/reset");
      const closed = (await admin(s.gw.url, "GET", "/admin/targets")).body;
      assert.equal(closed.targets["b/y"].breaker.state, "closed");
      assert.equal(closed.providers.b.breaker.state, "closed");
    } finally {
      await s.close();
    }
  });

  test("GET /admin/config shows the effective config with no secret in it", async () => {
    const up = await startMockUpstream();
    const secrets = ["sk-provider-key-aaaa", "sk-second-key-bbbb", "hdr-token-cccc", "gw-key-dddd-0123456789", ADMIN_KEY, "url-pass-eeee"];
    const gw = await startGateway({
      server: { admin_key: ADMIN_KEY, auth: { keys: [{ name: "team", key: "gw-key-dddd-0123456789" }] } },
      providers: {
        a: { type: "openai", base_url: up.url, api_keys: ["sk-provider-key-aaaa", "sk-second-key-bbbb"], headers: { "x-upstream-token": "hdr-token-cccc", "x-plain": "visible" } },
        c: { type: "openai", base_url: up.url.replace("http://", "http://user:url-pass-eeee@") },
      },
      models: { m: { targets: ["a/x", "c/z"] } },
    });
    try {
      const res = await admin(gw.url, "GET", "/admin/config");
      assert.equal(res.status, 200);
      for (const secret of secrets) assert.ok(!res.text.includes(secret), `${secret} must not appear`);
      assert.equal(res.body.providers.a.headers["x-plain"], "visible");
      assert.deepEqual(res.body.providers.a.apiKeys, ["<redacted>", "<redacted>"]);
      assert.equal(res.body.server.adminKey, "<redacted>");
      assert.deepEqual(Object.keys(res.body.models), ["m"]);
    } finally {
      await gw.close();
      await up.close();
    }
  });
});
