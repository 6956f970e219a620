import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { resolveConfig } from "../../src/config/load.ts";
import { startWorkers, type WorkerPool } from "../../src/server/workers.ts";
import { silentLogger } from "../../src/telemetry/log.ts";
import { chat } from "../helpers/gateway.ts";
import { parsePrometheusText } from "./prom-text.ts";

const WORKERS = 2;
/** Fresh connections reach both workers but for a chance of 2^-39 (see test/server/workers.test.ts); the bound stops a broken pool. */
const MAX_CONNECTIONS = 40;

function fresh(url: string, init: RequestInit = {}): Promise<Response> {
  return fetch(url, { ...init, headers: { ...(init.headers as Record<string, string>), connection: "close" } });
}

let pool: WorkerPool;
before(async () => {
  const config = resolveConfig(
    { server: { port: 0, log_level: "silent" }, providers: { demo: { type: "demo" } }, models: { chat: { targets: ["demo/demo-1"] } } },
    { env: {}, source: "test" },
  );
  pool = await startWorkers(config, WORKERS, silentLogger);
});
after(async () => {
  await pool.close();
});

test("with several workers, /metrics, /v1/metrics and /v1/health count every worker's requests, whichever worker answers", async () => {
  const served = new Set<string>();
  let sent = 0;
  while (sent < MAX_CONNECTIONS && (served.size < WORKERS || sent < 6)) {
    const res = await fresh(`${pool.url}/v1/chat/completions`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(chat("chat")) });
    assert.equal(res.status, 200);
    await res.arrayBuffer();
    served.add(res.headers.get("x-switchyard-worker")!);
    sent++;
  }
  assert.equal(served.size, WORKERS, "both workers served requests");
  const scrapedBy = new Set<string>();
  for (let i = 0; i < MAX_CONNECTIONS && scrapedBy.size < WORKERS; i++) {
    const res = await fresh(`${pool.url}/metrics`);
    assert.equal(res.status, 200);
    scrapedBy.add(res.headers.get("x-switchyard-worker")!);
    const families = parsePrometheusText(await res.text());
    const requests = families.get("switchyard_requests_total")!.samples.find((s) => s.labels.model === "chat" && s.labels.outcome === "success");
    assert.equal(requests?.value, sent, `scraped through worker ${res.headers.get("x-switchyard-worker")}`);
    const duration = families.get("gen_ai_server_request_duration_seconds")!.samples.find((s) => s.name.endsWith("_count") && s.labels.model === "chat");
    assert.equal(duration?.value, sent);
    // Shared by all workers: taken once, not added up.
    const start = families.get("process_start_time_seconds")!.samples[0].value;
    assert.ok(start > 1e9 && start < Date.now() / 1000 + 1);
  }
  assert.equal(scrapedBy.size, WORKERS, "each worker answered a scrape");

  const reportedBy = new Set<string>();
  for (let i = 0; i < MAX_CONNECTIONS && reportedBy.size < WORKERS; i++) {
    for (const path of ["/v1/metrics", "/v1/health"]) {
      const res = await fresh(`${pool.url}${path}`);
      assert.equal(res.status, 200);
      reportedBy.add(res.headers.get("x-switchyard-worker")!);
      const body = (await res.json()) as { targets: Record<string, Record<string, { requests: number }>>; models?: Record<string, Record<string, { requests: number }>> };
      const window = path === "/v1/health" ? "5m" : "1m";
      assert.equal(body.targets["demo/demo-1"][window].requests, sent, `${path} through worker ${res.headers.get("x-switchyard-worker")}`);
      if (body.models !== undefined) assert.equal(body.models.chat["1m"].requests, sent);
    }
  }
  assert.equal(reportedBy.size, WORKERS, "each worker answered a report");
});
