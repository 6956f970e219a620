/**
 * `GET /metrics` (Prometheus text), `GET /v1/metrics` (JSON for people and
 * the dashboard) and `GET /v1/health` (health scores), from one statistics
 * recorder per engine (telemetry/stats.ts) that listens to the engine's
 * events from the moment the HTTP front is built. `server.metrics: false`
 * leaves all of it out: no routes and no subscriber.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { MessagePort } from "node:worker_threads";
import type { Engine } from "../engine/gateway.ts";
import type { BreakerState } from "../telemetry/health-score.ts";
import { healthReport, metricsReport } from "../telemetry/metrics-json.ts";
import { PrometheusExporter, type ScrapeState } from "../telemetry/prometheus.ts";
import { mergeStats, StatsRecorder, type StatsView } from "../telemetry/stats.ts";
import { operatorGuard } from "./admin-auth.ts";
import { authenticator } from "./auth.ts";
import { sendBody } from "./respond.ts";
import { type AcrossWorkers, workerMetrics } from "./worker-metrics.ts";

type Handler = (req: IncomingMessage, res: ServerResponse) => Promise<void>;
type AddRoute = (path: string, methods: Record<string, Handler>, open?: boolean) => void;

interface Metrics {
  stats: StatsRecorder;
  exporter: PrometheusExporter;
  users: number;
}

const JSON_TYPE = "application/json";

/** One recorder per engine, shared by every front built on it. */
const byEngine = new WeakMap<Engine, Metrics>();

/**
 * The statistics recorder of an engine whose HTTP front serves the metrics,
 * for other operator pages that read the same figures (metricsReport,
 * healthReport) without a request; undefined with `server.metrics: false`
 * or before a front is built.
 */
export function statsOf(engine: Engine): StatsRecorder | undefined {
  return byEngine.get(engine)?.stats;
}

/** In a worker thread: how to get every worker's figures through the main thread (worker-metrics.ts). */
const acrossWorkers = new WeakMap<Engine, AcrossWorkers>();

/**
 * In a worker thread (server.workers): `GET /metrics` answers for every
 * worker, through the main thread on `port`, which asks this one for its
 * series too. Call once the HTTP front is built.
 */
export function shareMetricsAcrossWorkers(engine: Engine, port: MessagePort): void {
  const m = byEngine.get(engine);
  if (m === undefined) return;
  acrossWorkers.set(
    engine,
    workerMetrics(port, {
      prometheus: async () => m.exporter.snapshot(await scrapeState(engine, m.stats)),
      stats: async () => m.stats.state(),
    }),
  );
}

/**
 * What `/v1/metrics` reports from: the engine's recorder, or in a worker
 * thread every worker's merged; undefined with `server.metrics: false`.
 */
export async function statsView(engine: Engine): Promise<StatsView | undefined> {
  const m = byEngine.get(engine);
  if (m === undefined) return undefined;
  const all = acrossWorkers.get(engine);
  return all === undefined ? m.stats : mergeStats(m.stats, await all.stats());
}

function acquire(engine: Engine): Metrics {
  let m = byEngine.get(engine);
  if (m === undefined) {
    const stats = new StatsRecorder(engine, engine.config, engine.clock);
    m = { stats, exporter: new PrometheusExporter(stats), users: 0 };
    byEngine.set(engine, m);
  }
  m.users++;
  return m;
}

function release(engine: Engine): void {
  const m = byEngine.get(engine);
  if (m === undefined || --m.users > 0) return;
  m.stats.close();
  byEngine.delete(engine);
}

/**
 * What only the engine can say at the time of a scrape: breaker states (of
 * configured targets only, so that labels stay bounded) and pool use. Read
 * without probing any upstream: a dashboard polls this every few seconds.
 */
async function scrapeState(engine: Engine, stats: StatsRecorder): Promise<ScrapeState> {
  const { providers, targets } = await engine.breakerStates();
  const targetBreakers = new Map<string, BreakerState>();
  for (const [label, state] of targets) if (stats.targets.has(label)) targetBreakers.set(label, state);
  return { targetBreakers, providerBreakers: providers, pools: engine.poolStats() };
}

/**
 * Adds the metrics routes through `add` (http.ts's route table). Returns the
 * function that stops recording, for when the server closes.
 */
export function addMetricsRoutes(engine: Engine, add: AddRoute): () => void {
  if (engine.config.server.metrics === false) return () => {};
  const { stats, exporter } = acquire(engine);
  const settings = engine.config.server;
  const compression = settings.compression;
  // Operator's pages: the admin key when one is set, else a gateway key when there are some (admin-auth.ts).
  const guard = operatorGuard(settings, authenticator(settings.auth));
  const guarded = (h: Handler): Handler =>
    guard === undefined
      ? h
      : async (req, res) => {
          guard(req, res);
          await h(req, res);
        };
  const send = (req: IncomingMessage, res: ServerResponse, contentType: string, text: string) =>
    sendBody(req, res, 200, { "content-type": contentType, "cache-control": "no-store" }, Buffer.from(text), compression);
  const view = async (): Promise<StatsView> => (await statsView(engine)) ?? stats;
  // Left open by the router (no gateway-key check there): the guard decides.
  add(
    "/metrics",
    {
      GET: guarded(async (req, res) => {
        const all = acrossWorkers.get(engine);
        await send(req, res, exporter.contentType, all !== undefined ? await all.prometheus() : await exporter.render(await scrapeState(engine, stats)));
      }),
    },
    true,
  );
  add(
    "/v1/metrics",
    {
      GET: guarded(async (req, res) => {
        const idle = new URLSearchParams(req.url!.split("?")[1] ?? "").get("idle");
        const report = metricsReport(await view(), (await scrapeState(engine, stats)).targetBreakers, { idle: idle !== "false" && idle !== "0" });
        await send(req, res, JSON_TYPE, JSON.stringify(report));
      }),
    },
    true,
  );
  add(
    "/v1/health",
    { GET: guarded(async (req, res) => send(req, res, JSON_TYPE, JSON.stringify({ targets: healthReport(await view(), (await scrapeState(engine, stats)).targetBreakers) }))) },
    true,
  );
  let released = false;
  return () => {
    if (released) return;
    released = true;
    release(engine);
  };
}
