/**
 * Time and randomness are injected so that backoff, deadlines and weighted
 * choice can be tested instantly and deterministically. This module imports
 * nothing and sits below every layer, since routing, upstream, state and the
 * engine all take a clock.
 */

export interface TimerOptions {
  /**
   * For background work (a health refresh, pool reaping) that alone must not
   * keep the process alive. Leave it off for anything a caller awaits: a
   * backoff, a deadline, a stream's next token.
   */
  background?: boolean;
}

export interface Clock {
  now(): number;
  /** Calls `fn` after `ms`. The timer keeps the process alive until it fires or is cleared, unless `options.background` is set. */
  setTimeout(fn: () => void, ms: number, options?: TimerOptions): unknown;
  clearTimeout(handle: unknown): void;
}

export type Random = () => number;

/** Read once: `performance.timeOrigin` is a getter that costs more than `performance.now()` itself. */
const TIME_ORIGIN = performance.timeOrigin;

export const systemClock: Clock = {
  now: () => TIME_ORIGIN + performance.now(),
  setTimeout: (fn, ms, options) => {
    const t = setTimeout(fn, ms);
    // A script awaiting a backoff or a token has nothing else keeping it alive: only background timers let go.
    if (options?.background === true) t.unref();
    return t;
  },
  clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
};

/** Waits `ms` on the given clock; rejects with the signal's reason when it aborts first. */
export function sleep(clock: Clock, ms: number, signal?: AbortSignal): Promise<void> {
  if (ms <= 0) return Promise.resolve();
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const onAbort = () => {
      clock.clearTimeout(handle);
      reject(signal!.reason);
    };
    const handle = clock.setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}
