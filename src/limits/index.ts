/**
 * Self-imposed limits on upstream calls, as attempt wrappers: rate windows
 * (rate.ts) outside concurrency slots (concurrency.ts), so that a request
 * waiting for a slot never holds back another's rate, and a request passed
 * over by either costs nothing. Built only from what the config sets: with no
 * limits configured there is no wrapper at all.
 */
import { DEFAULTS } from "../config/defaults.ts";
import type { GatewayConfig, Limits } from "../config/types.ts";
import type { Store } from "../state/store.ts";
import type { Clock } from "../time/clock.ts";
import { AdaptiveLimits } from "./adaptive.ts";
import { concurrencyLimits } from "./concurrency.ts";
import { type TokenCounter, TokenEstimates } from "./estimate.ts";
import { type QueueReport, SlotQueue } from "./queue.ts";
import { type RatePlan, type RateScope, rateLimits } from "./rate.ts";
import { LocalSlots, SharedSlots, type Slots } from "./slots.ts";
import { StreamEnds } from "./stream-ends.ts";
import type { LimitWrapper } from "./types.ts";
import { UpstreamQuotas } from "./upstream-quota.ts";
import { RequestWaits } from "./waits.ts";
import { RateWindows } from "./windows.ts";

export type { LimitWrapper } from "./types.ts";
export type { QueueEvent } from "./events.ts";

export interface LimitsDeps {
  clock: Clock;
  store: Store;
  /** The gateway: events carry it, and only its own stream ends count. */
  gateway: object;
  /** The counters shared between workers, and each limit's slot in it by name (see limitSlots). */
  shared?: { buffer: SharedArrayBuffer; slotOf: (name: string) => number | undefined };
  /** Token counting for tpm limits; the real tokenizer by default. */
  tokens?: TokenCounter;
}

interface RateReport {
  limit: number;
  effective: number;
}

/** A provider's or a target's limits as /health/upstream shows them. */
export interface LimitsReport {
  concurrency?: QueueReport;
  rpm?: RateReport;
  tpm?: RateReport;
  burst?: RateReport;
  /** Requests waiting for room in its rate windows. */
  rate_waiting?: number;
  /** Until when its upstream asked (Retry-After on a 429) not to be called. */
  paused_until?: string;
  /** What the upstream's x-ratelimit-* headers last said. */
  upstream?: Record<string, number | string>;
}

export interface ProviderLimitsReport extends LimitsReport {
  targets?: Record<string, LimitsReport>;
}

export interface GatewayLimits {
  /** Outermost first, to go in front of the engine's other wrappers. */
  wrappers: LimitWrapper[];
  /** Per provider, for /health/upstream; the providers without limits are left out. */
  report(): Record<string, ProviderLimitsReport>;
  /** server.max_in_flight's queue, when set. */
  serverQueue(): QueueReport | undefined;
  /** Streams whose slots or token counts are still held (tests check none is left behind). */
  heldStreams(): number;
  close(): void;
}

const hasRate = (l: Limits | undefined) => l?.rpm !== undefined || l?.tpm !== undefined;

/** Every target's own limits, by label (the config loader checked that models agree on them). */
function targetLimits(config: GatewayConfig): Map<string, { provider: string; limits: Limits }> {
  const out = new Map<string, { provider: string; limits: Limits }>();
  for (const m of Object.values(config.models)) {
    for (const t of m.targets) if (t.limits !== undefined) out.set(`${t.provider}/${t.model}`, { provider: t.provider, limits: t.limits });
  }
  return out;
}

/**
 * The concurrency limits that need a slot count, in a fixed order: the
 * gateway's, each provider's, each target's. Workers share their counts in
 * the counters' buffer, this many slots after the providers' in-flight ones.
 */
export function limitSlots(config: GatewayConfig): string[] {
  const names: string[] = [];
  if (config.server.maxInFlight !== undefined) names.push("server");
  for (const p of Object.values(config.providers)) if (p.limits?.concurrency !== undefined) names.push(`provider:${p.name}`);
  for (const [label, t] of targetLimits(config)) if (t.limits.concurrency !== undefined) names.push(`target:${label}`);
  return names;
}

