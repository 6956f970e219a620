import type { WindowTake } from "./sliding-window.ts";

export type { WindowTake } from "./sliding-window.ts";
export { MemoryStore } from "./memory-store.ts";

/**
 * The state that several gateway instances will share (breaker state, rate
 * windows, concurrency counts, cache entries) goes through this interface.
 * Memory is the only backend for now; a Redis one implements the same calls,
 * and test/state/store.case.ts is the behaviour both must show.
 *
 * Counters, values and windows are three separate key spaces: the same key
 * names three unrelated entries. Time comes from the backend's injected
 * clock; an entry written with a TTL at time w exists while now < w + ttl.
 * Bad arguments (see arguments.ts) reject with a RangeError.
 */
export interface Store {
  /**
   * Adds `by` (a whole number, negative to subtract) to a counter, creating it
   * at 0, and returns the new value. Every incr sets the counter to expire
   * `ttlMs` later, so a counter lives while it is being moved and goes once it
   * is left alone: counts left behind by an instance that died fade out.
   */
  incr(key: string, by: number, ttlMs: number): Promise<number>;
  /** A counter's value; 0 when it does not exist or has expired. */
  count(key: string): Promise<number>;
  resetCount(key: string): Promise<void>;

  get(key: string): Promise<string | undefined>;
  /** Sets a value; without `ttlMs` it never expires (an earlier TTL is dropped). */
  set(key: string, value: string, ttlMs?: number): Promise<void>;
  /**
   * Sets `next` only if the value is now `expected` (undefined: only if there
   * is none, expired ones included), atomically. Answers whether it did.
   * `ttlMs` applies as in set.
   */
  compareAndSet(key: string, expected: string | undefined, next: string, ttlMs?: number): Promise<boolean>;
  delete(key: string): Promise<void>;

  /**
   * Admits `cost` units into a sliding window of `limit` units per `windowMs`
   * when it has room, atomically; a refused take consumes nothing. A cost of 0
   * only looks. A key keeps one window length. The window is approximated
   * from two fixed buckets (sliding-window.ts; error bounds in docs/state.md).
   */
  windowTake(key: string, cost: number, limit: number, windowMs: number): Promise<WindowTake>;

  /** Lets go of the backend's resources; calling it again does nothing. */
  close(): Promise<void>;
}
