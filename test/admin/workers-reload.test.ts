import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { loadConfig } from "../../src/config/load.ts";
import { startMockUpstream } from "../../src/mock/index.ts";
import { silentLogger } from "../../src/telemetry/log.ts";
import { startWorkers } from "../../src/server/workers.ts";
import { FakeClock } from "../helpers/fake-clock.ts";
import { ADMIN_KEY } from "./helpers.ts";

/** The kernel spreads fresh connections over the workers; this bounds the tries to reach both. */
const MAX_CONNECTIONS = 40;

const yaml = (providers: string[], mockUrl: string) =>
  [
    "server:",
    "  port: 0",
    "  log_level: silent",
    `  admin_key: ${ADMIN_KEY}`,
    "providers:",
    ...providers.flatMap((p) => (p === "slow" ? ["  slow:", "    type: openai", `    base_url: ${mockUrl}`] : [`  ${p}:`, "    type: demo"])),
    "models:",
    "  slow:",
    "    targets: [slow/x]",
  ].join("\n");

/** Asks on fresh connections until both workers have answered; returns each one's answer. */
async function fromEachWorker(url: string, init: RequestInit = {}): Promise<Map<string, any>> {
  const seen = new Map<string, any>();
  for (let i = 0; i < MAX_CONNECTIONS && seen.size < 2; i++) {
    const res = await fetch(url, { ...init, headers: { authorization: `Bearer ${ADMIN_KEY}`, connection: "close" } });
    seen.set(res.headers.get("x-switchyard-worker")!, await res.json());
  }
  assert.equal(seen.size, 2, "both workers answered");
  return seen;
}

test("with 2 workers, a reload reaches both, and counters stay with their provider when providers are added and reordered", async (t) => {
  const clock = new FakeClock();
  const mock = await startMockUpstream({ tokens: 5, tokensPerSecond: 1, clock });
  const dir = await mkdtemp(join(tmpdir(), "sy-workers-"));
  const file = join(dir, "switchyard.yaml");
  await writeFile(file, yaml(["slow", "demo"], mock.url));
  const pool = await startWorkers(await loadConfig({ path: file, env: {} }), 2, silentLogger);
  const streams: AbortController[] = [];
  t.after(async () => {
    for (const ac of streams) ac.abort();
    await pool.close();
    await mock.close();
    await rm(dir, { recursive: true });
  });
  const slowSlot = pool.slots.slotOf("inflight:slow");
  assert.equal(slowSlot, 0);

  // A new provider first, the old ones swapped.
  await writeFile(file, yaml(["extra", "demo", "slow"], mock.url));
  const res = await fetch(`${pool.url}/admin/reload`, { method: "POST", headers: { authorization: `Bearer ${ADMIN_KEY}` } });
  assert.equal(res.status, 200, await res.clone().text());
  assert.equal(pool.slots.slotOf("inflight:slow"), slowSlot, "slow keeps its slot");
  assert.equal(pool.slots.slotOf("inflight:extra"), 2, "the new provider gets a new one");
  for (const [, config] of await fromEachWorker(`${pool.url}/admin/config`)) assert.deepEqual(Object.keys(config.providers), ["extra", "demo", "slow"]);

  const readers: Array<ReadableStreamDefaultReader<Uint8Array>> = [];
  for (let i = 0; i < 2; i++) {
    const ac = new AbortController();
    streams.push(ac);
    const stream = await fetch(`${pool.url}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json", connection: "close" },
      body: JSON.stringify({ model: "slow", stream: true, messages: [{ role: "user", content: "hi" }] }),
      signal: ac.signal,
    });
    assert.equal(stream.status, 200);
    const reader = stream.body!.getReader();
    await reader.read();
    readers.push(reader);
  }
  assert.equal(pool.counters.get(slowSlot!), 2, "the streams count in slow's slot");
  assert.equal(pool.counters.get(pool.slots.slotOf("inflight:extra")!), 0);
  for (const [, body] of await fromEachWorker(`${pool.url}/admin/targets`)) {
    assert.equal(body.providers.slow.in_flight, 2);
    assert.equal(body.providers.extra.in_flight, 0);
  }

  // A switch asked of one worker holds in both.
  const off = await fetch(`${pool.url}/admin/providers/slow/drain`, { method: "POST", headers: { authorization: `Bearer ${ADMIN_KEY}` } });
  assert.equal(off.status, 200);
  for (const [, body] of await fromEachWorker(`${pool.url}/admin/targets`)) assert.equal(body.providers.slow.state, "draining");

  clock.advance(60_000);
  for (const reader of readers) {
    let text = "";
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      text += new TextDecoder().decode(value);
    }
    assert.ok(text.endsWith("data: [DONE]\n\n"));
  }
  assert.equal(pool.counters.get(slowSlot!), 0);
  for (const [, body] of await fromEachWorker(`${pool.url}/admin/targets`)) assert.equal(body.providers.slow.state, "drained");
});
