/**
 * The scenarios: what load each one puts on a target and which figures it
 * keeps. Each `run` measures one target once; bench/rounds.ts interleaves the
 * targets round by round.
 */
import { chatBody, KB } from "./bodies.ts";
import type { Context } from "./context.ts";
import type { Flavour } from "./flavours.ts";
import type { Driver, LoadSpec } from "./load.ts";
import { runRate } from "./load.ts";
import { openStreams } from "./open-streams.ts";
import type { Options } from "./options.ts";
import { CoreMeter, CpuMeter } from "./proc-stats.ts";
import type { MetricDef, RunOutcome } from "./result-types.ts";
import type { StreamResult, StreamSpec } from "./streams.ts";
import type { Target } from "./targets.ts";
import { runWorker } from "./worker-io.ts";
import { cacheScenarios } from "./cache-scenarios.ts";

export interface Scenario {
  id: string;
  title: string;
  describe: string;
  flavour: Flavour;
  params: Record<string, unknown>;
  metrics: MetricDef[];
  rounds: number;
  /** Whether the large-config gateway takes part (only where routing cost matters). */
  withLargeConfig: boolean;
  /** When set, exactly these targets take part (by id), whatever the rules above say. */
  onlyTargets?: string[];
  /** Restart each server before every run, so memory reflects this scenario alone. */
  fresh: boolean;
  /** Warm-up before the first round (discarded). */
  warm: ((ctx: Context, t: Target) => Promise<void>) | undefined;
  run(ctx: Context, t: Target): Promise<RunOutcome>;
}

const m = (key: string, label: string, unit: string, better: "higher" | "lower", digits: number): MetricDef => ({ key, label, unit, better, digits });

const RPS = m("rps", "throughput", "req/s", "higher", 0);
const P50 = m("p50", "latency p50", "ms", "lower", 3);
const P99 = m("p99", "latency p99", "ms", "lower", 3);
const CPU = m("cpu_pct", "server CPU", "% of a core", "lower", 0);
const MOCK_CPU = m("mock_cpu_pct", "mock CPU", "% of a core", "lower", 0);
const PER_CORE = m("rps_per_core", "requests per server CPU-second", "req/CPU-s", "higher", 0);
const LOAD_CORE = m("load_core_pct", "load-generator core busy", "%", "lower", 0);

/**
 * CPU use over one measured window: the server's process tree, the mock
 * behind it, and how busy the load-generator core was (by anyone — when it
 * nears 100% the client side, not the server, limits the figures).
 */
class Window {
  readonly #ctx: Context;
  readonly #sutPid: number;
  readonly #mockPid: number;
  #sut: CpuMeter | undefined;
  #mock: CpuMeter | undefined;
  #core: CoreMeter | undefined;
  sutCpuS = Number.NaN;
  wallS = Number.NaN;
  mockPct = Number.NaN;
  loadCorePct = Number.NaN;

  constructor(ctx: Context, t: Target, f: Flavour) {
    this.#ctx = ctx;
    this.#sutPid = t.sutPid(f);
    this.#mockPid = t.procs.find((p) => p.name === `mock-${f}`)?.pid ?? -1;
  }

  start(): void {
    this.#sut = new CpuMeter(this.#sutPid);
    this.#mock = new CpuMeter(this.#mockPid);
    this.#core = new CoreMeter(this.#ctx.layout.loadCpus);
  }