/** The limits of a gateway, or undefined when its config sets none. */
export function createLimits(config: GatewayConfig, deps: LimitsDeps): GatewayLimits | undefined {
  const targets = targetLimits(config);
  const providers = Object.values(config.providers);
  const slotNames = limitSlots(config);
  const anyRate = providers.some((p) => hasRate(p.limits)) || [...targets.values()].some((t) => hasRate(t.limits));
  if (slotNames.length === 0 && !anyRate) return undefined;

  const { clock, gateway } = deps;
  const queueTimeout = (label: string, provider: string): number =>
    targets.get(label)?.limits.queueTimeout ?? config.providers[provider]?.limits?.queueTimeout ?? DEFAULTS.limits.queueTimeout;
  const waits = new RequestWaits();
  const ends = new StreamEnds(gateway);
  const wrappers: LimitWrapper[] = [];

  // --- rates
  const adaptive = new AdaptiveLimits();
  const quotas = new UpstreamQuotas();
  const providerScopes = new Map<string, RateScope>();
  for (const p of providers) {
    if (hasRate(p.limits)) providerScopes.set(p.name, { id: `provider:${p.name}`, what: `provider "${p.name}"`, limits: p.limits! });
  }
  const targetScopes = new Map<string, RateScope>();
  for (const [label, t] of targets) {
    if (hasRate(t.limits)) targetScopes.set(label, { id: `target:${label}`, what: `target "${label}"`, limits: t.limits });
  }
  const plans = new Map<string, RatePlan | undefined>();
  const plan = (label: string, provider: string): RatePlan | undefined => {
    if (plans.has(label)) return plans.get(label);
    const scopes: RateScope[] = [];
    const own = targetScopes.get(label);
    if (own !== undefined) scopes.push(own);
    const p = providerScopes.get(provider);
    if (p !== undefined) scopes.push(p);
    const made: RatePlan | undefined =
      scopes.length === 0
        ? undefined
        : { label, scopes, tokens: scopes.some((s) => s.limits.tpm !== undefined), queueTimeout: queueTimeout(label, provider), adapts: scopes[0], waiting: 0 };
    // Direct "provider/model" names are open-ended: keep the cache bounded.
    if (plans.size >= 10_000) plans.clear();
    plans.set(label, made);
    return made;
  };
  if (anyRate) {
    const windows = new RateWindows(deps.store, () => clock.now());
    const estimates = new TokenEstimates(deps.tokens);
    wrappers.push(rateLimits({ clock, gateway, windows, adaptive, quotas, estimates, waits, ends, plan }));
  }

  // --- concurrency
  const view = deps.shared === undefined ? undefined : new Int32Array(deps.shared.buffer);
  const slots = (name: string): Slots => {
    const i = deps.shared?.slotOf(name);
    return view !== undefined && i !== undefined && i < view.length ? new SharedSlots(view, i) : new LocalSlots();
  };
  const queue = (name: string, what: string, limit: number) => new SlotQueue(name, what, limit, slots(name), clock, gateway);
  const max = config.server.maxInFlight;
  const server = max === undefined ? undefined : queue("server", "the gateway (server.max_in_flight)", max);
  const providerQueues = new Map<string, SlotQueue>();
  for (const p of providers) {
    const n = p.limits?.concurrency;
    if (n !== undefined) providerQueues.set(p.name, queue(`provider:${p.name}`, `provider "${p.name}"`, n));
  }
  const targetQueues = new Map<string, SlotQueue>();
  for (const [label, t] of targets) {
    const n = t.limits.concurrency;
    if (n !== undefined) targetQueues.set(label, queue(`target:${label}`, `target "${label}"`, n));
  }
  if (slotNames.length > 0) wrappers.push(concurrencyLimits({ server, providers: providerQueues, targets: targetQueues, queueTimeout }, { clock, waits, ends }));

  // --- report
  const rateReport = (scope: RateScope | undefined, into: LimitsReport) => {
    if (scope === undefined) return;
    const { rpm, tpm, burst } = scope.limits;
    if (rpm !== undefined) into.rpm = { limit: rpm, effective: adaptive.effective(scope.id, rpm) };
    if (tpm !== undefined) into.tpm = { limit: tpm, effective: adaptive.effective(scope.id, tpm) };
    if (burst !== undefined) into.burst = { limit: burst, effective: adaptive.effective(scope.id, burst) };
  };
  const report = (): Record<string, ProviderLimitsReport> => {
    const now = clock.now();
    const out: Record<string, ProviderLimitsReport> = {};
    for (const p of providers) {
      const r: ProviderLimitsReport = {};
      const q = providerQueues.get(p.name);
      if (q !== undefined) r.concurrency = q.report();
      rateReport(providerScopes.get(p.name), r);
      const labels = new Set<string>();
      for (const m of Object.values(config.models)) for (const t of m.targets) if (t.provider === p.name) labels.add(`${t.provider}/${t.model}`);
      for (const label of labels) {
        const t: LimitsReport = {};
        const tq = targetQueues.get(label);
        if (tq !== undefined) t.concurrency = tq.report();
        rateReport(targetScopes.get(label), t);
        const waiting = plans.get(label)?.waiting ?? 0;
        if (waiting > 0) t.rate_waiting = waiting;
        adaptive.pausedFor(label, now);
        const until = adaptive.pausedUntil(label);
        if (until !== undefined) t.paused_until = new Date(until).toISOString();
        const upstream = quotas.report(label, now);
        if (upstream !== undefined) t.upstream = upstream;
        if (Object.keys(t).length > 0) (r.targets ??= {})[label] = t;
      }
      if (Object.keys(r).length > 0) out[p.name] = r;
    }
    return out;
  };

  return {
    wrappers,
    report,
    serverQueue: () => server?.report(),
    heldStreams: () => ends.size,
    close: () => ends.close(),
  };
}
