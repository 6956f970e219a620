import { type ImmediateStore, immediateStore } from "../state/memory-store.ts";
import type { Store, WindowTake } from "../state/store.ts";

/**
 * One take from one window, so that it can be given back: all it cost, the
 * part credits covered included (those units stand in the window unused
 * again once the take is given back).
 */
export interface Take {
  key: string;
  cost: number;
  windowMs: number;
  /** What the window could still admit after this take. */
  remaining: number;
}

export interface Window {
  key: string;
  limit: number;
  windowMs: number;
}

/**
 * Takes from the rate windows in the Store (windowTake: atomic per window, so
 * exact across instances sharing a store). A window cannot be given units
 * back, so what must be returned (the takes before a window that refused, the
 * estimate of a call that was never made, an estimate above the usage the
 * upstream reported) is kept here as a credit against the next takes of the
 * same window, for as long as the units it stands for still count there: one
 * window length. Credits are this process's own.
 */
export class RateWindows {
  readonly #store: Store;
  readonly #now: () => number;
  readonly #credits = new Map<string, { amount: number; until: number }>();
  /** The store, when it answers at once: takeNow and addNow may then be used. */
  readonly #immediate: ImmediateStore | undefined;

  constructor(store: Store, now: () => number) {
    this.#store = store;
    this.#now = now;
    this.#immediate = immediateStore(store);
  }

  /** Whether takeNow and addNow may be used (the store answers at once). */
  get immediate(): boolean {
    return this.#immediate !== undefined;
  }

  /**
   * Takes `cost` (capped at the limit, so that one oversized request waits for
   * an empty window rather than forever) from `w`. Answers the take, or the
   * milliseconds until the window has room when it has none.
   */
  async take(w: Window, cost: number): Promise<Take | number> {
    cost = Math.min(cost, w.limit);
    const covered = Math.min(this.#credit(w.key), cost);
    return this.#taken(w, cost, covered, await this.#store.windowTake(w.key, cost - covered, w.limit, w.windowMs));
  }

  /** take() at once; only when `immediate`. */
  takeNow(w: Window, cost: number): Take | number {
    cost = Math.min(cost, w.limit);
    const covered = Math.min(this.#credit(w.key), cost);
    return this.#taken(w, cost, covered, this.#immediate!.windowTakeNow(w.key, cost - covered, w.limit, w.windowMs));
  }

  #taken(w: Window, cost: number, covered: number, r: WindowTake): Take | number {
    if (!r.allowed) return Math.max(1, r.retryAfterMs);
    if (covered > 0) this.#use(w.key, covered);
    return { key: w.key, cost, windowMs: w.windowMs, remaining: r.remaining };
  }

  /** Takes up to `cost` more after the fact (usage above the estimate): what fits, since the call was made anyway. */
  async add(w: Window, cost: number): Promise<void> {
    const rest = this.#toAdd(w, cost);
    if (rest <= 0) return;
    const r = await this.#store.windowTake(w.key, rest, w.limit, w.windowMs);
    if (r.allowed || r.remaining <= 0) return;
    await this.#store.windowTake(w.key, r.remaining, w.limit, w.windowMs);
  }

  /** add() at once; only when `immediate`. */
  addNow(w: Window, cost: number): void {
    const rest = this.#toAdd(w, cost);
    if (rest <= 0) return;
    const store = this.#immediate!;
    const r = store.windowTakeNow(w.key, rest, w.limit, w.windowMs);
    if (r.allowed || r.remaining <= 0) return;
    store.windowTakeNow(w.key, r.remaining, w.limit, w.windowMs);
  }

  /** What an add must still take from the store once credits have covered their part. */
  #toAdd(w: Window, cost: number): number {
    if (cost <= 0) return 0;
    const covered = Math.min(this.#credit(w.key), cost);
    if (covered > 0) this.#use(w.key, covered);
    return Math.min(cost - covered, w.limit);
  }

  /** Gives `cost` units of `key` back, as a credit against its next takes. */
  giveBack(key: string, cost: number, windowMs: number): void {
    if (cost <= 0) return;
    const now = this.#now();
    const c = this.#credits.get(key);
    const amount = (c !== undefined && c.until > now ? c.amount : 0) + cost;
    this.#credits.set(key, { amount, until: now + windowMs });
  }

  #credit(key: string): number {
    const c = this.#credits.get(key);
    if (c === undefined) return 0;
    if (c.until > this.#now()) return c.amount;
    this.#credits.delete(key);
    return 0;
  }

  #use(key: string, amount: number): void {
    const c = this.#credits.get(key)!;
    c.amount -= amount;
    if (c.amount <= 0) this.#credits.delete(key);
  }
}
