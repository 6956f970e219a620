import { DEFAULTS } from "../config/defaults.ts";
import type { GatewayConfig, Price, RetryPolicy } from "../config/types.ts";
import { providerSecrets } from "../protocol/redact.ts";
import { adapterFor } from "../providers/registry.ts";
import { prepareProvider } from "../providers/prepare.ts";
import { createLimits, type GatewayLimits, limitSlots as limitSlotNames } from "../limits/index.ts";
import type { Counters } from "../state/counters.ts";
import type { SlotTable } from "../state/slot-table.ts";
import type { Store } from "../state/store.ts";
import type { Logger } from "../telemetry/log.ts";
import type { Clock, Random } from "../time/clock.ts";
import { DemoTransport } from "../upstream/demo-transport.ts";
import { Hedges, type Hedging } from "../routing/hedge.ts";
import { RetryBudgets, type RetryBudget } from "../routing/retry-budget.ts";
import { Breakers } from "../upstream/breakers.ts";
import { HealthTracker } from "../upstream/health.ts";
import { HealthChecks } from "../upstream/health-checks.ts";
import { observeTraffic } from "../upstream/health-events.ts";
import { HttpTransport, PoolRegistry } from "../upstream/http-transport.ts";
import { KeyRing } from "../upstream/keys.ts";
import { UpstreamModels } from "../upstream/model-list.ts";
import type { ProviderRuntime } from "../upstream/runtime.ts";
import { TargetStats } from "../upstream/target-stats.ts";
import { observeTargets } from "../upstream/target-stats-events.ts";
import { STRATEGIES_WITH_STATS } from "../routing/strategies/index.ts";
import { type AttemptFn, composeAttempt } from "./attempt-chain.ts";
import { sendAttempt } from "./attempt.ts";
import { circuitBreakers } from "./wrappers/breakers.ts";
import { StreamEnds } from "../limits/stream-ends.ts";
import { attemptEvents } from "./wrappers/events.ts";
import { keyRotation } from "./wrappers/keys.ts";
import { adaptiveFirstByte } from "./wrappers/first-byte.ts";
import { redaction } from "./wrappers/redaction.ts";
import { traceAttempts } from "./wrappers/tracing.ts";
import type { Tracing } from "../telemetry/tracing.ts";
import { type Off, RouteTable } from "./routes.ts";

/** The names of the counter slots a config needs: each provider's in-flight count, then the concurrency limits'. */
export function counterNames(config: GatewayConfig): string[] {
  return [...Object.keys(config.providers).map((name) => `inflight:${name}`), ...limitSlotNames(config)];
}

/** With the response cache on, a provider probed for a health report is not probed again for this long. */
const HEALTH_REPORT_TTL_MS = 5000;

/** What a generation is built with that outlives it: the engine's. */
export interface GenerationDeps {
  /** The engine: events carry it, and subscribers filter on it. */
  gateway: object;
  clock: Clock;
  random: Random;
  log: Logger;
  store: Store;
  counters: Counters;
  slots: SlotTable;
  /** The counters' buffer when other workers share it. */
  shared: SharedArrayBuffer | undefined;
  directRetry: RetryPolicy | undefined;
  demoTokenGapMs: number | undefined;
  /** Targets and providers switched off at runtime (the admin API). */
  off: Off | undefined;
  /** Keep per-target statistics even when no strategy reads them (the admin API shows targets in flight). */
  keepStats: boolean;
  /** OpenTelemetry tracing, when configured: its wrapper joins every generation's attempt chain. */
  tracing: Tracing | undefined;
}

/**
 * Everything the engine builds from one config: routes, provider runtimes,
 * the attempt chain, limits, breakers, health checks, budgets and hedges. A
 * reload builds a new generation beside the old one; a request keeps the
 * generation it started with, and an old generation's resources are released
 * when its last request ends (see Engine.reload).
 */
