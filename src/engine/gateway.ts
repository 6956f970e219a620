import { randomUUID } from "node:crypto";
import type { GatewayConfig, RetryPolicy } from "../config/types.ts";
import { type AttemptRecord, GatewayError } from "../protocol/errors.ts";
import { redactError } from "../protocol/redact.ts";
import type { Operation } from "../providers/types.ts";
import type { GatewayLimits, ProviderLimitsReport } from "../limits/index.ts";
import { Counters } from "../state/counters.ts";
import { SlotSet } from "../state/slot-set.ts";
import { SlotTable } from "../state/slot-table.ts";
import { MemoryStore, type Store } from "../state/store.ts";
import type { Usage } from "../protocol/chat.ts";
import { channels, type ConfigReload, configReload, type RequestEnd, type RequestStart, type StreamEnd } from "../telemetry/channels.ts";
import { type Logger, silentLogger } from "../telemetry/log.ts";
import { logRequests } from "../telemetry/request-log.ts";
import { Tracing, type TracingOptions } from "../telemetry/tracing.ts";
import { type Clock, type Random, systemClock } from "../time/clock.ts";
import { breakerHealth, type HealthTracker, type ProviderHealth, type TargetHealth } from "../upstream/health.ts";
import type { ListedModel } from "../upstream/model-list.ts";
import type { TargetStats } from "../upstream/target-stats.ts";
import type { BreakerView } from "../upstream/breaker.ts";
import type { RetryBudgetReport } from "../routing/retry-budget.ts";
import { failover } from "./failover.ts";
import { counterNames, Generation, type GenerationDeps } from "./generation.ts";
import { configuredTargets, knownName, serverRestartKeys, type Switch, Switches, type TargetState } from "./switches.ts";
import { RelayStream } from "./relay.ts";
import type { RouteTable } from "./routes.ts";
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
  /** Replaces tracing's OTLP exporter or id generator (used only when the config turns tracing on). */
  tracing?: Pick<TracingOptions, "exporter" | "idGenerator">;
  /** Counters shared with other workers: one slot per name of `counterSlots` (each provider's in flight, the limits'). */
  sharedCounters?: SharedArrayBuffer;
  /**
   * Which slot of `sharedCounters` belongs to which name, as the main thread gave them (state/slot-table.ts).
   * Left out: every engine sharing the buffer numbers them from its config alike.
   */
  counterSlots?: Array<[string, number]>;
  /** Keep live per-target statistics (in flight, latency) even when no strategy reads them. */
  targetStats?: boolean;
}

/** What a reload did. */
export interface ReloadResult {
  /** Server settings that changed but need a restart (host, port, workers, …): the running ones stay. */
  needsRestart: string[];
  /** Runtime switches dropped because the new config changed what they name. */
  droppedSwitches: string[];
}

/** A provider or a target as the admin API lists it. */
export interface AdminEntry {
  state: TargetState;
  /** Where a disabled state comes from. */
  by?: "config" | "admin";
  in_flight: number;
  breaker?: ReturnType<typeof breakerHealth>;
}

/** A provider's health, with its limits when it has any, and its retry budget unless switched off. */
export type ProviderReport = ProviderHealth & { limits?: ProviderLimitsReport; retry_budget?: RetryBudgetReport };

/**
 * The routing engine: request → route → attempts → response. It knows nothing
 * of HTTP servers; the HTTP front and the in-process client both drive it.
 *
 * What it builds from the config lives in a Generation (generation.ts); a
 * reload swaps in a new one while requests under way finish on theirs. The
 * engine itself keeps its identity: events carry it, and the server holds it.
 */
export class Engine {
  readonly store: Store;
  readonly #clock: Clock;
  readonly #random: Random;
  readonly #log: Logger;
  readonly #inflight = new SlotSet<AbortController>();
  /** Failures already published as a request's end (see reported()). */
  readonly #reported = new WeakSet<object>();
  /** A store passed in belongs to the caller, who closes it. */
  readonly #ownsStore: boolean;
  readonly #deps: GenerationDeps;
  readonly #unobserve: Array<() => void> = [];
  /** The generation new requests use. */
  #gen: Generation;
  /** The response cache and coalescing; undefined when both are off, so handle() goes straight to the upstream path. */
  readonly cache: ResponseCache | undefined;
  /** Older generations with requests still under way, until each is released. */
  readonly #retiring = new Set<Generation>();
  readonly #switches = new Switches();
  /** Shutting down: requests under way finish, /health says so (server/shutdown.ts). */
  draining = false;
  /** OpenTelemetry tracing; undefined unless `telemetry.otlp_endpoint` is set, and then fronts read the client's traceparent. */
  readonly tracing: Tracing | undefined;

