import type { Clock } from "../../src/time/clock.ts";

interface Timer {
  id: number;
  at: number;
  ms: number;
  fn: () => void;
}

/**
 * A manual clock: time moves only when a test calls advance(). Tests wait for
 * a timer to be scheduled (waitForTimer) instead of sleeping.
 */
export class FakeClock implements Clock {
  #now: number;
  #timers = new Map<number, Timer>();
  #nextId = 1;
  #waiters: Array<{ match: (ms: number) => boolean; resolve: (ms: number) => void }> = [];
  /** Every delay ever scheduled, in order. */
  readonly scheduled: number[] = [];

  constructor(start = 1_700_000_000_000) {
    this.#now = start;
  }

  now(): number {
    return this.#now;
  }

  setTimeout(fn: () => void, ms: number): unknown {
    const id = this.#nextId++;
    this.#timers.set(id, { id, at: this.#now + ms, ms, fn });
    this.scheduled.push(ms);
    for (const w of this.#waiters.filter((w) => w.match(ms))) {
      this.#waiters.splice(this.#waiters.indexOf(w), 1);
      w.resolve(ms);
    }
    return id;
  }

  clearTimeout(handle: unknown): void {
    this.#timers.delete(handle as number);
  }

  /** Moves time forward, firing due timers in order. */
  advance(ms: number): void {
    const until = this.#now + ms;
    for (;;) {
      const due = [...this.#timers.values()].filter((t) => t.at <= until).sort((a, b) => a.at - b.at)[0];
      if (due === undefined) break;
      this.#timers.delete(due.id);
      this.#now = due.at;
      due.fn();
    }
    this.#now = until;
  }

  /** Resolves with the delay of the next timer scheduled whose delay matches. */
  waitForTimer(match: (ms: number) => boolean): Promise<number> {
    const pending = [...this.#timers.values()].find((t) => match(t.ms));
    if (pending) return Promise.resolve(pending.ms);
    return new Promise((resolve) => this.#waiters.push({ match, resolve }));
  }

  pending(): number[] {
    return [...this.#timers.values()].map((t) => t.ms);
  }
}

/** A seeded pseudo-random source (mulberry32) for deterministic weighted choice and jitter. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