  end(): void {
    if (this.#sut === undefined) return;
    const sut = this.#sut.read();
    const mock = this.#mock!.read();
    this.sutCpuS = sut.cpuS;
    this.wallS = sut.wallS;
    this.mockPct = (100 * mock.cpuS) / mock.wallS;
    this.loadCorePct = this.#core!.readPct();
    this.#sut = undefined;
  }

  get sutPct(): number {
    return (100 * this.sutCpuS) / this.wallS;
  }

  /** Handles the `start`/`end` events of a load worker. */
  onEvent = (e: Record<string, unknown>): void => {
    if (e.event === "start") this.start();
    else if (e.event === "end") this.end();
  };
}

function bodiesFor(t: Target, f: Flavour, stream: boolean, bytes: number): string[] {
  return t.models(f).map((model) => chatBody(model, stream, bytes));
}

function loadSpec(t: Target, f: Flavour, bytes: number, connections: number, durationS: number): LoadSpec {
  return { url: t.url(f), bodies: bodiesFor(t, f, false, bytes), headers: t.headers(f), connections, durationS };
}

function errorNotes(t: Target, errors: number, requests: number): string[] {
  if (errors === 0) return [];
  return [`${t.id}: ${errors} errors or non-2xx answers beside ${requests} good requests`];
}

/** A closed-loop wrk/autocannon scenario, with the server's (and mock's) CPU use alongside. */
export function closedLoop(o: Options, driver: Driver, id: string, title: string, describe: string, bytes: number, connections: number, largeConfig: boolean, warm: boolean): Scenario {
  const flavour: Flavour = "plain";
  return {
    id,
    title,
    describe,
    flavour,
    params: { connections, bodyBytes: bytes, durationS: o.durationS, tool: driver.name, toolVersion: driver.version },
    metrics: [RPS, P50, P99, CPU, PER_CORE, MOCK_CPU, LOAD_CORE],
    rounds: o.rounds,
    withLargeConfig: largeConfig,
    fresh: false,
    warm: warm && o.warmupS > 0 ? async (ctx, t) => void (await driver.run(ctx, loadSpec(t, flavour, bytes, connections, o.warmupS))) : undefined,
    async run(ctx, t) {
      const w = new Window(ctx, t, flavour);
      w.start();
      const r = await driver.run(ctx, loadSpec(t, flavour, bytes, connections, o.durationS));
      w.end();
      return {
        values: {
          rps: r.rps,
          p50: r.p50Ms,
          p99: r.p99Ms,
          cpu_pct: w.sutPct,
          rps_per_core: r.requests / w.sutCpuS,
          mock_cpu_pct: w.mockPct,
          load_core_pct: w.loadCorePct,
        },
        command: r.command,
        notes: errorNotes(t, r.errors, r.requests),
      };
    },
  };
}

function fixedRate(o: Options): Scenario {
  const flavour: Flavour = "plain";
  const connections = 64;
  const warmupS = o.clientWarmupS;
  const spec = (t: Target) => ({ url: t.url(flavour), bodies: bodiesFor(t, flavour, false, KB), headers: t.headers(flavour), rate: o.rate, connections, warmupS, durationS: o.durationS });
  return {
    id: "rate",
    title: `Fixed rate, ${o.rate} req/s`,
    describe: `Non-streaming 1 KB requests at a fixed ${o.rate} req/s (open loop, up to ${connections} in flight); latency counted from each request's scheduled start, so queueing is not hidden.`,
    flavour,
    params: { rate: o.rate, connections, bodyBytes: KB, durationS: o.durationS, tool: "bench/rate-client.ts (undici)" },
    metrics: [P50, P99, m("max", "latency max", "ms", "lower", 2), m("rps", "achieved rate", "req/s", "higher", 0), CPU, LOAD_CORE],
    rounds: o.rounds,
    withLargeConfig: false,
    fresh: false,
    warm: undefined,
    async run(ctx, t) {
      const w = new Window(ctx, t, flavour);
      const r = await runRate(ctx, spec(t), w.onEvent);
      const notes = errorNotes(t, r.errors, r.requests);
      if (r.late > 0) notes.push(`${t.id}: ${r.late} requests waited for a free connection`);
      return { values: { p50: r.p50Ms, p99: r.p99Ms, max: r.maxMs, rps: r.rps, cpu_pct: w.sutPct, load_core_pct: w.loadCorePct }, command: r.command, notes };
    },
  };
}

export function streaming(o: Options, flavour: "s20" | "s200", chunks: number, concurrency: number): Scenario {
  const warmupS = o.clientWarmupS;
  const spec = (t: Target): StreamSpec => ({
    url: t.url(flavour),
    headers: t.headers(flavour),
    bodies: bodiesFor(t, flavour, true, KB),
    concurrency,
    warmupS,
    durationS: o.durationS,
  });
  return {
    id: `stream-${chunks}`,
    title: `Streaming, ${chunks} chunks`,
    describe: `${concurrency} concurrent streams (closed loop) of ${chunks} chunks each, 2.5 ms apart; time to first byte, largest gap between chunks, server CPU per stream, bytes per stream.`,
    flavour,
    params: { concurrency, chunks, chunkIntervalMs: 2.5, warmupS, durationS: o.durationS, tool: "bench/streams.ts (undici)" },
    metrics: [
      m("ttft_p50", "TTFT p50", "ms", "lower", 3),
      m("ttft_p99", "TTFT p99", "ms", "lower", 3),
      m("gap_p50", "largest gap p50", "ms", "lower", 2),
      m("gap_p99", "largest gap p99", "ms", "lower", 2),
      m("streams_per_s", "streams", "/s", "higher", 0),
      m("cpu_ms_per_stream", "server CPU per stream", "ms", "lower", 3),
      m("bytes_per_stream", "bytes per stream", "B", "higher", 0),
      LOAD_CORE,
    ],
    rounds: o.rounds,
    withLargeConfig: false,
    fresh: false,
    // The worker warms itself and the server up before it measures.
    warm: undefined,
    async run(ctx, t) {
      const w = new Window(ctx, t, flavour);
      const { result: r, command } = await runWorker<StreamResult>(ctx, "streams.ts", spec(t), (warmupS + o.durationS + 60) * 1000, w.onEvent);
      const notes = r.failed > 0 ? [`${t.id}: ${r.failed} streams failed or ended without [DONE]`] : [];
      if (r.bytesMin !== r.bytesMax) notes.push(`${t.id}: stream sizes varied from ${r.bytesMin} to ${r.bytesMax} bytes`);
      return {
        values: {
          ttft_p50: r.ttftMs.p50,
          ttft_p99: r.ttftMs.p99,
          gap_p50: r.maxGapMs.p50,
          gap_p99: r.maxGapMs.p99,
          streams_per_s: r.streams / w.wallS,
          cpu_ms_per_stream: r.streams === 0 ? Number.NaN : (1000 * w.sutCpuS) / (r.streams + r.failed),
          bytes_per_stream: r.bytesMax,
          load_core_pct: w.loadCorePct,
        },
        command,
        notes,
      };
    },
  };
}

function manyOpen(o: Options, count: number): Scenario {
  return {
    id: `open-${count}`,
    title: `${count.toLocaleString("en-US")} open streams`,
    describe: `${count} concurrent streams held open for ${o.holdS} s (${o.holdTps} chunk/s each, one connection per stream) against a freshly started server; its RSS, and latency of the server's own health endpoint while they are open (standing in for event-loop delay, which the gateway does not expose).`,
    flavour: "hold",
    params: { count, holdS: o.holdS, chunksPerSecond: o.holdTps, probeIntervalMs: 10, tool: "bench/many-streams.ts (undici)" },
    metrics: [
      m("rss_mb", "server RSS, peak while open", "MB", "lower", 1),
      m("rss_idle_mb", "server RSS before", "MB", "lower", 1),
      m("probe_p50", "health latency p50", "ms", "lower", 2),
      m("probe_p99", "health latency p99", "ms", "lower", 2),
      m("probe_max", "health latency max", "ms", "lower", 2),
      m("opened", "streams open", "", "higher", 0),
      m("ramp_s", "time to open all", "s", "lower", 2),
    ],
    rounds: Math.min(o.rounds, o.openRounds),
    withLargeConfig: false,
    fresh: true,
    warm: undefined,
    run: (ctx, t) => openStreams(ctx, t, { count, holdS: o.holdS }),
  };
}

/**
 * The cost of the resilience mechanisms: the throughput scenario against the
 * same config with every mechanism off (the bare gateway), as it comes
 * (breakers and retry budgets on by default), with the mechanisms the goal
 * names on (guarded), and with every mechanism on (guarded-all; see
 * bench/guarded.ts), interleaved round by round.
 */
function resilience(o: Options, driver: Driver): Scenario {
  const base = closedLoop(
    o,
    driver,
    "resilience-c64",
    "Resilience on, 64 connections",
    "Non-streaming 1 KB requests over 64 connections, to the same config with every resilience mechanism off (bare), as it comes (breakers and retry budgets on by default), with breakers, active health checks and rpm/tpm limits with token estimation switched on (guarded), and with concurrency slots, max_in_flight, first_byte: auto and a least-busy strategy on as well (guarded-all).",
    KB,
    64,
    false,
    o.warmEvery,
  );
  return { ...base, onlyTargets: ["switchyard-bare", "switchyard", "switchyard-guarded", "switchyard-guarded-all"] };
}

export function buildScenarios(o: Options, driver: Driver): Scenario[] {
  const all: Scenario[] = [
    closedLoop(o, driver, "latency-c1", "Added latency, 1 connection", "Non-streaming 1 KB requests, one connection, back to back: the latency a proxy adds.", KB, 1, true, o.warmEvery),
    closedLoop(o, driver, "throughput-c64", "Throughput, 64 connections", "Non-streaming 1 KB requests over 64 connections as fast as they are answered.", KB, 64, true, o.warmEvery),
    closedLoop(o, driver, "body-100k", "100 KB request bodies", "Non-streaming requests with a 100 KB body over 16 connections.", 100 * KB, 16, false, o.warmEvery),
    fixedRate(o),
    streaming(o, "s20", 20, o.streamConcurrency),
    streaming(o, "s200", 200, Math.max(1, Math.round(o.streamConcurrency / 2))),
    ...o.openCounts.map((n) => manyOpen(o, n)),
    resilience(o, driver),
    ...cacheScenarios(o, driver),
  ];
  if (o.scenarios === undefined) return all;
  const unknown = o.scenarios.filter((id) => !all.some((s) => s.id === id));
  if (unknown.length > 0) throw new Error(`unknown scenario(s) ${unknown.join(", ")}; known: ${all.map((s) => s.id).join(", ")}`);
  return all.filter((s) => o.scenarios!.includes(s.id));
}