  constructor(config: GatewayConfig, options: EngineOptions = {}) {
    this.#clock = options.clock ?? systemClock;
    this.#random = options.random ?? Math.random;
    this.#log = options.logger ?? silentLogger;
    this.#ownsStore = options.store === undefined;
    this.store = options.store ?? new MemoryStore(() => this.#clock.now());
    const shared = options.sharedCounters;
    const slots = new SlotTable(options.counterSlots);
    // Engines given only the buffer number the slots from the config, each alike.
    if (shared !== undefined && options.counterSlots === undefined) slots.assign(counterNames(config));
    const tracing = config.telemetry?.tracing;
    // Built once, with the engine: a reload that changes `telemetry` needs a restart.
    this.tracing = tracing === undefined ? undefined : new Tracing(tracing, this, { now: () => this.#clock.now(), logger: this.#log, ...options.tracing });
    this.#deps = {
      gateway: this,
      clock: this.#clock,
      random: this.#random,
      log: this.#log,
      store: this.store,
      counters: new Counters(slots.size, shared),
      slots,
      shared,
      directRetry: options.directRetry,
      demoTokenGapMs: options.demoTokenGapMs,
      off: this.#switches.off,
      // With the admin API on, targets' in-flight counts are kept for GET /admin/targets.
      keepStats: options.targetStats ?? config.server.adminKey !== undefined,
      tracing: this.tracing,
    };
    this.#gen = new Generation(config, this.#deps);
    if (this.#log !== silentLogger) this.#unobserve.push(logRequests(this.#log, this));
    this.cache = config.cache === undefined ? undefined : this.#newCache(config.cache);
  }

  #newCache(settings: NonNullable<GatewayConfig["cache"]>): ResponseCache {
    return new ResponseCache(settings, {
      gateway: this,
      clock: this.#clock,
      random: this.#random,
      warn: (message) => this.#log.warn({}, message),
      serve: (op, body, req) => this.#serve(op as Operation, body, req),
      // Read from the current generation, so that a reload's models and prices apply.
      modelSetting: (name) => (Object.hasOwn(this.config.models, name) ? this.config.models[name].cache : undefined),
      configured: (name) => Object.hasOwn(this.config.models, name),
      priceOf: (target) => this.#gen.prices.get(target),
    });
  }

  get config(): GatewayConfig {
    return this.#gen.config;
  }

  get routes(): RouteTable {
    return this.#gen.routes;
  }

  get health(): HealthTracker {
    return this.#gen.health;
  }

  /** Live per-target statistics; kept only when a strategy or `first_byte: auto` reads them (or targetStats asks). */
  get targets(): TargetStats | undefined {
    return this.#gen.targets;
  }

  /** Concurrency and rate limits; undefined when the config sets none. */
  get limits(): GatewayLimits | undefined {
    return this.#gen.limits;
  }

  /**
   * Serves one OpenAI-shaped request. Throws GatewayError; a stream that
   * fails once under way ends with one instead (see ByteStream).
   */
  handle(op: Operation, body: unknown, ctx: RequestContext): Promise<GatewayResult> {
    return this.cache === undefined ? this.#serve(op, body, ctx) : (this.cache.handle(op, body, ctx) as Promise<GatewayResult>);
  }

  /**
   * Whether a failure was published as a request's end (so logs and metrics
   * have it); one that was not (bad input, an unknown model) is the front's
   * to report.
   */
  reported(err: unknown): boolean {
    return typeof err === "object" && err !== null && this.#reported.has(err);
  }

  /** The upstream path: validation, routing, attempts. */
  async #serve(op: Operation, body: unknown, ctx: RequestContext): Promise<GatewayResult> {
    validateRequest(op, body);
    // The request keeps this generation to its end, whatever a reload swaps in meanwhile.
    const gen = this.#gen;
    const route = gen.routes.resolve(body.model as string);
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
    const slot = this.#inflight.add(ac);
    gen.enter();
    const finish = () => {
      if (timer !== undefined) this.#clock.clearTimeout(timer);
      clientSignal?.removeEventListener("abort", onClientAbort);
      if (this.#inflight.delete(slot, ac)) gen.leave();
    };
    const deps = { clock: this.#clock, random: this.#random, routes: gen.routes, attempt: gen.attempt, budget: gen.budget, hedge: gen.hedge };
    const { requestId } = ctx;
    const started = this.#clock.now();
    const { requestStart, requestEnd, streamEnd } = channels;
    if (requestStart.hasSubscribers) requestStart.publish({ gateway: this, requestId, op, model: route.name, stream, trace: ctx.trace } satisfies RequestStart);
    let ttfbMs: number | undefined;
    const ended = (status: number, records: readonly AttemptRecord[], target?: string, err?: GatewayError, usage?: Usage) => {
      if (!requestEnd.hasSubscribers) return;
      const attempts = records.length;
      const end: RequestEnd = { gateway: this, requestId, model: route.name, stream, target, status, attempts, durationMs: this.#clock.now() - started, op, ttfbMs, records };
      if (usage !== undefined) end.usage = usage;
      if (ctx.cacheStatus !== undefined) end.cache = ctx.cacheStatus;
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
      if (err instanceof GatewayError) {
        ended(err.status, err.attempts ?? [], err.attempts?.at(-1)?.target, err);
        this.#reported.add(err);
      }
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
        redactError(reason, gen.secrets);
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
      secrets: gen.secrets,
      clock: this.#clock,
      idleMs: target.timeouts.idle,
      onEnd,
    });
    return { ...base, stream: relay };
  }

  /** What `GET /v1/models` lists: the configured names, then each upstream's own models as `provider/model`. */
  models(): Promise<ListedModel[]> {
    return this.#gen.models.list(this.#gen.routes.names());
  }

  async providerHealth(): Promise<Record<string, ProviderReport>> {
    return (await this.upstreamHealth()).providers;
  }

  /**
   * Every provider (probe, traffic, breaker, limits) and every configured target (breaker), for /health/upstream.
   * `probe: false` probes no one (see HealthTracker.report).
   */
  async upstreamHealth(opts: { probe?: boolean } = {}): Promise<{ providers: Record<string, ProviderReport>; targets: Record<string, TargetHealth> }> {
    const gen = this.#gen;
    const [health, views, budgets] = await Promise.all([gen.health.report(opts), gen.breakers?.views(), gen.budgets.report()]);
    const providers: Record<string, ProviderReport> = health;
    for (const [name, b] of budgets) if (providers[name] !== undefined) providers[name].retry_budget = b;
    for (const [name, l] of Object.entries(gen.limits?.report() ?? {})) if (providers[name] !== undefined) providers[name].limits = l;
    for (const [name, view] of views?.providers ?? []) if (providers[name] !== undefined) providers[name].breaker = breakerHealth(view);
    // Switched off at runtime (the admin API): shown as disabled, like a provider the config switches off.
    for (const [name] of this.#switches.entries()) if (providers[name] !== undefined) providers[name].disabled = true;
    const targets: Record<string, TargetHealth> = {};
    const enabled = new Set<string>();
    for (const model of Object.values(gen.config.models)) {
      for (const t of model.targets) {
        const label = `${t.provider}/${t.model}`;
        const entry = (targets[label] ??= { provider: t.provider, model: t.model });
        const view = views?.targets.get(label);
        if (view !== undefined) entry.breaker = breakerHealth(view);
        if (t.disabled !== true && gen.config.providers[t.provider]?.disabled !== true && !this.#switches.off(t.provider, label)) enabled.add(label);
      }
    }
    // What the strategies and first_byte: auto read, for the configured targets.
    for (const [label, snapshot] of Object.entries(gen.targets?.snapshot() ?? {})) if (targets[label] !== undefined) Object.assign(targets[label], snapshot);
    // Disabled only where every model that lists it has it switched off.
    for (const [label, entry] of Object.entries(targets)) if (!enabled.has(label)) entry.disabled = true;
    return { providers, targets };
  }

  /** Each breaker's state (providers', and targets' by label), read without probing anything: for the metrics, polled often. */
  async breakerStates(): Promise<{ providers: Map<string, BreakerView["state"]>; targets: Map<string, BreakerView["state"]> }> {
    const views = await this.#gen.breakers?.views();
    const pick = (m: Map<string, BreakerView> | undefined) => new Map([...(m ?? [])].map(([k, v]) => [k, v.state]));
    return { providers: pick(views?.providers), targets: pick(views?.targets) };
  }

  /** Connection pool use per upstream origin, for the metrics. */
  poolStats(): ReturnType<Generation["pools"]["stats"]> {
    return this.#gen.pools.stats();
  }

  /** The engine's clock, for observers that place events in time (telemetry/stats.ts). */
  get clock(): Clock {
    return this.#clock;
  }

  /** `GET /v1/cache/stats`: the response cache (when on), and the small caches around routing, by name. */
  cacheStats() {
    const gen = this.#gen;
    const named = (c: { hits: number; misses: number }, entries: number) => ({ hits: c.hits, misses: c.misses, entries, hit_rate: hitRate(c.hits, c.misses) });
    const around = {
      model_lists: named(gen.models.counts, gen.models.entries),
      health_results: named(gen.health.reportCounts, gen.health.probedCount),
      token_counts: named(tokenCountCache, tokenCountCache.entries),
    };
    return { ...(this.cache?.stats() ?? offReport()), around_routing: around };
  }

  /**
   * Serves new requests from `next` (validated already: see config/load.ts).
   * Requests under way finish on the generation they started with, whose
   * resources are released after the last one; pools to origins planned the
   * same way are carried over. Server settings stay as they are (they need a
   * restart), except server.max_in_flight, which the limits apply.
   */
  reload(next: GatewayConfig, counterSlots?: Array<[string, number]>): ReloadResult {
    const old = this.#gen;
    // With workers the main thread gives new names their slots; engines that number them alike do so again.
    if (counterSlots !== undefined) this.#deps.slots.merge(counterSlots);
    else if (this.#deps.shared !== undefined) this.#deps.slots.assign(counterNames(next));
    const needsRestart = serverRestartKeys(old.config, next);
    const config: GatewayConfig = { ...next, server: { ...old.config.server, maxInFlight: next.server.maxInFlight } };
    if (config.server.maxInFlight === undefined) delete config.server.maxInFlight;
    const droppedSwitches = this.#switches.carry(old.config, config);
    this.#gen = new Generation(config, this.#deps, old);
    this.#retiring.add(old);
    void old.retire().then(() => this.#retiring.delete(old));
    if (configReload.hasSubscribers) configReload.publish({ gateway: this, config } satisfies ConfigReload);
    return { needsRestart, droppedSwitches };
  }

  /** Generations still serving requests begun before a reload (tests watch them drain). */
  get retiring(): number {
    return this.#retiring.size;
  }

  /**
   * Switches a provider or a target ("provider/model") for new requests:
   * disabled or draining ones get none; requests under way finish. Throws a
   * 404 GatewayError naming what the config does not know.
   */
  setSwitch(provider: string, model: string | undefined, to: Switch | "enabled"): string {
    const name = knownName(this.#gen.config, provider, model);
    this.#switches.set(name, to);
    this.#gen.reroute();
    return name;
  }

  /** Closes the breaker of a provider or a configured target; false when it has none. */
  async resetBreaker(provider: string, model?: string): Promise<boolean> {
    const name = knownName(this.#gen.config, provider, model);
    return (await this.#gen.breakers?.reset(name)) ?? false;
  }

  /** Every provider and configured target with its state, in-flight count and breaker, for GET /admin/targets. */
  async adminTargets(): Promise<{ providers: Record<string, AdminEntry>; targets: Record<string, AdminEntry & { provider: string; model: string }> }> {
    const gen = this.#gen;
    const views = await gen.breakers?.views();
    const stateOf = (name: string, inConfig: boolean, inFlight: number): Pick<AdminEntry, "state" | "by"> => {
      const sw = this.#switches.get(name);
      if (sw === "draining") return { state: inFlight > 0 ? "draining" : "drained", by: "admin" };
      if (sw === "disabled") return { state: "disabled", by: "admin" };
      return inConfig ? { state: "disabled", by: "config" } : { state: "enabled" };
    };
    const providers: Record<string, AdminEntry> = {};
    for (const p of Object.values(gen.config.providers)) {
      const inFlight = gen.health.inFlight(p.name);
      const entry: AdminEntry = { ...stateOf(p.name, p.disabled === true, inFlight), in_flight: inFlight };
      const view = views?.providers.get(p.name);
      if (view !== undefined) entry.breaker = breakerHealth(view);
      providers[p.name] = entry;
    }
    const targets: Record<string, AdminEntry & { provider: string; model: string }> = {};
    for (const [label, t] of configuredTargets(gen.config)) {
      const inFlight = gen.targets?.inFlight(label) ?? 0;
      let st = stateOf(label, t.disabled, inFlight);
      // A target of a provider switched off is off too.
      if (st.state === "enabled" && providers[t.provider]?.by === "admin") st = { state: providers[t.provider].state === "disabled" ? "disabled" : inFlight > 0 ? "draining" : "drained", by: "admin" };
      const entry = { provider: t.provider, model: t.model, ...st, in_flight: inFlight } as AdminEntry & { provider: string; model: string };
      const view = views?.targets.get(label);
      if (view !== undefined) entry.breaker = breakerHealth(view);
      targets[label] = entry;
    }
    return { providers, targets };
  }

  newRequestId(): string {
    return randomUUID();
  }

  /**
   * Ends every request still under way: waiting ones fail with a 503, streams
   * end with an error event, and their upstream calls are aborted.
   */
  abortInFlight(): void {
    this.#inflight.forEach((ac) => ac.abort(new GatewayError("SY_ERR_SHUTTING_DOWN", "the gateway is shutting down")));
  }

  async close(): Promise<void> {
    this.abortInFlight();
    for (const stop of this.#unobserve) stop();
    // What was aborted may still be unwinding (a stream nobody reads never ends): release every generation now.
    await Promise.all([this.#gen, ...this.#retiring].map((g) => g.release()));
    this.cache?.close();
    if (this.#ownsStore) await this.store.close();
    // Last: requests cut short above have ended their spans by now, and every span is sent before close resolves.
    await this.tracing?.close();
  }
}
