import type { HealthCheckSettings } from "../config/types.ts";
import { redactClip } from "../protocol/redact.ts";
import { Counters } from "../state/counters.ts";
import type { Clock } from "../time/clock.ts";
import type { BreakerPhase, BreakerView } from "./breaker.ts";
import { type ProbeOptions, type Probed, probeProvider } from "./health-probe.ts";
import type { ProviderRuntime } from "./runtime.ts";
import type { TargetSnapshot } from "./target-stats.ts";

/** A breaker as the health report shows it. */
export interface BreakerHealth {
  state: BreakerPhase;
  /** Trips since it last stayed closed for max_recovery. */
  trips: number;
  /** Open: seconds until probes are let through. */
  recovers_in_s?: number;
}

/** What the health report says of one provider: the last probe plus what real traffic saw. */
export interface ProviderHealth {
  type: string;
  reachable: boolean;
  /** The last probe passed (a 2xx listing, or a chat probe's refusal for a model that cannot exist). */
  healthy?: boolean;
  /** Which probe decided: models, path or chat. */
  probe?: Probed["probe"];
  status?: number;
  response_time_ms?: number;
  last_error?: string;
  /** The catalogue code of `last_error`, e.g. SY_ERR_CONNECT_TIMEOUT. */
  last_error_code?: string;
  last_error_at?: string;
  checked_at?: string;
  in_flight: number;
  /** Switched off in the config: never tried, never probed. */
  disabled?: boolean;
  /** Active checks run every this many seconds. */
  check_interval_s?: number;
  /** Whether the provider can be reached, as its breaker sees it. */
  breaker?: BreakerHealth;
}

/**
 * A target ("provider/model") as the health report shows it; with a
 * least-busy or latency strategy or first_byte: auto, also what they read.
 */
export interface TargetHealth extends Partial<TargetSnapshot> {
  provider: string;
  model: string;
  /** Switched off in the config, itself or its provider. */
  disabled?: boolean;
  breaker?: BreakerHealth;
}

interface Passive {
  lastError?: string;
  lastErrorCode?: string;
  lastErrorAt?: number;
  /** This provider's slot in the in-flight counters. */
  slot: number;
}

/**
 * Upstream health: passive (what real traffic saw) plus token-free probes
 * (health-probe.ts), run when asked or, for providers with `health_check`,
 * on a timer (health-checks.ts), whose latest result the report then shows.
 * Concurrent asks share one probe round.
 */
export class HealthTracker {
  readonly #passive = new Map<string, Passive>();
  readonly #probed = new Map<string, Probed>();
  readonly #runtimes: Map<string, ProviderRuntime>;
  readonly #clock: Clock;
  readonly #secrets: string[];
  readonly #inFlight: Counters;
  /** Which key a provider's probe sends (one off the bench). */
  readonly #keyFor: (provider: string) => number;
  #round: Promise<void> | undefined;
  /**
   * For /v1/cache/stats: per provider in a report, a result reused from the
   * timer's latest check (hit) or a probe made for the report (miss).
   */
  readonly reportCounts = { hits: 0, misses: 0 };
  /**
   * How long a probe made for a report answers later reports of a provider
   * without `health_check`; 0 (the default) probes for every report. The
   * engine sets it when the response cache is on.
   */
  reportTtlMs = 0;

  /** Probe results held. */
  get probedCount(): number {
    return this.#probed.size;
  }

  /**
   * `inFlight` holds one slot per provider, shared between workers when they run: `slotOf` names it
   * (state/slot-table.ts), else config order.
   */
  constructor(
    runtimes: Map<string, ProviderRuntime>,
    clock: Clock,
    secrets: string[],
    inFlight?: Counters,
    keyFor: (provider: string) => number = () => 0,
    slotOf?: (provider: string) => number | undefined,
  ) {
    this.#runtimes = runtimes;
    this.#clock = clock;
    this.#secrets = secrets;
    this.#keyFor = keyFor;
    this.#inFlight = inFlight ?? new Counters(runtimes.size);
    let slot = 0;
    for (const name of runtimes.keys()) this.#passive.set(name, { slot: slotOf?.(name) ?? slot++ });
  }

  started(provider: string): void {
    const p = this.#passive.get(provider);
    if (p) this.#inFlight.add(p.slot, 1);
  }

