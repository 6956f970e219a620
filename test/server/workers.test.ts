import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { resolveConfig } from "../../src/config/load.ts";
import { startMockUpstream, type MockUpstream } from "../../src/mock/index.ts";
import { silentLogger } from "../../src/telemetry/log.ts";
import { startWorkers, type WorkerPool } from "../../src/server/workers.ts";
import { chat } from "../helpers/gateway.ts";

describe("server.workers: several worker threads on one port", () => {
  let mock: MockUpstream;
  let pool: WorkerPool;
  before(async () => {
    mock = await startMockUpstream({ tokens: 400, tokensPerSecond: 40 });
    const config = resolveConfig(
      {
        server: { port: 0, log_level: "silent" },
        providers: { slow: { type: "openai", base_url: mock.url }, demo: { type: "demo" } },
        models: { slow: { targets: ["slow/x"] }, demo: { targets: ["demo/demo-1"] } },
      },
      { env: {}, source: "test" },
    );
    pool = await startWorkers(config, 2, silentLogger);
  });
  after(async () => {
    await pool.close();
    await mock.close();
  });

  test("every worker serves the API on the shared port", async () => {
    const results = await Promise.all(
      Array.from({ length: 8 }, () =>
        fetch(`${pool.url}/v1/chat/completions`, {
          method: "POST",
          headers: { "content-type": "application/json", connection: "close" },
          body: JSON.stringify(chat("demo")),
        }),
      ),
    );
    for (const r of results) {
      assert.equal(r.status, 200);
      assert.equal(r.headers.get("x-switchyard-target"), "demo/demo-1");
      await r.arrayBuffer();
    }
  });

  test("in-flight counts are exact across workers, whichever worker answers", async () => {
    const streams = await Promise.all(
      Array.from({ length: 6 }, async () => {
        const ac = new AbortController();
        const res = await fetch(`${pool.url}/v1/chat/completions`, {
          method: "POST",
          headers: { "content-type": "application/json", connection: "close" },
          body: JSON.stringify(chat("slow", { stream: true })),
          signal: ac.signal,
        });
        const reader = res.body!.getReader();
        await reader.read();
        return { ac, reader };
      }),
    );
    assert.equal(pool.counters.get(0), 6, "the shared slot of provider 'slow'");
    for (let i = 0; i < 4; i++) {
      const res = await fetch(`${pool.url}/health/upstream`, { headers: { connection: "close" } });
      const body = (await res.json()) as { providers: Record<string, { in_flight: number }> };
      assert.equal(body.providers.slow.in_flight, 6);
    }
    for (const s of streams) s.ac.abort();
  });
});
