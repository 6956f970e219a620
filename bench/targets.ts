/**
 * Starting and describing what gets measured: the mock upstreams, and the
 * targets in front of them — the mock itself ("direct", the floor), nginx as a
 * plain reverse proxy, Switchyard (per worker count, plus a variant with a
 * 1,000-model / 5,000-target config), and peer gateways when installed.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import type { Context } from "./context.ts";
import type { Flavour } from "./flavours.ts";
import { FLAVOURS, flavourSpecs } from "./flavours.ts";
import { extraModelName, gatewayConfig } from "./gateway-config.ts";
import type { GuardedSettings } from "./guarded.ts";
import { SERVE_NODE_FLAGS } from "../src/cli/node-flags.ts";
import { freePort, waitForHttp } from "./net.ts";
import { nginxConf } from "./nginx-conf.ts";
import { hasCommand, start } from "./procs.ts";
import type { Proc } from "./procs.ts";

export type TargetKind = "direct" | "nginx" | "switchyard" | "peer";

export interface Target {
  id: string;
  label: string;
  kind: TargetKind;
  /** Flavours this target serves (the large-config gateway serves only `plain`). */
  flavours: readonly Flavour[];
  /** The 1,000-model / 5,000-target gateway, which takes part only where routing cost matters. */
  largeConfig: boolean;
  /** The gateway with every resilience mechanism on, or every one off: they take part only in the scenario that prices them. */
  guarded?: boolean;
  /** The response cache is on: its warm-up sends requests unlike each other, so that misses are warmed (and a small cache fills). */
  cached?: boolean;
  /** Chat-completions URL for a flavour. */
  url(f: Flavour): string;
  /** Model names to put in request bodies (cycled when several). */
  models(f: Flavour): string[];
  headers(f: Flavour): Record<string, string>;
  /** A cheap endpoint answered by the server itself, probed for event-loop delay. */
  healthUrl: string;
  /** Root of the process tree whose CPU and memory count as "the server" for flavour `f`. */
  sutPid(f: Flavour): number;
  /** Processes that must stay alive for this target to work. */
  readonly procs: Proc[];
  /** Replaces the server with a freshly started one (same port), where that is possible. */
  restart?: () => Promise<void>;
  command: string;
  startupMs: number;
  notes: string[];
}

export interface Mocks {
  procs: Record<Flavour, Proc>;
  /** host:port */
  hosts: Record<Flavour, string>;
  baseUrls: Record<Flavour, string>;
  /** Replaces one mock with a fresh process on the same port. */
  restart(f: Flavour): Promise<void>;
}

export interface Skipped {
  id: string;
  reason: string;
}

const READY_MS = 30_000;

export async function startMocks(ctx: Context, holdTps: number): Promise<Mocks> {
  const specs = flavourSpecs(holdTps);
  const procs = {} as Record<Flavour, Proc>;
  const hosts = {} as Record<Flavour, string>;
  const baseUrls = {} as Record<Flavour, string>;
  const launch = async (f: Flavour, port: number) => {
    const proc = start({
      name: `mock-${f}`,
      argv: [ctx.node, `${ctx.repoRoot}/src/cli/main.ts`, "mock", "--port", String(port), ...specs[f].args],
      cpus: ctx.layout.loadCpus,
      nofile: ctx.nofile,
    });
    procs[f] = proc;
    await proc.waitForLine((l) => l.includes("mock upstream listening on"), READY_MS);
  };
  await Promise.all(
    FLAVOURS.map(async (f) => {
      const port = await freePort();
      hosts[f] = `127.0.0.1:${port}`;
      baseUrls[f] = `http://127.0.0.1:${port}/v1`;
      await launch(f, port);
    }),
  );
  const restart = async (f: Flavour) => {
    await procs[f].stop();
    await launch(f, Number(hosts[f].split(":")[1]));
  };
  return { procs, hosts, baseUrls, restart };
}

