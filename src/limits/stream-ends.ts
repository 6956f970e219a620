import { subscribe, unsubscribe } from "node:diagnostics_channel";
import type { StreamEnd } from "../telemetry/channels.ts";

interface Hold {
  label: string;
  signal: AbortSignal;
  done: (failure?: unknown) => void;
}

/**
 * Holds something (a concurrency slot, a token count to settle) until a
 * committed stream ends. An attempt resolves at the stream's first event; the
 * stream goes on, and its end arrives as the engine's stream:end event (as
 * upstream/health-events.ts counts a stream in flight until then). The
 * request's signal aborting ends the hold too, whichever comes first, so a
 * stream that never reaches its end event (nobody ever read it) still lets go
 * at its deadline.
 */
export class StreamEnds {
  readonly #gateway: object;
  readonly #pending = new Map<string, Set<Hold>>();
  readonly #onEnd = (m: unknown): void => {
    const e = m as StreamEnd;
    if (e.gateway !== this.#gateway) return;
    const holds = this.#pending.get(e.requestId);
    if (holds === undefined) return;
    for (const h of holds) if (h.label === e.target) h.done(e.completed ? undefined : (h.signal.reason ?? e.error));
  };

  constructor(gateway: object) {
    this.#gateway = gateway;
    subscribe("switchyard:stream:end", this.#onEnd);
  }

  /**
   * Calls `done` once: when the stream of this request from `label` ends, or
   * `signal` aborts. A stream that did not complete passes what ended it: the
   * engine aborts the request's signal with the stream's failure (or the
   * client's leaving, the deadline) before it reports the end.
   */
  hold(requestId: string, label: string, signal: AbortSignal, done: (failure?: unknown) => void): void {
    let holds = this.#pending.get(requestId);
    if (holds === undefined) {
      holds = new Set();
      this.#pending.set(requestId, holds);
    }
    const set = holds;
    const onAbort = () => h.done(signal.reason);
    const h: Hold = {
      label,
      signal,
      done: (failure) => {
        signal.removeEventListener("abort", onAbort);
        if (!set.delete(h)) return;
        if (set.size === 0 && this.#pending.get(requestId) === set) this.#pending.delete(requestId);
        done(failure);
      },
    };
    set.add(h);
    if (signal.aborted) onAbort();
    else signal.addEventListener("abort", onAbort, { once: true });
  }

  /** Holds not yet ended (a test's check that nothing is left behind). */
  get size(): number {
    let n = 0;
    for (const s of this.#pending.values()) n += s.size;
    return n;
  }

  close(): void {
    unsubscribe("switchyard:stream:end", this.#onEnd);
  }
}
