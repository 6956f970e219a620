import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { chat, post, startGateway } from "../helpers/gateway.ts";
import { rawRequest } from "../server/util.ts";
import { calls, type CachedSetup, startCached } from "./setup.ts";

const KEY_A = "gateway-key-aaaaaaaaaaaa";
const KEY_B = "gateway-key-bbbbbbbbbbbb";
const ADMIN = "admin-key-cccccccccccccccc";

describe("cache routes, fronts and scope", () => {
  let s: CachedSetup;
  before(async () => {
    s = await startCached(
      { enabled: true, scope: "key" },
      {
        server: { auth: { keys: [KEY_A, KEY_B] }, admin_key: ADMIN },
        models: { other: { targets: ["up/y"] } },
        pricing: { "up/x": { input: 1, output: 2 } },
      },
    );
  });
  after(() => s.close());

  const as = (key: string) => ({ authorization: `Bearer ${key}` });

  test("with scope: key each gateway key has its own entries", async () => {
    const url = `${s.gw.url}/v1/chat/completions`;
    assert.equal((await post(url, chat("m"), as(KEY_A))).headers.get("x-switchyard-cache"), "miss");
    assert.equal((await post(url, chat("m"), as(KEY_A))).headers.get("x-switchyard-cache"), "hit");
    assert.equal((await post(url, chat("m"), as(KEY_B))).headers.get("x-switchyard-cache"), "miss");
    assert.equal((await post(url, chat("m"), as(KEY_B))).headers.get("x-switchyard-cache"), "hit");
  });

  test("every client API answers from the cache in its own format", async () => {
    const cases: Array<[string, Record<string, unknown>, (o: Record<string, unknown>) => void]> = [
      ["/v1/embeddings", { model: "m", input: "cache me" }, (o) => assert.equal(o.object, "list")],
      ["/v1/completions", { model: "m", prompt: "cache me" }, (o) => assert.equal(o.object, "text_completion")],
      ["/v1/messages", { model: "m", max_tokens: 50, messages: [{ role: "user", content: "cache me" }] }, (o) => assert.equal(o.type, "message")],
      ["/v1/responses", { model: "m", input: "cache me" }, (o) => assert.equal(o.object, "response")],
    ];
    for (const [path, body, check] of cases) {
      const first = await post(`${s.gw.url}${path}`, body, as(KEY_A));
      assert.equal(first.status, 200, `${path}: ${first.text}`);
      const second = await post(`${s.gw.url}${path}`, body, as(KEY_A));
      assert.equal(second.headers.get("x-switchyard-cache"), "hit", path);
      check(JSON.parse(second.text));
    }
    // Streamed completions are their own entry (no conversion between the forms) and replay as a stream.
    const streamed = { model: "m", prompt: "cache me", stream: true };
    assert.equal((await post(`${s.gw.url}/v1/completions`, streamed, as(KEY_A))).headers.get("x-switchyard-cache"), "miss");
    const replay = await post(`${s.gw.url}/v1/completions`, streamed, as(KEY_A));
    assert.equal(replay.headers.get("x-switchyard-cache"), "hit");
    assert.ok(replay.text.endsWith("data: [DONE]\n\n"));
  });

  test("GET /v1/cache/stats counts hits, misses, entries, bytes and savings per model, and the caches around routing", async () => {
    await post(`${s.gw.url}/v1/chat/completions`, chat("other"), as(KEY_A));
    assert.equal((await post(`${s.gw.url}/v1/chat/completions`, chat("up/direct-1"), as(KEY_A))).status, 200);
    await post(`${s.gw.url}/v1/chat/completions`, chat("up/direct-2"), as(KEY_A));
    await rawRequest(s.gw.url, "/v1/models", { headers: as(KEY_A) });
    await rawRequest(s.gw.url, "/v1/models", { headers: as(KEY_A) });
    const res = await rawRequest(s.gw.url, "/v1/cache/stats", { headers: as(ADMIN) });
    assert.equal(res.status, 200);
    const stats = JSON.parse(res.text);
    assert.equal(stats.enabled, true);
    assert.ok(stats.hits >= 6);
    assert.ok(stats.misses >= 7);
    assert.equal(stats.hit_rate, Math.round((stats.hits / (stats.hits + stats.misses)) * 10_000) / 10_000);
    assert.ok(stats.entries >= 7);
    assert.ok(stats.bytes > 0);
    assert.equal(stats.models.other.misses, 1);
    assert.equal(stats.models.other.entries, 1);
    assert.equal(stats.models["(other)"].misses, 2, "names the config does not define share one row");
    assert.equal(stats.models["up/direct-1"], undefined);
    assert.ok(stats.models.m.saved_output_tokens > 0);
    assert.ok(stats.saved_cost > 0, "up/x has a price");
    assert.equal(stats.around_routing.model_lists.misses, 1);
    assert.ok(stats.around_routing.model_lists.hits >= 1);
    for (const name of ["model_lists", "health_results", "token_counts"]) assert.equal(typeof stats.around_routing[name].hit_rate, "number");
    assert.equal((await rawRequest(s.gw.url, "/v1/cache/stats")).status, 401, "an operator's page");
    assert.equal((await rawRequest(s.gw.url, "/v1/cache/stats", { headers: as(KEY_A) })).status, 401, "with an admin key set, a gateway key does not open it");
  });

  test("DELETE /admin/cache purges one model or everything, with the admin key only", async () => {
    assert.equal((await rawRequest(s.gw.url, "/admin/cache", { method: "DELETE", headers: as(KEY_A) })).status, 401);
    const before = s.gw.engine.cacheStats().entries as number;
    const one = await rawRequest(s.gw.url, "/admin/cache?model=other", { method: "DELETE", headers: as(ADMIN) });
    assert.equal(one.status, 200);
    assert.deepEqual(JSON.parse(one.text), { purged: 1, model: "other" });
    assert.equal(s.gw.engine.cacheStats().entries, before - 1);
    const all = await rawRequest(s.gw.url, "/admin/cache", { method: "DELETE", headers: { "x-admin-key": ADMIN } });
    assert.deepEqual(JSON.parse(all.text), { purged: before - 1 });
    assert.equal(s.gw.engine.cacheStats().entries, 0);
    const mockCalls = calls(s.mock);
    assert.equal((await post(`${s.gw.url}/v1/chat/completions`, chat("m"), as(KEY_A))).headers.get("x-switchyard-cache"), "miss");
    assert.equal(calls(s.mock), mockCalls + 1);
  });
});

