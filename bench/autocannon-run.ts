/**
 * Worker: one closed-loop autocannon run, used when wrk is not installed.
 * autocannon is loaded by name at run time, so it stays an optional
 * devDependency and needs no type package.
 */
import type { LoadResult, LoadSpec } from "./load.ts";
import { emitResult, guardWorker, workerArgs } from "./worker-io.ts";

interface AutocannonResult {
  latency: { p50: number; p99: number; max: number };
  requests: { total: number };
  duration: number;
  errors: number;
  timeouts: number;
  non2xx: number;
}

type Autocannon = (opts: Record<string, unknown>) => Promise<AutocannonResult>;

const spec = workerArgs<LoadSpec>();
guardWorker((spec.durationS + 20) * 1000);

const name = "autocannon";
const mod = (await import(name)) as { default: Autocannon };
const headers = { "content-type": "application/json", ...spec.headers };
const r = await mod.default({
  url: spec.url,
  connections: spec.connections,
  pipelining: 1,
  duration: spec.durationS,
  timeout: 10,
  requests: spec.bodies.map((body) => ({ method: "POST", headers, body })),
});
const result: Omit<LoadResult, "command"> = {
  rps: r.requests.total / r.duration,
  p50Ms: r.latency.p50,
  p99Ms: r.latency.p99,
  maxMs: r.latency.max,
  requests: r.requests.total,
  errors: r.errors + r.timeouts + r.non2xx,
};
emitResult(result);
process.exit(0);