export function directTarget(mocks: Mocks): Target {
  return {
    id: "direct",
    label: "direct to mock",
    kind: "direct",
    flavours: FLAVOURS,
    largeConfig: false,
    url: (f) => `${mocks.baseUrls[f]}/chat/completions`,
    models: (f) => [f],
    headers: () => ({}),
    // The mock has no /health; its 404 still measures how quickly it answers.
    healthUrl: `http://${mocks.hosts.plain}/health`,
    sutPid: (f) => mocks.procs[f].pid,
    get procs() {
      return Object.values(mocks.procs);
    },
    // Only the open-stream scenarios restart servers, and they use the hold mock.
    restart: () => mocks.restart("hold"),
    command: Object.values(mocks.procs)
      .map((p) => p.command)
      .join("\n"),
    startupMs: 0,
    notes: ["CPU and memory figures of 'direct' are those of the mock process itself."],
  };
}

export async function startNginx(ctx: Context, mocks: Mocks): Promise<Target | Skipped> {
  if (!hasCommand("nginx")) {
    return { id: "nginx", reason: "nginx is not installed: apt-get install -y nginx-light (or nginx)" };
  }
  const prefix = `${ctx.tmp}/nginx`;
  for (const d of ["", "/client_body", "/proxy", "/fastcgi", "/uwsgi", "/scgi"]) mkdirSync(prefix + d, { recursive: true });
  const port = await freePort();
  const conf = nginxConf({ prefix, port, mocks: mocks.hosts, nofile: ctx.nofile, asRoot: process.getuid?.() === 0 });
  writeFileSync(`${prefix}/nginx.conf`, conf);
  const base = `http://127.0.0.1:${port}`;
  const launch = async () => {
    const p = start({
      name: "nginx",
      argv: ["nginx", "-p", prefix, "-c", "nginx.conf", "-g", "daemon off;"],
      cpus: ctx.layout.sutCpus,
      nofile: ctx.nofile,
    });
    return { p, ms: await waitForHttp(`${base}/health`, p, READY_MS, (s) => s === 200) };
  };
  const first = await launch();
  let proc = first.p;
  return {
    id: "nginx",
    label: "nginx reverse proxy",
    kind: "nginx",
    flavours: FLAVOURS,
    largeConfig: false,
    url: (f) => `${base}/${f}/v1/chat/completions`,
    models: (f) => [f],
    headers: () => ({}),
    healthUrl: `${base}/health`,
    sutPid: () => proc.pid,
    get procs() {
      return [proc, ...Object.values(mocks.procs)];
    },
    restart: async () => {
      await proc.stop();
      proc = (await launch()).p;
    },
    command: proc.command,
    startupMs: first.ms,
    notes: [],
  };
}

export interface GatewayOptions {
  id: string;
  label: string;
  workers: number;
  /** 0 for the plain config; otherwise extra models with 5 targets each. */
  extraModels: number;
  /** Extra node flags, e.g. --cpu-prof. */
  nodeFlags?: string[];
  /** Every resilience mechanism on (bench/guarded.ts). */
  guarded?: GuardedSettings;
  /** The response cache on, with these settings, and these headers on every request (bench/cache-scenarios.ts). */
  cache?: { settings: Record<string, unknown>; headers: Record<string, string> };
  /** Every resilience mechanism off, the default ones included. */
  bare?: boolean;
}

