import { randomUUID } from "node:crypto";
import { DEFAULTS } from "../config/defaults.ts";
import type { GatewayConfig, RetryPolicy } from "../config/types.ts";
import { type AttemptRecord, GatewayError } from "../protocol/errors.ts";
import { providerSecrets, redactError } from "../protocol/redact.ts";
import { adapterFor } from "../providers/registry.ts";
import { prepareProvider } from "../providers/prepare.ts";
import type { Operation } from "../providers/types.ts";
import { createLimits, type GatewayLimits, type ProviderLimitsReport } from "../limits/index.ts";
import { Counters } from "../state/counters.ts";
import { MemoryStore, type Store } from "../state/store.ts";
import type { Usage } from "../protocol/chat.ts";
import { channels, type RequestEnd, type RequestStart, type StreamEnd } from "../telemetry/channels.ts";
import { type Logger, silentLogger } from "../telemetry/log.ts";
import { logRequests } from "../telemetry/request-log.ts";
import { type Clock, type Random, systemClock } from "../time/clock.ts";
import { DemoTransport } from "../upstream/demo-transport.ts";
import { Hedges, type Hedging } from "../routing/hedge.ts";
import { RetryBudgets, type RetryBudget } from "../routing/retry-budget.ts";
import { Breakers } from "../upstream/breakers.ts";
import { breakerHealth, HealthTracker, type ProviderHealth, type TargetHealth } from "../upstream/health.ts";
import { HealthChecks } from "../upstream/health-checks.ts";
import { observeTraffic } from "../upstream/health-events.ts";
import { HttpTransport, PoolRegistry } from "../upstream/http-transport.ts";
import { KeyRing } from "../upstream/keys.ts";
import { type ListedModel, UpstreamModels } from "../upstream/model-list.ts";
import type { ProviderRuntime } from "../upstream/runtime.ts";
import { TargetStats } from "../upstream/target-stats.ts";
import { observeTargets } from "../upstream/target-stats-events.ts";
import { STRATEGIES_WITH_STATS } from "../routing/strategies/index.ts";
import { type AttemptFn, composeAttempt } from "./attempt-chain.ts";
import { sendAttempt } from "./attempt.ts";
import { failover } from "./failover.ts";
import { circuitBreakers } from "./wrappers/breakers.ts";
import { attemptEvents } from "./wrappers/events.ts";
import { keyRotation } from "./wrappers/keys.ts";
import { adaptiveFirstByte } from "./wrappers/first-byte.ts";
import { redaction } from "./wrappers/redaction.ts";
import { RelayStream } from "./relay.ts";
import { RouteTable } from "./routes.ts";
import type { GatewayResult, RequestContext } from "./types.ts";
import { validateRequest } from "./validate.ts";
import { ResponseCache } from "../cache/response-cache.ts";
import { hitRate, offReport } from "../cache/stats.ts";
import { tokenCountCache } from "../limits/tokens.ts";

export interface EngineOptions {
  clock?: Clock;
  random?: Random;
  /** Shared state; one passed in stays the caller's to close. */
  store?: Store;
  logger?: Logger;
  /** Retry policy for "provider/model" names that match no configured model. */
  directRetry?: RetryPolicy;
  /** Gap between the demo provider's streamed tokens. */
  demoTokenGapMs?: number;
  /** Counters shared with other workers: one slot per provider, in config order, then the limits' (limitSlots). */
  sharedCounters?: SharedArrayBuffer;
}

/** With the response cache on, a provider probed for a health report is not probed again for this long. */
const HEALTH_REPORT_TTL_MS = 5000;

/** A provider's health, with its limits when it has any. */
export type ProviderReport = ProviderHealth & { limits?: ProviderLimitsReport };

/**
 * The routing engine: request → route → attempts → response. It knows nothing
 * of HTTP servers; the HTTP front and the in-process client both drive it.
 */
export class Engine {
  readonly config: GatewayConfig;
  readonly routes: RouteTable;
  readonly health: HealthTracker;
  readonly store: Store;
  /** Live per-target statistics; kept only when a strategy or `first_byte: auto` reads them. */
  readonly targets: TargetStats | undefined;
  readonly #clock: Clock;
  readonly #random: Random;
  readonly #log: Logger;
  readonly #pools: PoolRegistry;
  readonly #secrets: string[];
  readonly #inflight = new Set<AbortController>();
  /** A store passed in belongs to the caller, who closes it. */
  readonly #ownsStore: boolean;
  /** One upstream attempt, through every wrapper (attempt-chain.ts). */
  readonly #attempt: AttemptFn;
  readonly #unobserve: Array<() => void>;
  readonly #models: UpstreamModels;
  /** Concurrency and rate limits; undefined when the config sets none. */
  readonly limits: GatewayLimits | undefined;
  /** Each present only when configured, so what is off costs nothing per request. */
  readonly #breakers: Breakers | undefined;
  readonly #budget: RetryBudget | undefined;
  readonly #hedge: Hedging | undefined;
  readonly #checks: HealthChecks;
  /** The response cache and coalescing; undefined when both are off, so handle() goes straight to the upstream path. */
  readonly cache: ResponseCache | undefined;