  finished(provider: string, err: { code: string; message: string } | undefined): void {
    const p = this.#passive.get(provider);
    if (!p) return;
    this.#inFlight.add(p.slot, -1);
    // A client that left, an in-process stream nobody read or a hedge that lost says nothing about the provider.
    if (err !== undefined && err.code !== "SY_ERR_CLIENT_ABORT" && err.code !== "SY_ERR_STREAM_ABANDONED" && err.code !== "SY_ERR_HEDGE_CANCELLED") {
      p.lastError = redactClip(err.message, this.#secrets);
      p.lastErrorCode = err.code;
      p.lastErrorAt = this.#clock.now();
    }
  }

  inFlight(provider: string): number {
    const p = this.#passive.get(provider);
    return p === undefined ? 0 : this.#inFlight.get(p.slot);
  }

  /** Probes one provider now and keeps the result for the report (an active check). */
  async check(name: string, signal?: AbortSignal, onListing?: (body: Buffer) => void): Promise<Probed> {
    const result = await this.#probe(name, this.#runtimes.get(name)!, signal, onListing);
    this.#probed.set(name, result);
    return result;
  }

  #probe(name: string, rt: ProviderRuntime, signal?: AbortSignal, onListing?: (body: Buffer) => void): Promise<Probed> {
    const options: ProbeOptions = { keyIndex: this.#keyFor(name) };
    const settings = healthCheckOf(rt);
    if (settings !== undefined) options.settings = settings;
    if (signal !== undefined) options.signal = signal;
    if (onListing !== undefined) options.onListing = onListing;
    return probeProvider(name, rt, this.#clock, this.#secrets, options);
  }

  /**
   * Reports every provider. Those checked on a timer show their latest check;
   * the others are probed now (at most one round at a time), unless `probe`
   * is false (a view refreshed every few seconds): then they show what the
   * last probe and real traffic saw. Disabled ones are shown as such and
   * never probed.
   */
  async report(opts: { probe?: boolean } = {}): Promise<Record<string, ProviderHealth>> {
    if (opts.probe !== false) {
      this.#round ??= this.#probeUnchecked().finally(() => {
        this.#round = undefined;
      });
      await this.#round;
    }
    const out: Record<string, ProviderHealth> = {};
    for (const [name, runtime] of this.#runtimes) {
      const passive = this.#passive.get(name)!;
      const probed = this.#probed.get(name);
      const lastError = probed?.error ?? passive.lastError;
      const lastErrorCode = probed?.error !== undefined ? probed.errorCode : passive.lastErrorCode;
      const config = runtime.prepared.config;
      const entry: ProviderHealth = {
        type: config.type,
        reachable: probed?.reachable ?? false,
        in_flight: this.#inFlight.get(passive.slot),
      };
      if (config.disabled === true) entry.disabled = true;
      if (probed) {
        entry.healthy = probed.healthy;
        entry.probe = probed.probe;
      }
      if (probed?.status !== undefined) entry.status = probed.status;
      if (probed) entry.response_time_ms = Math.round(probed.responseTimeMs * 10) / 10;
      if (lastError !== undefined) entry.last_error = lastError;
      if (lastErrorCode !== undefined) entry.last_error_code = lastErrorCode;
      if (passive.lastErrorAt !== undefined) entry.last_error_at = new Date(passive.lastErrorAt).toISOString();
      if (probed) entry.checked_at = new Date(probed.checkedAt).toISOString();
      const check = healthCheckOf(runtime);
      if (check !== undefined) entry.check_interval_s = check.interval / 1000;
      out[name] = entry;
    }
    return out;
  }

  async #probeUnchecked(): Promise<void> {
    const fresh = (name: string) => {
      const at = this.#probed.get(name)?.checkedAt;
      return this.reportTtlMs > 0 && at !== undefined && this.#clock.now() - at < this.reportTtlMs;
    };
    const due = [...this.#runtimes].filter(
      ([name, rt]) => rt.prepared.config.disabled !== true && (healthCheckOf(rt) === undefined ? !fresh(name) : !this.#probed.has(name)),
    );
    const enabled = [...this.#runtimes.values()].filter((rt) => rt.prepared.config.disabled !== true).length;
    this.reportCounts.misses += due.length;
    this.reportCounts.hits += enabled - due.length;
    await Promise.all(due.map(async ([name, rt]) => this.#probed.set(name, await this.#probe(name, rt))));
  }
}

function healthCheckOf(rt: ProviderRuntime): HealthCheckSettings | undefined {
  const c = rt.prepared.config.healthCheck;
  return c === false ? undefined : c;
}

/** A breaker's view as the report shows it. */
export function breakerHealth(v: BreakerView): BreakerHealth {
  const out: BreakerHealth = { state: v.state, trips: v.trips };
  if (v.retryInMs !== undefined) out.recovers_in_s = Math.ceil(v.retryInMs / 1000);
  return out;
}
