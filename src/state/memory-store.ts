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
 * The Store in one process's memory. Every call runs to completion without
 * awaiting, so each is atomic the way a Redis command or script is.
 */
export class MemoryStore implements Store {
  readonly #counters = new ExpiringMap<Counter>();
  readonly #values = new ExpiringMap<Value>();
  readonly #windows = new ExpiringMap<Window>();
  readonly #now: () => number;

  constructor(now: () => number = Date.now) {
    this.#now = now;
  }

  async incr(key: string, by: number, ttlMs: number): Promise<number> {
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
    checkKey(key);
    this.#counters.delete(key, this.#now());
  }

  async get(key: string): Promise<string | undefined> {
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
    checkWindow(key, cost, limit, windowMs);
    const now = this.#now();
    const { result, next } = takeFromWindow(this.#windows.get(key, now), now, cost, limit, windowMs);
    // After two window lengths the bucket no longer counts, even as the previous one.
    if (next !== undefined) this.#windows.set(key, { ...next, expiresAt: next.start + 2 * windowMs }, now);
    return result;
  }

  async close(): Promise<void> {
    this.#counters.clear();
    this.#values.clear();
    this.#windows.clear();
  }
}