  constructor(config: GatewayConfig, options: EngineOptions = {}) {
    this.config = config;
    this.#clock = options.clock ?? systemClock;
    this.#random = options.random ?? Math.random;
    this.#log = options.logger ?? silentLogger;
    this.#ownsStore = options.store === undefined;
    this.store = options.store ?? new MemoryStore(() => this.#clock.now());
    this.#pools = new PoolRegistry(Object.values(config.providers), this.#log);
    const runtimes = new Map<string, ProviderRuntime>();
    const demo = new DemoTransport(this.#clock, options.demoTokenGapMs);
    for (const p of Object.values(config.providers)) {
      const adapter = adapterFor(p.type);
      const prepared = prepareProvider(p, adapter);
      const transport =
        p.type === "demo" ? demo : new HttpTransport(this.#pools.get(prepared.origin));
      runtimes.set(p.name, { prepared, adapter, transport });
    }
    this.#secrets = providerSecrets(Object.values(config.providers));
    const counters = new Counters(runtimes.size, options.sharedCounters);
    const now = () => this.#clock.now();
    const keys = new Map([...runtimes].map(([name, rt]) => [name, new KeyRing(rt.prepared.keyHeaders.length, now)]));
    const keyFor = (name: string) => keys.get(name)?.peek() ?? 0;
    this.health = new HealthTracker(runtimes, this.#clock, this.#secrets, counters, keyFor);
    if (config.cache?.enabled === true) this.health.reportTtlMs = HEALTH_REPORT_TTL_MS;
    const autoFirstByte = Object.values(config.providers).some((p) => p.timeouts.firstByteAuto === true);
    const statsRead = autoFirstByte || Object.values(config.models).some((m) => m.strategy !== undefined && STRATEGIES_WITH_STATS.has(m.strategy));
    this.targets = statsRead ? new TargetStats() : undefined;
    this.routes = new RouteTable(config, runtimes, options.directRetry ?? DEFAULTS.retry, this.targets);
    const shared = options.sharedCounters === undefined ? undefined : { buffer: options.sharedCounters, offset: runtimes.size };
    this.limits = createLimits(config, { clock: this.#clock, store: this.store, gateway: this, shared });
    const providers = Object.values(config.providers);
    const targets = Object.values(config.models).flatMap((m) => m.targets);
    const stateError = (err: unknown) => this.#log.warn({ err }, "shared state unavailable; the request goes on without it");
    this.#breakers = Breakers.anyConfigured(providers, targets) ? new Breakers(providers, this.store, now, stateError) : undefined;
    for (const name of Object.keys(config.models)) for (const tier of this.routes.get(name)?.plan.tiers ?? []) for (const t of tier) this.#breakers?.know(t);
    const budgets = new RetryBudgets(providers, this.store, stateError);
    this.#budget = budgets.size > 0 ? budgets : undefined;
    const hedges = new Hedges(Object.values(config.models), this);
    this.#hedge = hedges.size > 0 ? hedges : undefined;
    // Breakers first: an ejected target is passed over before it takes a slot or room in a window. Limits
    // next: a request they pass over or hold in a queue has not begun an attempt, and the tries of one
    // attempt with each key share its slot. Key rotation next, so that each key's try is an attempt of
    // its own for events, health and logs, while the breakers count a refused key only once all are.
    const wrappers = [...(this.limits?.wrappers ?? []), keyRotation(keys), attemptEvents(this, now), redaction(this.#secrets)];
    if (this.#breakers !== undefined) wrappers.unshift(circuitBreakers(this.#breakers));
    // Innermost: it only swaps the first-byte limit the transport is given.
    if (autoFirstByte) wrappers.push(adaptiveFirstByte(this.targets!));
    this.#attempt = composeAttempt(sendAttempt(now), wrappers);
    this.#models = new UpstreamModels(runtimes, this.#clock, keyFor);
    // A check's model listing refreshes the upstream model list on the way.
    const check = (name: string, signal: AbortSignal) => this.health.check(name, signal, (body) => this.#models.offer(name, body));
    this.#checks = new HealthChecks(providers, check, this.#breakers, this.#clock, this.#random);
    this.#checks.start();
    this.#unobserve = [observeTraffic(this.health, this), () => hedges.close(), () => this.#checks.close()];
    if (this.limits !== undefined) this.#unobserve.push(this.limits.close);
    if (this.targets !== undefined) this.#unobserve.push(observeTargets(this.targets, this));
    if (this.#log !== silentLogger) this.#unobserve.push(logRequests(this.#log, this));
    this.cache = config.cache === undefined ? undefined : this.#newCache(config.cache);
  }

  #newCache(settings: NonNullable<GatewayConfig["cache"]>): ResponseCache {
    const prices = new Map<string, { input: number; output: number }>();
    for (const m of Object.values(this.config.models)) for (const t of m.targets) if (t.cost !== undefined) prices.set(`${t.provider}/${t.model}`, t.cost);
    return new ResponseCache(settings, {
      gateway: this,
      clock: this.#clock,
      random: this.#random,
      warn: (message) => this.#log.warn({}, message),
      serve: (op, body, req) => this.#serve(op as Operation, body, req),
      modelSetting: (name) => (Object.hasOwn(this.config.models, name) ? this.config.models[name].cache : undefined),
      configured: (name) => Object.hasOwn(this.config.models, name),
      priceOf: (target) => prices.get(target),
    });
  }

  /**
   * Serves one OpenAI-shaped request. Throws GatewayError; a stream that
   * fails once under way ends with one instead (see ByteStream).
   */
  handle(op: Operation, body: unknown, ctx: RequestContext): Promise<GatewayResult> {
    return this.cache === undefined ? this.#serve(op, body, ctx) : (this.cache.handle(op, body, ctx) as Promise<GatewayResult>);
  }

  /** The upstream path: validation, routing, attempts. */
  async #serve(op: Operation, body: unknown, ctx: RequestContext): Promise<GatewayResult> {
    validateRequest(op, body);
    const route = this.routes.resolve(body.model as string);
    const stream = body.stream === true;
    const ac = ctx.controller ?? new AbortController();
    // A total timeout of 0 means none.
    const deadline = route.deadlineMs > 0 ? this.#clock.now() + route.deadlineMs : Infinity;
    const timer =
      route.deadlineMs > 0
        ? this.#clock.setTimeout(() => {
            ac.abort(new GatewayError("SY_ERR_TOTAL_TIMEOUT", `request exceeded its total timeout of ${route.deadlineMs} ms`));
          }, route.deadlineMs)
        : undefined;
    const clientSignal = ctx.controller === undefined ? ctx.signal : undefined;
    const onClientAbort = () => ac.abort(new GatewayError("SY_ERR_CLIENT_ABORT", "client closed the request"));
    if (clientSignal?.aborted) onClientAbort();
    else clientSignal?.addEventListener("abort", onClientAbort, { once: true });
    this.#inflight.add(ac);
    const finish = () => {
      if (timer !== undefined) this.#clock.clearTimeout(timer);
      clientSignal?.removeEventListener("abort", onClientAbort);
      this.#inflight.delete(ac);
    };
    const deps = { clock: this.#clock, random: this.#random, routes: this.routes, attempt: this.#attempt, budget: this.#budget, hedge: this.#hedge };
    const { requestId } = ctx;
    const started = this.#clock.now();
    const { requestStart, requestEnd, streamEnd } = channels;
    if (requestStart.hasSubscribers) requestStart.publish({ gateway: this, requestId, op, model: route.name, stream } satisfies RequestStart);
    let ttfbMs: number | undefined;
    const ended = (status: number, records: readonly AttemptRecord[], target?: string, err?: GatewayError, usage?: Usage) => {
      if (!requestEnd.hasSubscribers) return;
      const attempts = records.length;
      const end: RequestEnd = { gateway: this, requestId, model: route.name, stream, target, status, attempts, durationMs: this.#clock.now() - started, op, ttfbMs, records };
      if (usage !== undefined) end.usage = usage;
      if (err !== undefined) {
        end.code = err.code;
        end.message = err.message;
      }
      requestEnd.publish(end);
    };
    let result;
    try {
      result = await failover(deps, route, { requestId, op, body, stream, signal: ac.signal, deadline, passHeaders: ctx.passHeaders });
    } catch (err) {
      finish();
      if (err instanceof GatewayError) ended(err.status, err.attempts ?? [], err.attempts?.at(-1)?.target, err);
      throw err;
    }
    if (requestEnd.hasSubscribers) ttfbMs = this.#clock.now() - started;
    const { committed, target, attempts } = result;
    const base = { status: committed.status, contentType: committed.contentType, target: target.label, attempts };
    if (!stream) {
      finish();
      ended(committed.status, attempts, target.label, undefined, committed.usage());
      return { ...base, body: committed.body! };
    }
    const onEnd = (completed: boolean, reason?: GatewayError) => {
      if (reason !== undefined) {
        redactError(reason, this.#secrets);
        reason.attempts ??= attempts;
      }
      // The abort reason says what ended the stream: the failure itself, the client, or an abandoned in-process stream.
      if (!completed && !ac.signal.aborted) {
        ac.abort(reason ?? new GatewayError("SY_ERR_CLIENT_ABORT", "client stopped reading the stream"));
      }
      const usage = committed.usage();
      if (streamEnd.hasSubscribers) {
        const end: StreamEnd = {
          gateway: this,
          requestId,
          target: target.label,
          provider: target.provider.config.name,
          completed,
          durationMs: this.#clock.now() - started,
        };
        if (reason !== undefined) end.error = { code: reason.code, message: reason.message };
        if (usage !== undefined) end.usage = usage;
        streamEnd.publish(end);
      }
      finish();
      ended(committed.status, attempts, target.label, reason, usage);
    };
    const relay = new RelayStream(committed.head!, committed.rest!, {
      signal: ac.signal,
      label: target.label,
      secrets: this.#secrets,
      clock: this.#clock,
      idleMs: target.timeouts.idle,
      onEnd,
    });
    return { ...base, stream: relay };
  }

  /** What `GET /v1/models` lists: the configured names, then each upstream's own models as `provider/model`. */
  models(): Promise<ListedModel[]> {
    return this.#models.list(this.routes.names());
  }

  async providerHealth(): Promise<Record<string, ProviderReport>> {
    return (await this.upstreamHealth()).providers;
  }

  /**
   * Every provider (probe, traffic, breaker, limits) and every configured target (breaker), for /health/upstream.
   * `probe: false` probes no one (see HealthTracker.report).
   */
  async upstreamHealth(opts: { probe?: boolean } = {}): Promise<{ providers: Record<string, ProviderReport>; targets: Record<string, TargetHealth> }> {
    const [health, views] = await Promise.all([this.health.report(opts), this.#breakers?.views()]);
    const providers: Record<string, ProviderReport> = health;
    for (const [name, l] of Object.entries(this.limits?.report() ?? {})) if (providers[name] !== undefined) providers[name].limits = l;
    for (const [name, view] of views?.providers ?? []) if (providers[name] !== undefined) providers[name].breaker = breakerHealth(view);
    const targets: Record<string, TargetHealth> = {};
    const enabled = new Set<string>();
    for (const model of Object.values(this.config.models)) {
      for (const t of model.targets) {
        const label = `${t.provider}/${t.model}`;
        const entry = (targets[label] ??= { provider: t.provider, model: t.model });
        const view = views?.targets.get(label);
        if (view !== undefined) entry.breaker = breakerHealth(view);
        if (t.disabled !== true && this.config.providers[t.provider]?.disabled !== true) enabled.add(label);
      }
    }
    // What the strategies and first_byte: auto read, for the configured targets.
    for (const [label, snapshot] of Object.entries(this.targets?.snapshot() ?? {})) if (targets[label] !== undefined) Object.assign(targets[label], snapshot);
    // Disabled only where every model that lists it has it switched off.
    for (const [label, entry] of Object.entries(targets)) if (!enabled.has(label)) entry.disabled = true;
    return { providers, targets };
  }

  /** The engine's clock, for observers that place events in time (telemetry/stats.ts). */
  get clock(): Clock {
    return this.#clock;
  }

  /** `GET /v1/cache/stats`: the response cache (when on), and the small caches around routing, by name. */
  cacheStats() {
    const named = (c: { hits: number; misses: number }, entries: number) => ({ hits: c.hits, misses: c.misses, entries, hit_rate: hitRate(c.hits, c.misses) });
    const around = {
      model_lists: named(this.#models.counts, this.#models.entries),
      health_results: named(this.health.reportCounts, this.health.probedCount),
      token_counts: named(tokenCountCache, tokenCountCache.entries),
    };
    return { ...(this.cache?.stats() ?? offReport()), around_routing: around };
  }

  newRequestId(): string {
    return randomUUID();
  }

  /**
   * Ends every request still under way: waiting ones fail with a 503, streams
   * end with an error event, and their upstream calls are aborted.
   */
  abortInFlight(): void {
    for (const ac of this.#inflight) ac.abort(new GatewayError("SY_ERR_SHUTTING_DOWN", "the gateway is shutting down"));
  }

  async close(): Promise<void> {
    this.abortInFlight();
    this.#models.close();
    for (const stop of this.#unobserve) stop();
    await this.#pools.close();
    this.cache?.close();
    if (this.#ownsStore) await this.store.close();
  }
}
