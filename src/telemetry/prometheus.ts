/**
 * `GET /metrics` in the Prometheus text format, through prom-client's
 * Registry: the cumulative series the events feed (./metric-families.ts)
 * and gauges read at scrape time: requests in flight and queued, attempts in
 * flight per target, health scores, breaker states and upstream connection
 * pools (the last two handed in by the caller, who can reach the engine).
 */
import { Counter, Gauge, Registry } from "prom-client";
import { type BreakerState, healthScore } from "./health-score.ts";
import { OTHER } from "./metric-families.ts";
import { emptyWindow, WINDOWS } from "./rolling.ts";
import type { StatsRecorder } from "./stats.ts";

const STATES: readonly BreakerState[] = ["closed", "open", "half_open"];

/** undici's Pool.stats, per upstream origin. */
export interface PoolUse {
  connected: number;
  free: number;
  pending: number;
  queued: number;
  running: number;
  size: number;
}

/** What only the engine knows, read once per scrape. */
export interface ScrapeState {
  targetBreakers?: ReadonlyMap<string, BreakerState>;
  providerBreakers?: ReadonlyMap<string, BreakerState>;
  pools?: ReadonlyMap<string, PoolUse>;
}

export class PrometheusExporter {
  readonly registry = new Registry();
  readonly contentType = Registry.PROMETHEUS_CONTENT_TYPE;
  readonly #stats: StatsRecorder;
  readonly #requestsInFlight: Gauge<"model">;
  readonly #queued: Gauge<"queue">;
  readonly #attemptsInFlight: Gauge<"target">;
  readonly #health: Gauge<"target">;
  readonly #targetBreaker: Gauge<"target" | "state">;
  readonly #providerBreaker: Gauge<"provider" | "state">;
  readonly #pool: Gauge<"origin" | "state">;

  constructor(stats: StatsRecorder) {
    this.#stats = stats;
    for (const f of stats.families.all()) this.registry.registerMetric(f.asMetric());
    // How a main thread merges its workers' values: counts add up; what all workers share is taken once.
    const gauge = <L extends string>(name: string, help: string, labelNames: L[], aggregator: "sum" | "first" | "average" = "sum") =>
      new Gauge<L>({ name, help, labelNames, registers: [this.registry], aggregator });
    this.#requestsInFlight = gauge("switchyard_requests_in_flight", "Client requests under way (streams until they end), by public model.", ["model"]);
    this.#queued = gauge("switchyard_queued_requests", "Requests waiting for a concurrency slot or room in a rate window, by queue.", ["queue"]);
    this.#attemptsInFlight = gauge("switchyard_upstream_in_flight", "Upstream attempts under way (committed streams until they end), by target.", ["target"]);
    this.#health = gauge("switchyard_target_health_score", "Health score 0-100 per target (docs/observability.md); absent while a target has no traffic.", ["target"], "average");
    this.#targetBreaker = gauge("switchyard_breaker_state", "1 for each target's current breaker state (closed, open, half_open), 0 for the others.", ["target", "state"], "first");
    this.#providerBreaker = gauge("switchyard_provider_breaker_state", "1 for each provider's current breaker state (closed, open, half_open), 0 for the others.", ["provider", "state"], "first");
    this.#pool = gauge("switchyard_upstream_connections", "Connection pool use per upstream origin: connected, free, pending, queued, running, size.", ["origin", "state"]);
    processMetrics(this.registry);
  }

  /** The whole exposition, with the scrape-time gauges set from `state`. */
  async render(state: ScrapeState = {}): Promise<string> {
    this.#set(state);
    return this.registry.metrics();
  }

  /** The same as prom-client's JSON, for a main thread to merge the workers' (prom-client's AggregatorRegistry). */
  async snapshot(state: ScrapeState = {}): Promise<unknown[]> {
    this.#set(state);
    return this.registry.getMetricsAsJSON();
  }

  #set(state: ScrapeState): void {
    const s = this.#stats;
    this.#requestsInFlight.reset();
    for (const m of s.models.values()) this.#requestsInFlight.set({ model: m.name }, m.inFlight);
    if (s.other.inFlight > 0) this.#requestsInFlight.set({ model: OTHER }, s.other.inFlight);
    this.#queued.reset();
    for (const [queue, n] of s.queues) this.#queued.set({ queue }, n);
    this.#attemptsInFlight.reset();
    this.#health.reset();
    const now = s.clock.now();
    for (const t of s.targets.values()) {
      this.#attemptsInFlight.set({ target: t.label }, t.inFlight);
      const breaker = state.targetBreakers?.get(t.label);
      if (t.rolling === undefined && breaker === undefined) continue;
      const w5 = t.rolling?.window(now, WINDOWS["5m"], s.since) ?? emptyWindow();
      const w15 = t.rolling?.window(now, WINDOWS["15m"], s.since) ?? emptyWindow();
      const score = healthScore(w5, w15, breaker);
      if (score !== null) this.#health.set({ target: t.label }, score);
    }
    this.#targetBreaker.reset();
    for (const [target, current] of state.targetBreakers ?? []) {
      for (const st of STATES) this.#targetBreaker.set({ target, state: st }, st === current ? 1 : 0);
    }
    this.#providerBreaker.reset();
    for (const [provider, current] of state.providerBreakers ?? []) {
      for (const st of STATES) this.#providerBreaker.set({ provider, state: st }, st === current ? 1 : 0);
    }
    this.#pool.reset();
    for (const [origin, use] of state.pools ?? []) {
      for (const [k, v] of Object.entries(use)) this.#pool.set({ origin, state: k }, v);
    }
  }
}

/**
 * The process's own figures under their usual names, read at scrape time
 * (no timer, no monitor left running): CPU seconds, resident memory, heap,
 * start time. Per worker thread, CPU and memory are the whole process's.
 */
function processMetrics(registry: Registry): void {
  const registers = [registry];
  const startSeconds = Math.round(Date.now() / 1000 - process.uptime());
  new Counter({
    name: "process_cpu_seconds_total",
    help: "User and system CPU time spent, in seconds.",
    registers,
    aggregator: "first",
    collect() {
      const { user, system } = process.cpuUsage();
      this.reset();
      this.inc((user + system) / 1e6);
    },
  });
  new Gauge({
    name: "process_resident_memory_bytes",
    help: "Resident memory size in bytes.",
    registers,
    aggregator: "first",
    collect() {
      this.set(process.memoryUsage.rss());
    },
  });
  new Gauge({
    name: "nodejs_heap_size_used_bytes",
    help: "V8 heap in use, in bytes.",
    registers,
    collect() {
      this.set(process.memoryUsage().heapUsed);
    },
  });
  new Gauge({ name: "process_start_time_seconds", help: "Start time of the process since the Unix epoch, in seconds.", registers, aggregator: "first" }).set(startSeconds);
}
