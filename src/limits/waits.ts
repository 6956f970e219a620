interface Waiting {
  /** When the request first waited for a limit; undefined until it has. */
  since: number | undefined;
  passed: Set<string>;
}

/**
 * One request's waiting, shared by the rate and concurrency wrappers: which
 * targets it has already passed over, and when it first had to wait. The
 * first time a target is full, the request is passed over to another target;
 * when failover comes back to it (every other target was full too), the
 * request waits there, and all its waits end within queue_timeout of the
 * first one's start.
 *
 * Kept per request signal (one per request, the same for each attempt), in a
 * WeakMap, so a request's record goes with it.
 */
export class RequestWaits {
  readonly #byRequest = new WeakMap<AbortSignal, Waiting>();

  #of(signal: AbortSignal): Waiting {
    let w = this.#byRequest.get(signal);
    if (w === undefined) {
      w = { since: undefined, passed: new Set() };
      this.#byRequest.set(signal, w);
    }
    return w;
  }

  /**
   * True the first time `label` is full for this request: pass it over. False
   * when the request comes back to it: wait there now.
   */
  passOver(signal: AbortSignal, label: string): boolean {
    const w = this.#of(signal);
    if (w.passed.has(label)) return false;
    w.passed.add(label);
    return true;
  }

  /** The time by which this request must stop waiting: `queueTimeout` after its first wait began (now, if this is it). */
  deadline(signal: AbortSignal, now: number, queueTimeout: number): number {
    const w = this.#of(signal);
    w.since ??= now;
    return w.since + queueTimeout;
  }
}
