/**
 * Load generators. Closed loop (fixed concurrency): wrk with bench/wrk-post.lua
 * when installed, otherwise autocannon from npm in a child process. Fixed
 * request rate: bench/rate-client.ts (an undici client that measures latency
 * from each request's scheduled start, so a stalled server cannot hide
 * behind the requests it delayed).
 */
import { spawnSync } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { existsSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import type { Context } from "./context.ts";
import { benchFile } from "./context.ts";
import { hasCommand, runToEnd } from "./procs.ts";
import { runWorker } from "./worker-io.ts";

export interface LoadSpec {
  url: string;
  /** Bodies sent in turn. */
  bodies: string[];
  headers: Record<string, string>;
  connections: number;
  /** Whole seconds (wrk takes no fractions). */
  durationS: number;
  /** Every request's message is made unique (a per-run token and a counter put in front of it), so that no two requests are alike; wrk only. */
  unique?: boolean;
}

export interface LoadResult {
  rps: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  requests: number;
  /** Connection errors, timeouts and non-2xx answers. */
  errors: number;
  command: string;
}

export interface Driver {
  name: "wrk" | "autocannon";
  version: string;
  run(ctx: Context, spec: LoadSpec): Promise<LoadResult>;
}

const written = new Map<string, string>();

/** Writes `text` once per run into the temp dir and returns its path. */
export function tempFile(ctx: Context, stem: string, text: string): string {
  const key = createHash("sha1").update(text).digest("hex").slice(0, 12);
  let path = written.get(key);
  if (path === undefined || !existsSync(path)) {
    path = `${ctx.tmp}/${stem}-${key}.txt`;
    writeFileSync(path, text);
    written.set(key, path);
  }
  return path;
}

function headerLines(headers: Record<string, string>): string {
  return Object.entries(headers)
    .map(([k, v]) => `${k}: ${v}\n`)
    .join("");
}

interface WrkJson {
  requests: number;
  duration_us: number;
  errors_connect: number;
  errors_read: number;
  errors_write: number;
  errors_status: number;
  errors_timeout: number;
  p50_us: number;
  p99_us: number;
  max_us: number;
}

const wrk: Driver = {
  name: "wrk",
  version: toolVersion("wrk", ["--version"]),
  async run(ctx, spec) {
    const bodies = tempFile(ctx, "bodies", `${spec.bodies.join("\n")}\n`);
    const headers = tempFile(ctx, "headers", headerLines(spec.headers));
    const argv = ["wrk", "-t1", `-c${spec.connections}`, `-d${spec.durationS}s`, "--timeout", "10s", "-s", benchFile("wrk-post.lua"), spec.url];
    const unique = spec.unique === true ? { BENCH_UNIQUE: randomBytes(6).toString("hex") } : {};
    const run = await runToEnd(
      { name: "wrk", argv, cpus: ctx.layout.loadCpus, nofile: ctx.nofile, env: { ...process.env, BENCH_BODIES: bodies, BENCH_HEADERS: headers, ...unique } },
      (spec.durationS + 30) * 1000,
    );
    const line = run.stdout.split("\n").find((l) => l.startsWith("BENCH_JSON "));
    if (run.code !== 0 || line === undefined) throw new Error(`wrk failed (exit ${run.code}):\n${run.stdout.slice(-2000)}`);
    const j = JSON.parse(line.slice("BENCH_JSON ".length)) as WrkJson;
    return {
      rps: j.requests / (j.duration_us / 1e6),
      p50Ms: j.p50_us / 1000,
      p99Ms: j.p99_us / 1000,
      maxMs: j.max_us / 1000,
      requests: j.requests,
      errors: j.errors_connect + j.errors_read + j.errors_write + j.errors_status + j.errors_timeout,
      command: `BENCH_BODIES=${bodies} BENCH_HEADERS=${headers} ${run.command}`,
    };
  },
};

function autocannonDriver(version: string): Driver {
  return {
    name: "autocannon",
    version,
    async run(ctx, spec) {
      if (spec.unique === true) throw new Error("unique request bodies need wrk (--load wrk)");
      const { result, command } = await runWorker<LoadResult>(ctx, "autocannon-run.ts", spec, (spec.durationS + 30) * 1000);
      return { ...result, command };
    },
  };
}

function toolVersion(cmd: string, args: string[]): string {
  const r = spawnSync(cmd, args, { encoding: "utf8" });
  return `${r.stdout ?? ""}${r.stderr ?? ""}`.split("\n")[0].trim();
}

function autocannonVersion(repoRoot: string): string | undefined {
  try {
    const require = createRequire(`${repoRoot}/package.json`);
    return (require("autocannon/package.json") as { version: string }).version;
  } catch {
    return undefined;
  }
}

/** wrk when installed (unless `prefer` says autocannon), else autocannon when resolvable. */
export function pickDriver(repoRoot: string, prefer: "wrk" | "autocannon" | undefined): Driver | { missing: string } {
  const ac = autocannonVersion(repoRoot);
  const haveWrk = hasCommand("wrk");
  if (prefer !== "autocannon" && haveWrk) return wrk;
  if (ac !== undefined) return autocannonDriver(`autocannon ${ac}`);
  if (haveWrk) return wrk;
  return { missing: "no load generator: apt-get install -y wrk, or npm install --save-dev autocannon" };
}

export interface RateSpec {
  url: string;
  bodies: string[];
  headers: Record<string, string>;
  /** Requests per second, spread evenly. */
  rate: number;
  /** Most requests in flight (and connections). */
  connections: number;
  /** Seconds sent at the rate but not counted, before the measured `durationS`. */
  warmupS: number;
  durationS: number;
}

export interface RateResult {
  /** Requests per second actually completed. */
  rps: number;
  /** Latency from each request's scheduled start. */
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  requests: number;
  errors: number;
  /** Requests that could not start on time because every connection was busy. */
  late: number;
}

export async function runRate(ctx: Context, spec: RateSpec, onEvent: (e: Record<string, unknown>) => void): Promise<RateResult & { command: string }> {
  const { result, command } = await runWorker<RateResult>(ctx, "rate-client.ts", spec, (spec.warmupS + spec.durationS + 30) * 1000, onEvent);
  return { ...result, command };
}
