/**
 * Profiles Switchyard under load (c=64 non-streaming, or 200-chunk streams): a
 * fresh gateway started with `node --cpu-prof`, warmed up, loaded for a while,
 * stopped with SIGTERM (which writes the .cpuprofile), then summarised by self
 * time per function. The profile covers the whole process, start-up included.
 */
import { mkdirSync, readdirSync, readFileSync } from "node:fs";
import { chatBody, KB } from "./bodies.ts";
import type { Context } from "./context.ts";
import type { Driver } from "./load.ts";
import type { ProfileEntry, ProfileSummary } from "./result-types.ts";
import type { StreamResult, StreamSpec } from "./streams.ts";
import type { Mocks } from "./targets.ts";
import { startGateway } from "./targets.ts";
import { runWorker } from "./worker-io.ts";

interface CpuProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number };
}

interface CpuProfile {
  nodes: CpuProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

const SPECIAL = new Set(["(idle)", "(program)", "(garbage collector)", "(root)"]);

function shortUrl(url: string, repoRoot: string): string {
  if (url === "") return "";
  const path = url.replace(/^file:\/\//, "");
  if (path.startsWith(`${repoRoot}/`)) return path.slice(repoRoot.length + 1);
  return path;
}

function group(fn: string, location: string): string {
  if (fn === "(garbage collector)") return "garbage collection";
  if (fn === "(program)") return "V8/native (program)";
  if (location.includes("node_modules/undici/")) return "undici (upstream client)";
  if (location.startsWith("src/")) return "Switchyard code (src/)";
  if (location.startsWith("node:")) return "Node.js internals (http, streams, net)";
  if (location.includes("node_modules/")) return "other dependencies";
  return "native calls (writev syscalls, microtask runner, …)";
}

/** Self time per function across every profile file, top `limit` by self time. */
export function summariseProfiles(files: string[], repoRoot: string, window: { fromMs: number; toMs: number }, limit = 15): Omit<ProfileSummary, "load" | "durationS" | "requests" | "command"> {
  const self = new Map<string, { fn: string; location: string; us: number }>();
  let totalUs = 0;
  let idleUs = 0;
  for (const file of files) {
    const prof = JSON.parse(readFileSync(file, "utf8")) as CpuProfile;
    const byId = new Map(prof.nodes.map((n) => [n.id, n]));
    let at = 0;
    for (let i = 0; i < prof.samples.length; i++) {
      at += prof.timeDeltas[i] ?? 0;
      // Only the measured load counts: not start-up, warm-up or shutdown.
      if (at < window.fromMs * 1000 || at > window.toMs * 1000) continue;
      // timeDeltas[i+1] is the time until the next sample, i.e. how long sample i lasted.
      const us = prof.timeDeltas[i + 1] ?? 0;
      const node = byId.get(prof.samples[i]);
      if (node === undefined) continue;
      const { functionName, url, lineNumber } = node.callFrame;
      const fn = functionName === "" ? "(anonymous)" : functionName;
      totalUs += us;
      if (fn === "(idle)") {
        idleUs += us;
        continue;
      }
      const location = SPECIAL.has(fn) ? "" : `${shortUrl(url, repoRoot)}:${lineNumber + 1}`;
      const key = `${fn}@${location}`;
      const entry = self.get(key) ?? { fn, location, us: 0 };
      entry.us += us;
      self.set(key, entry);
    }
  }
  const busyUs = totalUs - idleUs;
  const entries = [...self.values()].sort((a, b) => b.us - a.us);
  const top: ProfileEntry[] = entries.slice(0, limit).map((e) => ({
    function: e.fn,
    location: e.location,
    selfMs: Math.round(e.us / 100) / 10,
    selfPct: busyUs === 0 ? 0 : Math.round((1000 * e.us) / busyUs) / 10,
  }));
  const groups = new Map<string, number>();
  for (const e of entries) groups.set(group(e.fn, e.location), (groups.get(group(e.fn, e.location)) ?? 0) + e.us);
  return {
    busyPct: totalUs === 0 ? 0 : Math.round((1000 * busyUs) / totalUs) / 10,
    top,
    groups: [...groups.entries()].sort((a, b) => b[1] - a[1]).map(([g, us]) => ({ group: g, selfPct: busyUs === 0 ? 0 : Math.round((1000 * us) / busyUs) / 10 })),
    files,
  };
}

export type ProfileLoad = "throughput" | "streams";

/** Runs `load` against a fresh gateway started under --cpu-prof and summarises where its CPU time went. */
export async function profileGateway(ctx: Context, mocks: Mocks, driver: Driver, load: ProfileLoad, durationS: number, workers: number): Promise<ProfileSummary> {
  const dir = `${ctx.tmp}/cpu-profiles-${load}`;
  mkdirSync(dir, { recursive: true });
  const spawned = performance.now();
  const t = await startGateway(ctx, mocks, {
    id: `switchyard-profiled-${load}`,
    label: "Switchyard (profiled)",
    workers,
    extraModels: 0,
    nodeFlags: ["--cpu-prof", `--cpu-prof-dir=${dir}`],
  });
  let requests: number;
  let under: string;
  const window = { fromMs: Infinity, toMs: Infinity };
  const mark = (e: Record<string, unknown>) => {
    if (e.event === "start") window.fromMs = performance.now() - spawned;
    if (e.event === "end") window.toMs = performance.now() - spawned;
  };
  if (load === "throughput") {
    const spec = { url: t.url("plain"), bodies: [chatBody("plain", false, KB)], headers: {}, connections: 64, durationS: 3 };
    await driver.run(ctx, spec);
    mark({ event: "start" });
    const r = await driver.run(ctx, { ...spec, durationS });
    mark({ event: "end" });
    requests = r.requests;
    under = r.command;
  } else {
    const spec: StreamSpec = { url: t.url("s200"), headers: {}, bodies: [chatBody("s200", true, KB)], concurrency: 16, warmupS: 3, durationS };
    const r = await runWorker<StreamResult>(ctx, "streams.ts", spec, (durationS + 60) * 1000, mark);
    requests = r.result.streams;
    under = r.command;
  }
  await t.procs[0].stop(10_000);
  const files = readdirSync(dir)
    .filter((f) => f.endsWith(".cpuprofile"))
    .map((f) => `${dir}/${f}`);
  if (files.length === 0) throw new Error(`no .cpuprofile was written (the gateway must exit cleanly on SIGTERM):\n${t.procs[0].output}`);
  return { load, durationS, requests, command: `${t.command}  # under: ${under}`, ...summariseProfiles(files, ctx.repoRoot, window) };
}