export class Generation {
  readonly config: GatewayConfig;
  readonly runtimes = new Map<string, ProviderRuntime>();
  routes: RouteTable;
  readonly health: HealthTracker;
  readonly targets: TargetStats | undefined;
  readonly limits: GatewayLimits | undefined;
  readonly breakers: Breakers | undefined;
  readonly budget: RetryBudget | undefined;
  /** Every provider's budget, for the health report (budget is these, when any is on). */
  readonly budgets: RetryBudgets;
  readonly hedge: Hedging | undefined;
  readonly attempt: AttemptFn;
  readonly models: UpstreamModels;
  readonly secrets: string[];
  readonly pools: PoolRegistry;
  /** Each target's price, for the response cache's saved-cost figures. */
  readonly prices = new Map<string, Price>();
  /** Requests under way on this generation. */
  active = 0;
  readonly #deps: GenerationDeps;
  readonly #checks: HealthChecks;
  /** Subscribers to traffic: stopped as soon as a newer generation takes over, since it subscribes the same way. */
  readonly #observers: Array<() => void>;
  /** Released once the last request on this generation ends. */
  readonly #resources: Array<() => void>;
  #retired = false;
  #released: Promise<void> | undefined;
  #onReleased: (() => void) | undefined;

  constructor(config: GatewayConfig, deps: GenerationDeps, previous?: Generation) {
    this.config = config;
    this.#deps = deps;
    const { clock, log, store, gateway } = deps;
    this.pools = new PoolRegistry(Object.values(config.providers), log);
    if (previous !== undefined) this.pools.adopt(previous.pools);
    const runtimes = this.runtimes;
    const demo = new DemoTransport(clock, deps.demoTokenGapMs);
    for (const p of Object.values(config.providers)) {
      const adapter = adapterFor(p.type);
      const prepared = prepareProvider(p, adapter);
      const transport =
        p.type === "demo" ? demo : new HttpTransport(this.pools.get(prepared.origin));
      runtimes.set(p.name, { prepared, adapter, transport });
    }
    this.secrets = providerSecrets(Object.values(config.providers));
    // Slots by name: a provider keeps its count through reloads that add, remove or reorder providers.
    // With workers the main thread gives them (server/workers.ts); the engine assigns only its own.
    if (deps.shared === undefined) deps.slots.assign(counterNames(config));
    deps.counters.ensure(deps.slots.size);
    const slotOf = (name: string) => deps.slots.slotOf(name);
    const now = () => clock.now();
    const keys = new Map([...runtimes].map(([name, rt]) => [name, new KeyRing(rt.prepared.keyHeaders.length, now)]));
    const keyFor = (name: string) => keys.get(name)?.peek() ?? 0;
    this.health = new HealthTracker(runtimes, clock, this.secrets, deps.counters, keyFor, (name) => slotOf(`inflight:${name}`));
    if (config.cache?.enabled === true) this.health.reportTtlMs = HEALTH_REPORT_TTL_MS;
    for (const m of Object.values(config.models)) for (const t of m.targets) if (t.cost !== undefined) this.prices.set(`${t.provider}/${t.model}`, t.cost);
    const autoFirstByte = Object.values(config.providers).some((p) => p.timeouts.firstByteAuto === true);
    const statsRead =
      autoFirstByte || Hedges.usesStats(Object.values(config.models)) || Object.values(config.models).some((m) => m.strategy !== undefined && STRATEGIES_WITH_STATS.has(m.strategy));
    // The statistics are by label, not by config: a reload carries them over.
    this.targets = statsRead || deps.keepStats ? (previous?.targets ?? new TargetStats()) : undefined;
    this.routes = new RouteTable(config, runtimes, deps.directRetry ?? DEFAULTS.retry, this.targets, deps.off);
    const shared = deps.shared === undefined ? undefined : { buffer: deps.shared, slotOf };
    this.limits = createLimits(config, { clock, store, gateway, shared });
    const providers = Object.values(config.providers);
    const targets = Object.values(config.models).flatMap((m) => m.targets);
    const stateError = (err: unknown) => log.warn({ err }, "shared state unavailable; the request goes on without it");
    this.breakers = Breakers.anyConfigured(providers, targets) ? new Breakers(providers, store, now, stateError) : undefined;
    this.#knowTargets();
    const budgets = new RetryBudgets(providers, store, stateError);
    this.budget = budgets.size > 0 ? budgets : undefined;
    this.budgets = budgets;
    const hedges = new Hedges(Object.values(config.models), this.targets);
    this.hedge = hedges.size > 0 ? hedges : undefined;
    // Breakers first: an ejected target is passed over before it takes a slot or room in a window. Limits
    // next: a request they pass over or hold in a queue has not begun an attempt, and the tries of one
    // attempt with each key share its slot. Key rotation next, so that each key's try is an attempt of
    // its own for events, health and logs, while the breakers count a refused key only once all are.
    const wrappers = [...(this.limits?.wrappers ?? []), keyRotation(keys), attemptEvents(gateway, now), redaction(this.secrets)];
    // Tracing beside the events (a span per key tried), outside redaction (spans hold redacted messages only).
    if (deps.tracing !== undefined) wrappers.splice(wrappers.length - 1, 0, traceAttempts(deps.tracing));
    // The breakers judge a committed stream when it ends.
    const streamEnds = this.breakers === undefined ? undefined : new StreamEnds(gateway);
    if (this.breakers !== undefined) wrappers.unshift(circuitBreakers(this.breakers, streamEnds!));
    // Innermost: it only swaps the first-byte limit the transport is given.
    if (autoFirstByte) wrappers.push(adaptiveFirstByte(this.targets!));
    this.attempt = composeAttempt(sendAttempt(now), wrappers);
    this.models = new UpstreamModels(runtimes, clock, keyFor);
    // A check's model listing refreshes the upstream model list on the way.
    const check = (name: string, signal: AbortSignal) => this.health.check(name, signal, (body) => this.models.offer(name, body));
    this.#checks = new HealthChecks(providers, check, this.breakers, clock, deps.random);
    this.#checks.start();
    this.#observers = [observeTraffic(this.health, gateway), () => this.#checks.close()];
    if (this.targets !== undefined) this.#observers.push(observeTargets(this.targets, gateway));
    this.#resources = [() => this.models.close()];
    if (this.limits !== undefined) this.#resources.push(this.limits.close);
    if (streamEnds !== undefined) this.#resources.push(() => streamEnds.close());
  }

