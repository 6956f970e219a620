/**
 * Worker: opens `count` concurrent streaming requests (one connection each),
 * in batches, waits until every one has delivered its first chunk, holds them
 * open for `holdS` while draining their bytes, then closes them all at once.
 * Emits `open` when all are established and `closing` before tearing down, so
 * the orchestrator measures the server only while exactly `count` are open.
 */
import { Pool } from "undici";
import { emitEvent, emitResult, guardWorker, workerArgs } from "./worker-io.ts";

export interface ManyStreamsSpec {
  url: string;
  headers: Record<string, string>;
  body: string;
  count: number;
  /** Streams started together before waiting for their first chunk. */
  batch: number;
  holdS: number;
  /** Give up on the ramp after this long. */
  rampLimitS: number;
}

export interface ManyStreamsResult {
  requested: number;
  opened: number;
  failed: number;
  /** Streams that ended or broke while they should have been held open. */
  dropped: number;
  rampMs: number;
  bytes: number;
}

const spec = workerArgs<ManyStreamsSpec>();
guardWorker((spec.rampLimitS + spec.holdS + 30) * 1000);

const url = new URL(spec.url);
const pool = new Pool(url.origin, { connections: spec.count, pipelining: 1, keepAliveTimeout: 60_000, headersTimeout: spec.rampLimitS * 1000 });
const headers = { "content-type": "application/json", accept: "text/event-stream", ...spec.headers };
let bytes = 0;
let failed = 0;
let dropped = 0;
let holding = false;
let closing = false;

/** Resolves true once the first chunk arrived, false if the stream failed first. */
function open(): Promise<boolean> {
  return new Promise((resolve) => {
    let started = false;
    const fail = () => {
      if (!started) {
        failed++;
        resolve(false);
      } else if (holding && !closing) dropped++;
    };
    pool.request({ path: url.pathname, method: "POST", headers, body: spec.body }).then(
      (res) => {
        if (res.statusCode !== 200) {
          res.body.resume();
          return fail();
        }
        res.body.on("data", (chunk: Buffer) => {
          bytes += chunk.length;
          if (!started) {
            started = true;
            resolve(true);
          }
        });
        res.body.on("end", fail);
        res.body.on("error", fail);
      },
      fail,
    );
  });
}

const t0 = performance.now();
const rampEnd = t0 + spec.rampLimitS * 1000;
let opened = 0;
for (let i = 0; i < spec.count && performance.now() < rampEnd; i += spec.batch) {
  const n = Math.min(spec.batch, spec.count - i);
  const batch = Promise.all(Array.from({ length: n }, () => open().then((ok) => void (ok && opened++))));
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([batch, new Promise((r) => (timer = setTimeout(r, Math.max(0, rampEnd - performance.now()))))]);
  clearTimeout(timer);
}
const rampMs = performance.now() - t0;
holding = true;
emitEvent({ event: "open", opened, failed, rampMs });
await new Promise((r) => setTimeout(r, spec.holdS * 1000));
closing = true;
emitEvent({ event: "closing" });
const result: ManyStreamsResult = { requested: spec.count, opened, failed, dropped, rampMs, bytes };
emitResult(result);
await pool.destroy();
process.exit(0);
