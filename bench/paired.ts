/**
 * `npm run bench -- --paired a,b`: two targets measured side by side. Both
 * servers run on the same CPU at the same time, each loaded by its own wrk
 * (32 connections, 1 KB non-streaming requests, every one unlike any before
 * it), and each one's CPU time per request is read from /proc over the same
 * seconds. Whatever the machine does to one server in a round (another
 * process, a slower stretch of the host), it does to the other, so the ratio
 * of the two is far steadier than either figure, or than the interleaved
 * rounds of a scenario, where the targets run one after another.
 */
import { chatBody, KB } from "./bodies.ts";
import type { Context } from "./context.ts";
import type { Driver } from "./load.ts";
import { cpuSeconds } from "./proc-stats.ts";
import type { Target } from "./targets.ts";

export interface PairedRound {
  /** Server CPU microseconds per request, of a and of b. */
  aUs: number;
  bUs: number;
  aRequests: number;
  bRequests: number;
}

export interface PairedSummary {
  rounds: number;
  /** a's CPU per request over b's: b's requests per CPU-second as a fraction of a's (1 = equal, below 1 = b costs more). */
  median: number;
  min: number;
  max: number;
}

export interface PairedOptions {
  rounds: number;
  durationS: number;
  connections?: number;
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((x, y) => x - y);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
};

/** The ratio of each round, summarised. */
export function summarisePaired(rounds: PairedRound[]): PairedSummary {
  const ratios = rounds.filter((r) => r.aUs > 0 && r.bUs > 0).map((r) => r.aUs / r.bUs);
  if (ratios.length === 0) return { rounds: 0, median: Number.NaN, min: Number.NaN, max: Number.NaN };
  return { rounds: ratios.length, median: median(ratios), min: Math.min(...ratios), max: Math.max(...ratios) };
}

/** Runs the rounds, logging each; a and b are the two started (and warmed) targets. */
export async function runPaired(ctx: Context, driver: Driver, a: Target, b: Target, o: PairedOptions): Promise<{ rounds: PairedRound[]; summary: PairedSummary }> {
  if (driver.name !== "wrk") throw new Error("--paired sends unique bodies, which needs wrk (apt-get install -y wrk)");
  const spec = (t: Target) => ({
    url: t.url("plain"),
    bodies: t.models("plain").map((model) => chatBody(model, false, KB)),
    headers: t.headers("plain"),
    connections: o.connections ?? 32,
    durationS: o.durationS,
    unique: true,
  });
  const rounds: PairedRound[] = [];
  ctx.log(`\npaired: ${a.id} (a) and ${b.id} (b) on the same CPU at once, ${o.rounds} rounds of ${o.durationS} s after one that is not counted`);
  // The first round under shared load is not counted: both servers settle (their code optimised for sharing one CPU).
  await Promise.all([driver.run(ctx, spec(a)), driver.run(ctx, spec(b))]);
  for (let i = 1; i <= o.rounds; i++) {
    const a0 = cpuSeconds(a.sutPid("plain"));
    const b0 = cpuSeconds(b.sutPid("plain"));
    const [ra, rb] = await Promise.all([driver.run(ctx, spec(a)), driver.run(ctx, spec(b))]);
    const aUs = ((cpuSeconds(a.sutPid("plain")) - a0) * 1e6) / ra.requests;
    const bUs = ((cpuSeconds(b.sutPid("plain")) - b0) * 1e6) / rb.requests;
    rounds.push({ aUs, bUs, aRequests: ra.requests, bRequests: rb.requests });
    const errors = ra.errors + rb.errors > 0 ? `, errors a ${ra.errors} b ${rb.errors}` : "";
    ctx.log(`  round ${i}/${o.rounds}: a ${aUs.toFixed(1)} µs/req (${ra.requests}), b ${bUs.toFixed(1)} µs/req (${rb.requests}), b/a per CPU-second ${(aUs / bUs).toFixed(3)}${errors}`);
  }
  const summary = summarisePaired(rounds);
  ctx.log(`paired: ${b.id} does ${summary.median.toFixed(3)}× the requests per CPU-second of ${a.id} (median of ${summary.rounds} rounds; ${summary.min.toFixed(3)}–${summary.max.toFixed(3)})`);
  return { rounds, summary };
}
