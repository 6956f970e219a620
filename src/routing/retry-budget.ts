import { DEFAULTS } from "../config/defaults.ts";
import type { ProviderConfig, RetryBudgetSettings } from "../config/types.ts";
import { type ImmediateStore, immediateStore } from "../state/memory-store.ts";
import type { Store } from "../state/store.ts";

/**
 * Envoy's retry budget, per provider: the retries and hedges that one
 * provider's failures (or slowness) may cause are at most `ratio` of the
 * requests it was recently sent, and `minPerSecond` always, so that a
 * lightly used provider can still be retried. When the budget is spent a
 * failure goes back to the client at once: an outage cannot multiply load.
 *
 * Both counts are sliding windows in the Store (a request's first attempt
 * adds to the first, an admitted retry to the second), so instances sharing
 * a store share the budget.
 */
export interface RetryBudget {
  /** A request's first attempt goes to `provider`. */
  request(provider: string): void;
  /** Takes one retry or hedge from `provider`'s budget; false when it is spent. */
  retry(provider: string): Promise<boolean>;
}

/** A provider's retry budget as /health/upstream shows it: its settings, and its current window. */
export interface RetryBudgetReport {
  ratio: number;
  min_per_second: number;
  window_s: number;
  /** Requests first sent to the provider in the window (weighted as the sliding window counts them). */
  requests: number;
  /** Retries and hedges its failures or slowness were allowed in the window. */
  retries: number;
  /** How many the window allows now. */
  allowed: number;
}

interface Budget {
  settings: RetryBudgetSettings;
  windowMs: number;
  /** The largest count the store keeps exact for this window. */
  limit: number;
  floor: number;
  requests: string;
  retries: string;
}

export class RetryBudgets implements RetryBudget {
  readonly #budgets = new Map<string, Budget>();
  readonly #store: Store;
  readonly #onError: (err: unknown) => void;
  /** The store, when it answers at once: a request is then counted without a promise. */
  readonly #immediate: ImmediateStore | undefined;

  constructor(providers: Iterable<ProviderConfig>, store: Store, onError: (err: unknown) => void = () => {}) {
    this.#store = store;
    this.#immediate = immediateStore(store);
    this.#onError = onError;
    for (const p of providers) {
      if (p.retryBudget === false) continue;
      const settings = p.retryBudget ?? DEFAULTS.retryBudget;
      const windowMs = Math.max(1, Math.round(settings.window));
      this.#budgets.set(p.name, {
        settings,
        windowMs,
        limit: Math.floor(Number.MAX_SAFE_INTEGER / (2 * windowMs)),
        floor: Math.floor((settings.minPerSecond * windowMs) / 1000),
        requests: `budget:${p.name}:requests`,
        retries: `budget:${p.name}:retries`,
      });
    }
  }

  /** Each provider's budget and how much of it the current window has used, for /health/upstream. */
  async report(): Promise<Map<string, RetryBudgetReport>> {
    const out = new Map<string, RetryBudgetReport>();
    await Promise.all(
      [...this.#budgets].map(async ([name, b]) => {
        try {
          const [requests, retries] = await Promise.all([this.#store.windowTake(b.requests, 0, b.limit, b.windowMs), this.#store.windowTake(b.retries, 0, b.limit, b.windowMs)]);
          const seen = b.limit - requests.remaining;
          out.set(name, {
            ratio: b.settings.ratio,
            min_per_second: b.settings.minPerSecond,
            window_s: b.windowMs / 1000,
            requests: seen,
            retries: b.limit - retries.remaining,
            allowed: Math.max(b.floor, Math.floor(b.settings.ratio * seen)),
          });
        } catch (err) {
          this.#onError(err);
        }
      }),
    );
    return out;
  }

  /** Whether any provider has a budget: none, and failover is not given one. */
  get size(): number {
    return this.#budgets.size;
  }

  request(provider: string): void {
    const b = this.#budgets.get(provider);
    if (b === undefined) return;
    // Counted without holding the request back.
    if (this.#immediate !== undefined) {
      try {
        this.#immediate.windowTakeNow(b.requests, 1, b.limit, b.windowMs);
      } catch (err) {
        this.#onError(err);
      }
    } else this.#store.windowTake(b.requests, 1, b.limit, b.windowMs).catch(this.#onError);
  }

  async retry(provider: string): Promise<boolean> {
    const b = this.#budgets.get(provider);
    if (b === undefined) return true;
    try {
      const seen = await this.#store.windowTake(b.requests, 0, b.limit, b.windowMs);
      const requests = b.limit - seen.remaining;
      const allowed = Math.max(b.floor, Math.floor(b.settings.ratio * requests));
      if (allowed < 1) return false;
      const take = await this.#store.windowTake(b.retries, 1, allowed, b.windowMs);
      return take.allowed;
    } catch (err) {
      // A store that fails must not also fail the request: the retry goes ahead.
      this.#onError(err);
      return true;
    }
  }
}
