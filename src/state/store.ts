/**
 * The state that several gateway instances will share (in-flight counts,
 * breaker state, rate windows, cache entries) goes through this interface.
 * Memory is the only backend for now; a Redis one implements the same calls.
 */
export interface Store {
  /** Adds `by` to a counter and returns the new value. */
  incr(key: string, by?: number): Promise<number>;
  get(key: string): Promise<string | undefined>;
  /** Sets a value, optionally expiring after `ttlMs`. */
  set(key: string, value: string, ttlMs?: number): Promise<void>;
  delete(key: string): Promise<void>;
  close(): Promise<void>;
}

interface Entry {
  value: string;
  expiresAt: number;
}

export class MemoryStore implements Store {
  readonly #counters = new Map<string, number>();
  readonly #values = new Map<string, Entry>();
  readonly #now: () => number;

  constructor(now: () => number = Date.now) {
    this.#now = now;
  }

  /** Synchronous form used on the hot path by in-process callers. */
  incrSync(key: string, by = 1): number {
    const next = (this.#counters.get(key) ?? 0) + by;
    if (next === 0) this.#counters.delete(key);
    else this.#counters.set(key, next);
    return next;
  }

  counter(key: string): number {
    return this.#counters.get(key) ?? 0;
  }

  async incr(key: string, by = 1): Promise<number> {
    return this.incrSync(key, by);
  }

  async get(key: string): Promise<string | undefined> {
    const e = this.#values.get(key);
    if (e === undefined) {
      const c = this.#counters.get(key);
      return c === undefined ? undefined : String(c);
    }
    if (e.expiresAt <= this.#now()) {
      this.#values.delete(key);
      return undefined;
    }
    return e.value;
  }

  async set(key: string, value: string, ttlMs?: number): Promise<void> {
    this.#values.set(key, { value, expiresAt: ttlMs === undefined ? Infinity : this.#now() + ttlMs });
  }

  async delete(key: string): Promise<void> {
    this.#values.delete(key);
    this.#counters.delete(key);
  }

  async close(): Promise<void> {
    this.#values.clear();
    this.#counters.clear();
  }
}
