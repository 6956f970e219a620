/** Waiting for diagnostics-channel events in tests, instead of sleeping. */
import { subscribe, unsubscribe } from "node:diagnostics_channel";

/** Resolves with the next message on `name` that `match` accepts (subscribe before causing it). */
export function nextEvent<T>(name: string, match: (m: T) => boolean = () => true): Promise<T> {
  return new Promise((resolve) => {
    const fn = (m: unknown) => {
      if (!match(m as T)) return;
      unsubscribe(name, fn);
      resolve(m as T);
    };
    subscribe(name, fn);
  });
}

/** Records every message on `name` until stopped. */
export function record<T>(name: string): { events: T[]; stop(): void } {
  const events: T[] = [];
  const fn = (m: unknown) => events.push(m as T);
  subscribe(name, fn);
  return { events, stop: () => unsubscribe(name, fn) };
}