export async function startGateway(ctx: Context, mocks: Mocks, o: GatewayOptions): Promise<Target> {
  const port = await freePort();
  const file = `${ctx.tmp}/${o.id}.yaml`;
  writeFileSync(
    file,
    gatewayConfig({ port, workers: o.workers, mocks: mocks.baseUrls, extraModels: o.extraModels, targetsPerModel: 5, extraProviders: 10, guarded: o.guarded, cache: o.cache?.settings, bare: o.bare }),
  );
  const base = `http://127.0.0.1:${port}`;
  const launch = async () => {
    const p = start({
      name: o.id,
      argv: [ctx.node, ...SERVE_NODE_FLAGS, ...(o.nodeFlags ?? []), `${ctx.repoRoot}/src/cli/main.ts`, "serve", "--config", file, "--port", String(port), "--log-level", "silent"],
      cpus: ctx.layout.sutCpus,
      nofile: ctx.nofile,
    });
    return { p, ms: await waitForHttp(`${base}/health`, p, READY_MS, (s) => s === 200) };
  };
  const first = await launch();
  let proc = first.p;
  const large = o.extraModels > 0;
  const extra = Array.from({ length: o.extraModels }, (_, i) => extraModelName(i));
  return {
    id: o.id,
    label: o.label,
    kind: "switchyard",
    flavours: large ? ["plain"] : FLAVOURS,
    largeConfig: large,
    // Like the guarded gateway, a cached or a bare one takes part only in the scenarios that name it.
    guarded: o.guarded !== undefined || o.cache !== undefined || o.bare === true,
    cached: o.cache !== undefined,
    url: () => `${base}/v1/chat/completions`,
    models: (f) => (large && f === "plain" ? extra : [f]),
    headers: () => ({ ...o.cache?.headers }),
    healthUrl: `${base}/health`,
    sutPid: () => proc.pid,
    get procs() {
      return [proc, ...Object.values(mocks.procs)];
    },
    restart: async () => {
      await proc.stop();
      proc = (await launch()).p;
    },
    command: proc.command,
    startupMs: first.ms,
    notes: [
      ...(large ? [`config with ${o.extraModels + FLAVOURS.length} models and ${o.extraModels * 5 + FLAVOURS.length} targets; requests cycle over the ${o.extraModels} extra models`] : []),
      ...(o.bare === true ? ["every resilience mechanism off: defaults.breaker: false, defaults.retry_budget: false; no limits, health checks, hedging or first_byte: auto"] : []),
      ...(o.guarded === undefined
        ? []
        : [
            `resilience settings applied: ${o.guarded.applied.join(", ") || "none"}`,
            ...(o.guarded.missing.length > 0 ? [`not known to this build's config, so left out: ${o.guarded.missing.join(", ")}`] : []),
          ]),
    ],
  };
}

/**
 * Portkey's open-source gateway, if a project dependency provides it (it is
 * deliberately not one of ours). Requests name the upstream in headers.
 */
export async function startPortkey(ctx: Context, mocks: Mocks): Promise<Target | Skipped> {
  const require = createRequire(`${ctx.repoRoot}/package.json`);
  let entry: string;
  try {
    const pkgPath = require.resolve("@portkey-ai/gateway/package.json");
    entry = pkgPath.replace(/package\.json$/, "build/start-server.js");
    require.resolve(entry);
  } catch {
    return { id: "portkey", reason: "@portkey-ai/gateway is not installed (npm install --no-save @portkey-ai/gateway to include it)" };
  }
  const port = await freePort();
  const proc = start({ name: "portkey", argv: [ctx.node, entry, `--port=${port}`, "--headless"], cpus: ctx.layout.sutCpus, nofile: ctx.nofile });
  const base = `http://127.0.0.1:${port}`;
  const startupMs = await waitForHttp(`${base}/`, proc, READY_MS);
  return {
    id: "portkey",
    label: "Portkey gateway",
    kind: "peer",
    flavours: FLAVOURS,
    largeConfig: false,
    url: () => `${base}/v1/chat/completions`,
    models: (f) => [f],
    headers: (f) => ({ "x-portkey-provider": "openai", "x-portkey-custom-host": mocks.baseUrls[f], authorization: "Bearer bench" }),
    healthUrl: `${base}/`,
    sutPid: () => proc.pid,
    procs: [proc, ...Object.values(mocks.procs)],
    command: proc.command,
    startupMs,
    notes: ["Portkey's health probe is GET / (it has no /health)."],
  };
}

export function isSkipped(t: Target | Skipped): t is Skipped {
  return "reason" in t;
}

export function alive(t: Target): boolean {
  return t.procs.every((p) => p.running);
}
