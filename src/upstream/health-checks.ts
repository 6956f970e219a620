import type { HealthCheckSettings, ProviderConfig } from "../config/types.ts";
import type { Clock, Random } from "../time/clock.ts";
import type { Breakers } from "./breakers.ts";
import type { Probed } from "./health-probe.ts";

/** Runs one provider's probe (HealthTracker.check). */
export type Check = (provider: string, signal: AbortSignal) => Promise<Probed>;

/** Each interval is stretched or shrunk by up to this share, so instances and workers drift apart. */
const JITTER = 0.1;

interface Scheduled {
  settings: HealthCheckSettings;
  timer?: unknown;
  /** Failed checks in a row. */
  failed: number;
}

/**
 * Active health checks, for providers with `health_check` set: each one is
 * probed every `interval` (±10%) on background timers of the injected clock,
 * which never keep the process alive. The first check comes after a random
 * part of one interval, so instances started together do not probe together.
 *
 * Results feed the provider's breaker: `unhealthy_threshold` failed checks in
 * a row open it (the provider is ejected), and a passing check lets an open
 * one probe at once (half-open) instead of waiting out its recovery.
 */
export class HealthChecks {
  readonly #providers = new Map<string, Scheduled>();
  readonly #check: Check;
  readonly #breakers: Breakers | undefined;
  readonly #clock: Clock;
  readonly #random: Random;
  readonly #ac = new AbortController();
  /** Results as they come, for tests and logs; the report reads the tracker. */
  readonly #onResult: (provider: string, result: Probed) => void;

  constructor(
    providers: Iterable<ProviderConfig>,
    check: Check,
    breakers: Breakers | undefined,
    clock: Clock,
    random: Random,
    onResult: (provider: string, result: Probed) => void = () => {},
  ) {
    this.#check = check;
    this.#breakers = breakers;
    this.#clock = clock;
    this.#random = random;
    this.#onResult = onResult;
    for (const p of providers) {
      if (p.disabled === true || p.healthCheck === undefined || p.healthCheck === false) continue;
      this.#providers.set(p.name, { settings: p.healthCheck, failed: 0 });
    }
  }

  get size(): number {
    return this.#providers.size;
  }

  start(): void {
    for (const [name, s] of this.#providers) this.#schedule(name, s, this.#random() * s.settings.interval);
  }

  /** Stops every timer and aborts checks under way. */
  close(): void {
    this.#ac.abort();
    for (const s of this.#providers.values()) if (s.timer !== undefined) this.#clock.clearTimeout(s.timer);
  }

  #schedule(name: string, s: Scheduled, ms: number): void {
    if (this.#ac.signal.aborted) return;
    s.timer = this.#clock.setTimeout(() => void this.#run(name, s), Math.max(1, Math.round(ms)), { background: true });
  }

  async #run(name: string, s: Scheduled): Promise<void> {
    s.timer = undefined;
    let result: Probed;
    try {
      result = await this.#check(name, this.#ac.signal);
    } catch {
      // A probe reports its failures as results; anything thrown is ours, and the next check may do better.
      this.#next(name, s);
      return;
    }
    if (this.#ac.signal.aborted) return;
    const breaker = this.#breakers?.provider(name);
    if (result.healthy) {
      s.failed = 0;
      await breaker?.readmit().catch(() => {});
    } else if (++s.failed >= s.settings.unhealthyThreshold) {
      await breaker?.trip().catch(() => {});
    }
    this.#onResult(name, result);
    this.#next(name, s);
  }

  #next(name: string, s: Scheduled): void {
    const spread = 1 + JITTER * (2 * this.#random() - 1);
    this.#schedule(name, s, s.settings.interval * spread);
  }
}
