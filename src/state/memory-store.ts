import { checkIncr, checkKey, checkTtl, checkWindow } from "./arguments.ts";
import { type Expiring, ExpiringMap } from "./expiring-map.ts";
import { takeFromWindow, type WindowState, type WindowTake } from "./sliding-window.ts";
import type { Store } from "./store.ts";

interface Counter extends Expiring {
  n: number;
}

interface Value extends Expiring {
  value: string;
}

type Window = WindowState & Expiring;

/**
 * The calls of a store in this process's memory, answered at once. Callers on
 * the request path use them when the store is one (see immediateStore): the
 * same state and the same checks as the Store calls, without a promise and a
 * turn of the microtask queue per call.
 */
export interface ImmediateStore {
  incrNow(key: string, by: number, ttlMs: number): number;
  resetCountNow(key: string): void;
  getNow(key: string): string | undefined;
  windowTakeNow(key: string, cost: number, limit: number, windowMs: number): WindowTake;
}

/** The store itself when its calls can be answered at once (the memory store); undefined for a shared backend. */
export function immediateStore(store: Store): ImmediateStore | undefined {
  return store instanceof MemoryStore ? store : undefined;
}

/**
 * The Store in one process's memory. Every call runs to completion without
 * awaiting, so each is atomic the way a Redis command or script is.
 */
export class MemoryStore implements Store, ImmediateStore {
  readonly #counters = new ExpiringMap<Counter>();
  readonly #values = new ExpiringMap<Value>();
  readonly #windows = new ExpiringMap<Window>();
  readonly #now: () => number;

  constructor(now: () => number = Date.now) {
    this.#now = now;
  }

  async incr(key: string, by: number, ttlMs: number): Promise<number> {
    return this.incrNow(key, by, ttlMs);
  }

  incrNow(key: string, by: number, ttlMs: number): number {
    checkIncr(key, by, ttlMs);
    const now = this.#now();
    const n = (this.#counters.get(key, now)?.n ?? 0) + by;
    // A counter back at 0 reads the same as none, so it need not be kept.
    if (n === 0) this.#counters.delete(key, now);
    else this.#counters.set(key, { n, expiresAt: now + ttlMs }, now);
    return n;
  }

  async count(key: string): Promise<number> {
    checkKey(key);
    return this.#counters.get(key, this.#now())?.n ?? 0;
  }

  async resetCount(key: string): Promise<void> {
    this.resetCountNow(key);
  }

  resetCountNow(key: string): void {
    checkKey(key);
    const now = this.#now();
    // A counter already at 0 (a breaker's row of failures, after every success) is left without a write.
    if (this.#counters.get(key, now) !== undefined) this.#counters.delete(key, now);
  }

  async get(key: string): Promise<string | undefined> {
    return this.getNow(key);
  }

  getNow(key: string): string | undefined {
    checkKey(key);
    return this.#values.get(key, this.#now())?.value;
  }

  async set(key: string, value: string, ttlMs?: number): Promise<void> {
    checkKey(key);
    if (ttlMs !== undefined) checkTtl(ttlMs);
    const now = this.#now();
    this.#values.set(key, { value, expiresAt: ttlMs === undefined ? Infinity : now + ttlMs }, now);
  }

  async compareAndSet(key: string, expected: string | undefined, next: string, ttlMs?: number): Promise<boolean> {
    checkKey(key);
    if (ttlMs !== undefined) checkTtl(ttlMs);
    const now = this.#now();
    if (this.#values.get(key, now)?.value !== expected) return false;
    this.#values.set(key, { value: next, expiresAt: ttlMs === undefined ? Infinity : now + ttlMs }, now);
    return true;
  }

  async delete(key: string): Promise<void> {
    checkKey(key);
    this.#values.delete(key, this.#now());
  }

  async windowTake(key: string, cost: number, limit: number, windowMs: number): Promise<WindowTake> {
    return this.windowTakeNow(key, cost, limit, windowMs);
  }

  windowTakeNow(key: string, cost: number, limit: number, windowMs: number): WindowTake {
    checkWindow(key, cost, limit, windowMs);
    const now = this.#now();
    const held = this.#windows.get(key, now);
    const { result, next } = takeFromWindow(held, now, cost, limit, windowMs);
    if (next !== undefined) {
      // After two window lengths the bucket no longer counts, even as the previous one.
      const expiresAt = next.start + 2 * windowMs;
      if (held !== undefined) {
        // Updated in place: a window taken from on every request allocates nothing more.
        held.start = next.start;
        held.prev = next.prev;
        held.curr = next.curr;
        held.expiresAt = expiresAt;
      } else this.#windows.set(key, { start: next.start, prev: next.prev, curr: next.curr, expiresAt }, now);
    }
    return result;
  }

  async close(): Promise<void> {
    this.#counters.clear();
    this.#values.clear();
    this.#windows.clear();
  }
}
