/** Ports and readiness polling for the processes the benchmark starts. */
import { request } from "node:http";
import { createServer } from "node:net";
import type { Proc } from "./procs.ts";

/** A port that was free a moment ago (the OS picks it). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const addr = server.address();
      const port = typeof addr === "object" && addr !== null ? addr.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** One GET; resolves with the status code (or 0 on a connection error). */
export function httpStatus(url: string, timeoutMs = 1000): Promise<number> {
  return new Promise((resolve) => {
    const req = request(url, { method: "GET", agent: false, timeout: timeoutMs }, (res) => {
      res.resume();
      res.on("end", () => resolve(res.statusCode ?? 0));
      res.on("error", () => resolve(0));
    });
    req.on("timeout", () => req.destroy());
    req.on("error", () => resolve(0));
    req.end();
  });
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/**
 * Polls `url` until it answers with a status accepted by `ok` (any answer by
 * default); fails early if `proc` exits, and after `timeoutMs`.
 */
export async function waitForHttp(url: string, proc: Proc, timeoutMs: number, ok: (status: number) => boolean = (s) => s > 0): Promise<number> {
  const t0 = performance.now();
  while (performance.now() - t0 < timeoutMs) {
    if (!proc.running) throw new Error(`${proc.name} exited before it was ready:\n${proc.output.trim()}`);
    if (ok(await httpStatus(url))) return performance.now() - t0;
    await sleep(50);
  }
  throw new Error(`${proc.name} was not ready at ${url} within ${timeoutMs} ms:\n${proc.output.trim()}`);
}
