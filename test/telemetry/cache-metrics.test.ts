import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { resolveConfig } from "../../src/config/load.ts";
import { startMockUpstream, type MockUpstream } from "../../src/mock/server.ts";
import { loggerFor } from "../../src/telemetry/logger.ts";
import { chat, post, startGateway, type TestGateway } from "../helpers/gateway.ts";
import { parsePrometheusText } from "./prom-text.ts";

let mock: MockUpstream;
let gw: TestGateway;
const lines: Array<Record<string, unknown>> = [];

before(async () => {
  mock = await startMockUpstream();
  const raw = {
    providers: { up: { type: "openai", base_url: mock.url } },
    models: { m: { targets: ["up/x"] } },
    cache: { enabled: true },
  };
  const logger = loggerFor(resolveConfig(raw, { env: {}, source: "test" }), {
    write: (s: string) => void lines.push(...s.split("\n").filter((l) => l !== "").map((l) => JSON.parse(l) as Record<string, unknown>)),
  });
  gw = await startGateway(raw, { logger }, logger);
});
after(async () => {
  await gw.close();
  await mock.close();
});

test("the cache's hits and misses are counted per model, and each request's log line says how the cache took it", async () => {
  const first = await post(`${gw.url}/v1/chat/completions`, chat("m"), { "x-request-id": "cache-first" });
  const second = await post(`${gw.url}/v1/chat/completions`, chat("m"), { "x-request-id": "cache-second" });
  assert.equal(first.status, 200);
  assert.equal(second.status, 200);
  assert.equal(second.headers.get("x-switchyard-cache"), "hit");

  const families = parsePrometheusText(await (await fetch(`${gw.url}/metrics`)).text());
  const cache = families.get("switchyard_cache_requests_total")!.samples;
  assert.equal(cache.find((s) => s.labels.model === "m" && s.labels.status === "miss")?.value, 1);
  assert.equal(cache.find((s) => s.labels.model === "m" && s.labels.status === "hit")?.value, 1);
  const miss = lines.find((l) => l.reqId === "cache-first");
  assert.equal(miss?.cache, "miss");
  assert.equal(miss?.msg, "request");
  assert.equal(miss?.target, "up/x");
  const hit = lines.find((l) => l.reqId === "cache-second");
  assert.equal(hit?.cache, "hit");
  assert.equal(hit?.model, "m");
  assert.equal(hit?.msg, "request (answered from the cache)");
  assert.equal(lines.filter((l) => l.reqId === "cache-second").length, 1, "one line for the hit");
  // The hit made no upstream attempt.
  assert.equal(families.get("switchyard_upstream_attempts_total")!.samples.find((s) => s.labels.target === "up/x")?.value, 1);
  // Requests the cache sends upstream say how in their own line: refreshed, and bypassed.
  await post(`${gw.url}/v1/chat/completions`, chat("m"), { "x-request-id": "cache-refresh", "cache-control": "no-cache" });
  await post(`${gw.url}/v1/chat/completions`, chat("m"), { "x-request-id": "cache-bypass", "cache-control": "no-store" });
  assert.equal(lines.find((l) => l.reqId === "cache-refresh")?.cache, "refresh");
  assert.equal(lines.find((l) => l.reqId === "cache-bypass")?.cache, "bypass");
});
