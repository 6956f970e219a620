/**
 * Worker: sends POSTs at a fixed rate for a fixed time (open loop) and
 * reports latency measured from each request's scheduled start. Started by
 * bench/load.ts; arguments and result as in bench/worker-io.ts.
 */
import { Pool } from "undici";
import type { RateResult, RateSpec } from "./load.ts";
import { summarise } from "./stats.ts";
import { emitEvent, emitResult, guardWorker, workerArgs } from "./worker-io.ts";

const spec = workerArgs<RateSpec>();
guardWorker((spec.warmupS + spec.durationS + 20) * 1000);

const url = new URL(spec.url);
const pool = new Pool(url.origin, { connections: spec.connections, pipelining: 1, keepAliveTimeout: 60_000 });
const headers = { "content-type": "application/json", ...spec.headers };
const latencies: number[] = [];
let errors = 0;
let late = 0;
let inFlight = 0;
let sent = 0;

const interval = 1000 / spec.rate;
// The first `skip` requests warm the client and its connections up and are not counted.
const skip = Math.round(spec.rate * spec.warmupS);
const total = skip + Math.round(spec.rate * spec.durationS);
const t0 = performance.now() + 20;

function fire(i: number): void {
  const scheduled = t0 + i * interval;
  const counted = i >= skip;
  if (i === skip) emitEvent({ event: "start" });
  if (counted && inFlight >= spec.connections) late++;
  inFlight++;
  pool
    .request({ path: url.pathname, method: "POST", headers, body: spec.bodies[i % spec.bodies.length] })
    .then(async (res) => {
      await res.body.dump();
      if (!counted) return;
      if (res.statusCode < 200 || res.statusCode >= 300) errors++;
      else latencies.push(performance.now() - scheduled);
    })
    .catch(() => {
      if (counted) errors++;
    })
    .finally(() => {
      inFlight--;
    });
}

await new Promise<void>((resolve) => {
  const tick = (): void => {
    const due = Math.min(total, Math.floor((performance.now() - t0) / interval) + 1);
    while (sent < due) fire(sent++);
    if (sent >= total) return resolve();
    setTimeout(tick, Math.max(0, Math.min(interval, 1)));
  };
  setTimeout(tick, 20);
});
const sendEnd = performance.now();
// Let the last requests finish (bounded).
const drainUntil = performance.now() + 10_000;
while (inFlight > 0 && performance.now() < drainUntil) await new Promise((r) => setTimeout(r, 5));
emitEvent({ event: "end" });
errors += inFlight;

const s = summarise(latencies);
const result: RateResult = {
  rps: latencies.length / ((sendEnd - (t0 + skip * interval)) / 1000),
  p50Ms: s.p50,
  p99Ms: s.p99,
  maxMs: s.max,
  requests: latencies.length,
  errors,
  late,
};
emitResult(result);
await pool.destroy();
process.exit(0);
