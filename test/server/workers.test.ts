import assert from "node:assert/strict";
import { connect } from "node:net";
import { after, before, describe, test } from "node:test";
import { resolveConfig } from "../../src/config/load.ts";
import { startMockUpstream, type MockUpstream } from "../../src/mock/index.ts";
import { silentLogger } from "../../src/telemetry/log.ts";
import { startWorkers, type WorkerPool } from "../../src/server/workers.ts";
import { FakeClock } from "../helpers/fake-clock.ts";
import { chat } from "../helpers/gateway.ts";

const WORKERS = 2;
/**
 * The kernel spreads new connections over the workers by a hash of the client
 * port, so a few dozen fresh connections reach both but for a chance of 2^-39;
 * the bound keeps a broken pool from looping forever.
 */
const MAX_CONNECTIONS = 40;

/** A request on a fresh connection, so that the kernel picks a worker anew. */
function fresh(url: string, init: RequestInit = {}): Promise<Response> {
  return fetch(url, { ...init, headers: { ...(init.headers as Record<string, string>), connection: "close" } });
}

function workerOf(res: Response): string {
  const id = res.headers.get("x-switchyard-worker");
  assert.ok(id !== null && /^\d+$/.test(id) && Number(id) < WORKERS, `x-switchyard-worker: ${id}`);
  return id;
}

describe("server.workers: several worker threads on one port", () => {
  // The mock holds every stream after its first token until the test moves this clock: nothing ends on its own.
  const clock = new FakeClock();
  let mock: MockUpstream;
  let pool: WorkerPool;
  before(async () => {
    mock = await startMockUpstream({ tokens: 5, tokensPerSecond: 1, clock });
    const config = resolveConfig(
      {
        server: { port: 0, log_level: "silent" },
        providers: { slow: { type: "openai", base_url: mock.url }, demo: { type: "demo" } },
        models: { slow: { targets: ["slow/x"] }, demo: { targets: ["demo/demo-1"] } },
      },
      { env: {}, source: "test" },
    );
    pool = await startWorkers(config, WORKERS, silentLogger);
  });
  after(async () => {
    await pool.close();
    await mock.close();
  });

  test("every worker serves the API on the shared port, and says which it is", async () => {
    const seen = new Set<string>();
    for (let i = 0; i < MAX_CONNECTIONS && seen.size < WORKERS; i++) {
      const res = await fresh(`${pool.url}/v1/chat/completions`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(chat("demo")),
      });
      assert.equal(res.status, 200);
      assert.equal(res.headers.get("x-switchyard-target"), "demo/demo-1");
      assert.equal(((await res.json()) as { object: string }).object, "chat.completion");
      seen.add(workerOf(res));
    }
    assert.deepEqual([...seen].sort(), ["0", "1"], `answered by workers ${[...seen].join(", ")} in ${MAX_CONNECTIONS} connections`);
  });

  test("errors and health answers name their worker too", async () => {
    const missing = await fresh(`${pool.url}/nope`);
    assert.equal(missing.status, 404);
    workerOf(missing);
    await missing.arrayBuffer();
    const health = await fresh(`${pool.url}/health`);
    assert.equal(health.status, 200);
    workerOf(health);
    await health.arrayBuffer();
  });

  test("the HTTP parser's refusals (400) name their worker too", async () => {
    const { hostname, port } = new URL(pool.url);
    const reply = await new Promise<string>((resolve, reject) => {
      const socket = connect(Number(port), hostname, () => socket.write("NOT-A-METHOD / HTTP/1.1\r\nhost: x\r\n\r\n"));
      let got = "";
      socket.on("data", (c: Buffer) => (got += c.toString("latin1")));
      socket.on("close", () => resolve(got));
      socket.on("error", reject);
    });
    assert.match(reply, /^HTTP\/1\.1 400 /);
    assert.match(reply, /\r\nx-switchyard-worker: \d+\r\n/);
    assert.match(reply, /SY_ERR_BAD_HTTP/);
  });

  test("in-flight counts are exact across workers while both hold streams open", async () => {
    const streams: Array<{ ac: AbortController; reader: ReadableStreamDefaultReader<Uint8Array> }> = [];
    const perWorker = new Map<string, number>();
    try {
      // Streams on fresh connections until each worker holds at least two.
      for (let i = 0; i < MAX_CONNECTIONS && !(perWorker.size === WORKERS && [...perWorker.values()].every((n) => n >= 2)); i++) {
        const ac = new AbortController();
        const res = await fresh(`${pool.url}/v1/chat/completions`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify(chat("slow", { stream: true })),
          signal: ac.signal,
        });
        assert.equal(res.status, 200);
        const worker = workerOf(res);
        const reader = res.body!.getReader();
        streams.push({ ac, reader });
        perWorker.set(worker, (perWorker.get(worker) ?? 0) + 1);
        // The first token is through; the rest waits on the mock's clock.
        assert.match(new TextDecoder().decode((await reader.read()).value), /^data: \{/);
      }
      assert.deepEqual([...perWorker.keys()].sort(), ["0", "1"], "both workers hold streams");
      const total = streams.length;
      assert.equal(mock.holding().length, total, "the mock holds every stream open");
      assert.equal(pool.counters.get(0), total, "the shared slot of provider 'slow'");

      // Each worker reports the streams of both, not only its own.
      const reported = new Map<string, number>();
      for (let i = 0; i < MAX_CONNECTIONS && reported.size < WORKERS; i++) {
        const res = await fresh(`${pool.url}/health/upstream`);
        const body = (await res.json()) as { providers: Record<string, { in_flight: number }> };
        reported.set(workerOf(res), body.providers.slow.in_flight);
      }
      assert.deepEqual(Object.fromEntries(reported), { 0: total, 1: total });

      // Let the mock finish every stream. A worker counts a stream done before it ends the response,
      // so once every client has read its end, the shared count must be back to zero.
      clock.advance(60_000);
      for (const { reader } of streams) {
        let rest = "";
        for (;;) {
          const { done, value } = await reader.read();
          if (done) break;
          rest += new TextDecoder().decode(value);
        }
        assert.ok(rest.endsWith("data: [DONE]\n\n"));
      }
      assert.equal(pool.counters.get(0), 0);
    } finally {
      for (const s of streams) s.ac.abort();
    }
  });
});
