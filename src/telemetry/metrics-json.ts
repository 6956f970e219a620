/**
 * `GET /v1/metrics` for people and dashboards: every configured target and
 * model with its 1/5/15-minute windows, a target's health score and its last
 * 15 minutes in 10-second steps. The shape is documented in
 * docs/observability.md; the dashboard reads it as it is.
 */
import { type BreakerState, healthScore } from "./health-score.ts";
import { emptySeries, emptyWindow, type Series, WINDOWS, type WindowName, type WindowSummary } from "./rolling.ts";
import type { Rolling } from "./rolling.ts";
import type { StatsView } from "./stats.ts";

type Windows = Record<WindowName, WindowSummary>;

export type TargetMetrics = {
  provider: string;
  model: string;
  health_score: number | null;
  in_flight: number;
  series: Series;
} & Windows;

export type ModelMetrics = Windows & { health_score: number | null; in_flight: number };

export interface MetricsReport {
  now: number;
  uptime_s: number;
  in_flight: number;
  queued: number;
  windows: WindowName[];
  targets: Record<string, TargetMetrics>;
  models: Record<string, ModelMetrics>;
}

export interface TargetHealthReport {
  provider: string;
  model: string;
  health_score: number | null;
  breaker?: BreakerState;
  in_flight: number;
  "5m": WindowSummary;
}

const NAMES = Object.keys(WINDOWS) as WindowName[];

/** `idle`: one empty window shared by everything without traffic (thousands of targets, in a big config). */
function windows(rolling: Rolling | undefined, now: number, since: number, idle: WindowSummary): Windows {
  const out = {} as Windows;
  for (const name of NAMES) out[name] = rolling === undefined ? idle : rolling.window(now, WINDOWS[name], since);
  return out;
}

export interface ReportOptions {
  /**
   * false: leave out the targets and models without traffic in the last 15
   * minutes and nothing in flight (whose breaker is not open, for targets).
   * A config with thousands of targets makes megabytes of zeros otherwise.
   */
  idle?: boolean;
}

/** `breakers`: each target's breaker state, when it has one (read from the engine at the time of the request). */
export function metricsReport(stats: StatsView, breakers: ReadonlyMap<string, BreakerState> = new Map(), options: ReportOptions = {}): MetricsReport {
  const skipIdle = options.idle === false;
  const now = stats.clock.now();
  const since = stats.since;
  const idle = emptyWindow();
  const idleSeries = emptySeries();
  const targets: Record<string, TargetMetrics> = {};
  for (const t of stats.targets.values()) {
    if (skipIdle && t.inFlight === 0 && breakers.get(t.label) !== "open" && !(t.rolling?.active(now) ?? false)) continue;
    const w = windows(t.rolling, now, since, idle);
    targets[t.label] = {
      provider: t.provider,
      model: t.model,
      ...w,
      health_score: healthScore(w["5m"], w["15m"], breakers.get(t.label)),
      in_flight: t.inFlight,
      series: t.rolling === undefined ? idleSeries : t.rolling.series(now),
    };
  }
  const models: Record<string, ModelMetrics> = {};
  for (const m of stats.models.values()) {
    if (skipIdle && m.inFlight === 0 && !(m.rolling?.active(now) ?? false)) continue;
    const w = windows(m.rolling, now, since, idle);
    models[m.name] = { ...w, health_score: healthScore(w["5m"], w["15m"]), in_flight: m.inFlight };
  }
  return {
    now: Math.round(now),
    uptime_s: Math.round((now - since) / 1000),
    in_flight: stats.inFlight(),
    queued: stats.queued(),
    windows: NAMES,
    targets,
    models,
  };
}

/** `GET /v1/health`: each target's score, breaker and last 5 minutes. */
export function healthReport(stats: StatsView, breakers: ReadonlyMap<string, BreakerState> = new Map()): Record<string, TargetHealthReport> {
  const now = stats.clock.now();
  const out: Record<string, TargetHealthReport> = {};
  for (const t of stats.targets.values()) {
    const w5 = t.rolling?.window(now, WINDOWS["5m"], stats.since) ?? emptyWindow();
    const w15 = t.rolling?.window(now, WINDOWS["15m"], stats.since) ?? emptyWindow();
    const breaker = breakers.get(t.label);
    const entry: TargetHealthReport = { provider: t.provider, model: t.model, health_score: healthScore(w5, w15, breaker), in_flight: t.inFlight, "5m": w5 };
    if (breaker !== undefined) entry.breaker = breaker;
    out[t.label] = entry;
  }
  return out;
}