describe("with the cache off", () => {
  test("answers carry no cache header, the stats say it is off, and the admin API without a key is refused", async () => {
    const gw = await startGateway({ providers: { demo: { type: "demo" } }, models: { m: { targets: ["demo/demo-1"] } } }, { demoTokenGapMs: 0 });
    try {
      assert.equal(gw.engine.cache, undefined);
      const res = await post(`${gw.url}/v1/chat/completions`, chat("m"));
      assert.equal(res.status, 200);
      assert.equal(res.headers.get("x-switchyard-cache"), null);
      const stats = JSON.parse((await rawRequest(gw.url, "/v1/cache/stats")).text);
      assert.equal(stats.enabled, false);
      assert.equal(stats.coalesce, false);
      assert.ok("token_counts" in stats.around_routing);
      assert.equal((await rawRequest(gw.url, "/admin/cache", { method: "DELETE" })).status, 403);
    } finally {
      await gw.close();
    }
  });
});

describe("health results around routing", () => {
  test("with the cache on, a provider probed for a report is not probed again within 5 s", async () => {
    const s = await startCached({ enabled: true });
    try {
      const probes = () => s.mock.requests.filter((r) => r.path.startsWith("/v1/models")).length;
      assert.equal((await rawRequest(s.gw.url, "/health/upstream")).status, 200);
      assert.equal(probes(), 1);
      await rawRequest(s.gw.url, "/health/upstream");
      assert.equal(probes(), 1, "the second report reused the first probe");
      s.clock.advance(5000);
      await rawRequest(s.gw.url, "/health/upstream");
      assert.equal(probes(), 2);
      const { health_results } = s.gw.engine.cacheStats().around_routing;
      assert.deepEqual([health_results.hits, health_results.misses], [1, 2]);
    } finally {
      await s.close();
    }
  });
});