  /** Rebuilds the route table (a target switched off or on at runtime); requests under way keep the routes they resolved. */
  reroute(): void {
    this.routes = new RouteTable(this.config, this.runtimes, this.#deps.directRetry ?? DEFAULTS.retry, this.targets, this.#deps.off);
    this.#knowTargets();
  }

  #knowTargets(): void {
    for (const name of Object.keys(this.config.models)) for (const tier of this.routes.get(name)?.plan.tiers ?? []) for (const t of tier) this.breakers?.know(t);
  }

  /** A request begins on this generation. */
  enter(): void {
    this.active++;
  }

  /** A request on this generation is over; the last one on a retired generation releases it. */
  leave(): void {
    if (--this.active === 0 && this.#retired) this.#onReleased?.();
  }

  /**
   * A newer generation serves new requests from now on: traffic observers
   * stop at once, the rest is released (pools closed, limits unsubscribed)
   * after the last request under way on this one ends.
   */
  retire(): Promise<void> {
    if (this.#released !== undefined) return this.#released;
    this.#retired = true;
    for (const stop of this.#observers) stop();
    this.#released = new Promise<void>((resolve) => {
      this.#onReleased = resolve;
      if (this.active === 0) resolve();
    }).then(async () => {
      for (const release of this.#resources) release();
      await this.pools.close();
    });
    return this.#released;
  }

  /** Releases it now, requests under way or not (the engine is closing and has aborted them). */
  release(): Promise<void> {
    const released = this.retire();
    this.#onReleased?.();
    return released;
  }
}
