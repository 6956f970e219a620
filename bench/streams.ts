/**
 * Worker: keeps `concurrency` streaming chat requests going for `durationS`
 * (closed loop) and reports, per stream, time to first body byte, the largest
 * gap between two body chunks, and the bytes delivered. Started by
 * bench/scenarios.ts; protocol in bench/worker-io.ts.
 */
import { Pool } from "undici";
import { summarise } from "./stats.ts";
import type { LatencySummary } from "./stats.ts";
import { emitEvent, emitResult, guardWorker, workerArgs } from "./worker-io.ts";

export interface StreamSpec {
  url: string;
  headers: Record<string, string>;
  bodies: string[];
  concurrency: number;
  /** Streams run first and not counted, so the client's own JIT and connection set-up stay out of the figures. */
  warmupS: number;
  durationS: number;
}

export interface StreamResult {
  streams: number;
  /** Non-200 answers, transport errors, or streams that did not end with `data: [DONE]`. */
  failed: number;
  ttftMs: LatencySummary;
  maxGapMs: LatencySummary;
  bytesMin: number;
  bytesMax: number;
  chunksMean: number;
}

const DONE = Buffer.from("data: [DONE]\n\n");

const spec = workerArgs<StreamSpec>();
guardWorker((spec.warmupS + spec.durationS + 30) * 1000);

const url = new URL(spec.url);
const pool = new Pool(url.origin, { connections: spec.concurrency, pipelining: 1, keepAliveTimeout: 60_000 });
const headers = { "content-type": "application/json", accept: "text/event-stream", ...spec.headers };
const ttft: number[] = [];
const gaps: number[] = [];
let bytesMin = Infinity;
let bytesMax = 0;
let chunks = 0;
let failed = 0;
let next = 0;
let counting = false;

function oneStream(): Promise<void> {
  const body = spec.bodies[next++ % spec.bodies.length];
  const t0 = performance.now();
  return new Promise<void>((resolve) => {
    pool.request({ path: url.pathname, method: "POST", headers, body }).then(
      (res) => {
        let first = -1;
        let last = 0;
        let maxGap = 0;
        let bytes = 0;
        let n = 0;
        let tail: Buffer = Buffer.alloc(0);
        res.body.on("data", (chunk: Buffer) => {
          const now = performance.now();
          if (first < 0) first = now;
          else if (now - last > maxGap) maxGap = now - last;
          last = now;
          bytes += chunk.length;
          n++;
          tail = chunk.length >= DONE.length ? chunk : Buffer.concat([tail, chunk]).subarray(-DONE.length);
        });
        res.body.on("end", () => {
          if (!counting) return resolve();
          if (res.statusCode !== 200 || first < 0 || !tail.subarray(-DONE.length).equals(DONE)) failed++;
          else {
            ttft.push(first - t0);
            gaps.push(maxGap);
            bytesMin = Math.min(bytesMin, bytes);
            bytesMax = Math.max(bytesMax, bytes);
            chunks += n;
          }
          resolve();
        });
        res.body.on("error", () => {
          if (counting) failed++;
          resolve();
        });
      },
      () => {
        if (counting) failed++;
        resolve();
      },
    );
  });
}

async function phase(seconds: number): Promise<void> {
  const endAt = performance.now() + seconds * 1000;
  const loop = async () => {
    while (performance.now() < endAt) await oneStream();
  };
  await Promise.all(Array.from({ length: spec.concurrency }, loop));
}

await phase(spec.warmupS);
counting = true;
emitEvent({ event: "start" });
await phase(spec.durationS);
emitEvent({ event: "end" });

const result: StreamResult = {
  streams: ttft.length,
  failed,
  ttftMs: summarise(ttft),
  maxGapMs: summarise(gaps),
  bytesMin: ttft.length === 0 ? 0 : bytesMin,
  bytesMax,
  chunksMean: ttft.length === 0 ? 0 : chunks / ttft.length,
};
emitResult(result);
await pool.destroy();
process.exit(0);
