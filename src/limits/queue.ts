import { GatewayError } from "../protocol/errors.ts";
import type { Clock } from "../time/clock.ts";
import { publishQueue } from "./events.ts";
import type { Slots } from "./slots.ts";

interface Waiter {
  resolve: () => void;
  reject: (err: unknown) => void;
  since: number;
  timer: unknown;
  signal: AbortSignal;
  onAbort: () => void;
}

/** What a queue reports in /health/upstream. */
export interface QueueReport {
  limit: number;
  in_flight: number;
  queued: number;
  /** Requests that had to wait, since start. */
  waited: number;
  /** Requests that waited here until queue_timeout, since start. */
  timeouts: number;
  wait_ms_last?: number;
  wait_ms_max?: number;
}

/** Weight of the newest hold time in the running mean that Retry-After is estimated from. */
const HOLD_WEIGHT = 0.2;

/**
 * A concurrency limit with a FIFO queue. A slot that is given back goes
 * straight to the longest waiter, so nobody who arrives later can take it
 * first; a waiter whose request is aborted (its client left, its deadline
 * passed) leaves at once, and one still waiting at its deadline gets
 * SY_ERR_QUEUE_TIMEOUT with a Retry-After estimated from how long slots are
 * held. With shared slots (several workers) the order is FIFO within each
 * worker, and the count exact across them.
 */
export class SlotQueue {
  /** `server`, `provider:NAME` or `target:PROVIDER/MODEL`. */
  readonly name: string;
  readonly limit: number;
  /** How messages name it, such as `provider "openai"`. */
  readonly what: string;
  readonly #slots: Slots;
  readonly #clock: Clock;
  readonly #gateway: object;
  /** Waiters in arrival order (a Set keeps insertion order and deletes from the middle in O(1)). */
  readonly #waiters = new Set<Waiter>();
  #watching = false;
  #waited = 0;
  #timeouts = 0;
  #lastWait: number | undefined;
  #maxWait = 0;
  #meanHold = 0;

  constructor(name: string, what: string, limit: number, slots: Slots, clock: Clock, gateway: object) {
    this.name = name;
    this.what = what;
    this.limit = limit;
    this.#slots = slots;
    this.#clock = clock;
    this.#gateway = gateway;
  }

  get queued(): number {
    return this.#waiters.size;
  }

  /** Takes a slot now if one is free and nobody is waiting for one. */
  tryAcquire(): boolean {
    return this.#waiters.size === 0 && this.#slots.tryTake(this.limit);
  }

  /** Waits in line for a slot until `deadline` (clock time); rejects with the signal's reason, or a queue timeout. */
  acquire(signal: AbortSignal, deadline: number): Promise<void> {
    if (this.tryAcquire()) return Promise.resolve();
    if (signal.aborted) return Promise.reject(signal.reason);
    const now = this.#clock.now();
    // Its time to wait is up before it began here (it waited elsewhere, or came back after timing out): not
    // one more timeout of this queue, where it never waited.
    if (deadline <= now) return Promise.reject(this.#timeoutError(0));
    return new Promise<void>((resolve, reject) => {
      const w: Waiter = { resolve, reject, since: now, timer: undefined, signal, onAbort: () => {} };
      w.timer = this.#clock.setTimeout(() => {
        this.#leave(w);
        this.#timeouts++;
        const waited = this.#clock.now() - w.since;
        publishQueue(this.#gateway, this.name, "timeout", this.#waiters.size, waited);
        reject(this.#timeoutError(waited));
      }, deadline - now);
      // Named before it is stored: a function literal assigned straight to a property is made in the old generation.
      const onAbort = () => {
        this.#leave(w);
        this.#clock.clearTimeout(w.timer);
        publishQueue(this.#gateway, this.name, "leave", this.#waiters.size, this.#clock.now() - w.since);
        reject(signal.reason);
      };
      w.onAbort = onAbort;
      signal.addEventListener("abort", onAbort, { once: true });
      this.#waiters.add(w);
      this.#waited++;
      publishQueue(this.#gateway, this.name, "wait", this.#waiters.size);
      this.#watch();
    });
  }

  /** Gives a slot back after holding it for `heldMs`: to the longest waiter, or to the pool. */
  release(heldMs: number): void {
    this.#meanHold = this.#meanHold === 0 ? heldMs : this.#meanHold + HOLD_WEIGHT * (heldMs - this.#meanHold);
    const head = this.#first();
    if (head !== undefined) this.#grant(head);
    else this.#slots.give();
  }

  report(): QueueReport {
    const r: QueueReport = { limit: this.limit, in_flight: this.#slots.inUse(), queued: this.#waiters.size, waited: this.#waited, timeouts: this.#timeouts };
    if (this.#lastWait !== undefined) {
      r.wait_ms_last = Math.round(this.#lastWait);
      r.wait_ms_max = Math.round(this.#maxWait);
    }
    return r;
  }

  #first(): Waiter | undefined {
    for (const w of this.#waiters) return w;
    return undefined;
  }

  #leave(w: Waiter): void {
    this.#waiters.delete(w);
    w.signal.removeEventListener("abort", w.onAbort);
  }

  /** Hands a slot (already counted as taken) to `w`. */
  #grant(w: Waiter): void {
    this.#leave(w);
    this.#clock.clearTimeout(w.timer);
    const waited = this.#clock.now() - w.since;
    this.#lastWait = waited;
    if (waited > this.#maxWait) this.#maxWait = waited;
    publishQueue(this.#gateway, this.name, "admit", this.#waiters.size, waited);
    w.resolve();
  }

  /** With shared slots, another worker's release must wake this worker's queue: watch the count while anyone waits. */
  #watch(): void {
    const changed = this.#slots.changed;
    if (changed === undefined || this.#watching) return;
    this.#watching = true;
    const loop = (): void => {
      for (;;) {
        const head = this.#first();
        if (head === undefined) {
          this.#watching = false;
          return;
        }
        const seen = this.#slots.inUse();
        if (this.#slots.tryTake(this.limit)) {
          this.#grant(head);
          continue;
        }
        void changed.call(this.#slots, seen).then(loop);
        return;
      }
    };
    loop();
  }

  /** A client may come back once the queue ahead of it has had time to move: its length in rounds of the mean hold. */
  #timeoutError(waitedMs: number): GatewayError {
    const err = new GatewayError(
      "SY_ERR_QUEUE_TIMEOUT",
      `waited ${Math.round(waitedMs)} ms for one of the ${this.limit} slots of ${this.what}; gave up at queue_timeout`,
      { retryable: true },
    );
    err.skipped = true;
    err.retryAfterMs = Math.max(1000, Math.ceil(((this.#waiters.size + 1) / this.limit) * this.#meanHold));
    return err;
  }
}
