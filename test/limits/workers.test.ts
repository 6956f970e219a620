/**
 * With several workers, a concurrency limit is one limit: each worker's
 * engine counts its slots in the counters' buffer they share. Two engines on
 * one buffer in this thread stand in for two workers.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { resolveConfig } from "../../src/config/load.ts";
import { createGateway } from "../../src/engine/create.ts";
import { limitSlots } from "../../src/limits/index.ts";
import type { QueueEvent } from "../../src/limits/events.ts";
import { Counters } from "../../src/state/counters.ts";
import { FakeClock } from "../helpers/fake-clock.ts";
import { nextEvent } from "./events.ts";
import { GateUpstream } from "./gate-upstream.ts";

test("a provider's concurrency limit holds across workers sharing the counters", async (t) => {
  const up = await new GateUpstream().listen();
  t.after(() => up.close());
  const config = resolveConfig(
    {
      providers: { other: { type: "demo" }, p: { type: "openai", base_url: up.url, limits: { concurrency: 1 } } },
      models: { m: { targets: ["p/x"] } },
    },
    { env: {} },
  );
  // As startWorkers sizes it: the providers' in-flight slots, then the limits'.
  const counters = Counters.shared(Object.keys(config.providers).length + limitSlots(config).length);
  const buffer = counters.buffer as SharedArrayBuffer;
  const clock = new FakeClock();
  const one = await createGateway(config, { sharedCounters: buffer, clock });
  const two = await createGateway(config, { sharedCounters: buffer, clock });
  t.after(async () => {
    await one.close();
    await two.close();
  });
  up.hold = true;
  const ask = (text: string) => ({ model: "m", messages: [{ role: "user", content: text }] });
  const first = one.chat.completions.create(ask("r1"));
  await up.arrived(1);
  assert.equal(one.engine.health.inFlight("p"), 1, "the in-flight slots are untouched by the limits'");
  const queued = nextEvent<QueueEvent>("switchyard:queue", (m) => m.gateway === two.engine && m.event === "wait");
  const second = two.chat.completions.create(ask("r2"));
  await queued;
  assert.equal(up.arrivals.length, 1, "the other worker's request waits for the one slot");
  assert.equal(two.engine.limits!.report().p.concurrency!.in_flight, 1);
  up.release();
  await first;
  await up.arrived(2);
  up.release();
  await second;
  assert.deepEqual(up.arrivals, ["r1", "r2"]);
  assert.equal(one.engine.limits!.report().p.concurrency!.in_flight, 0);
  assert.deepEqual([...new Int32Array(buffer)], [0, 0, 0]);
});

test("with real worker threads, a provider's rpm window is one window: Store state is shared through the main thread", async (t) => {
  const { startWorkers } = await import("../../src/server/workers.ts");
  const { silentLogger } = await import("../../src/telemetry/log.ts");
  const config = resolveConfig(
    {
      server: { port: 0 },
      providers: { d: { type: "demo", limits: { rpm: 3, queue_timeout: 0 } } },
      models: { m: { targets: ["d/demo-1"] } },
    },
    { env: {} },
  );
  const pool = await startWorkers(config, 2, silentLogger);
  t.after(() => pool.close());
  const { request } = await import("node:http");
  const ask = () =>
    new Promise<{ status: number; worker: string }>((resolve, reject) => {
      // A fresh connection each time, so the kernel spreads them over both workers.
      const req = request(`${pool.url}/v1/chat/completions`, { method: "POST", agent: false, headers: { "content-type": "application/json" } }, (res) => {
        res.resume();
        res.on("end", () => resolve({ status: res.statusCode ?? 0, worker: String(res.headers["x-switchyard-worker"]) }));
      });
      req.on("error", reject);
      req.end(JSON.stringify({ model: "m", messages: [{ role: "user", content: "hi" }] }));
    });
  const answers = [];
  for (let i = 0; i < 12; i++) answers.push(await ask());
  assert.equal(answers.filter((a) => a.status === 200).length, 3, JSON.stringify(answers));
  assert.equal(answers.filter((a) => a.status === 429).length, 9);
  assert.ok(new Set(answers.map((a) => a.worker)).size >= 2, `both workers answered: ${JSON.stringify(answers)}`);
});
