/**
 * The count of slots in use for one concurrency limit. In one thread a plain
 * number does; with several workers serving one port, the count lives in the
 * shared counters' buffer (state/counters.ts), so the limit holds across all
 * of them exactly: a slot is taken with a compare-and-swap below the limit,
 * given back with an atomic subtract and a notify that wakes the workers
 * waiting for one (Atomics.waitAsync, which holds no thread and keeps no
 * process alive).
 */
export interface Slots {
  /** Takes a slot if fewer than `limit` are in use. */
  tryTake(limit: number): boolean;
  give(): void;
  inUse(): number;
  /**
   * Resolves once the count may have moved from `seen` (another worker gave a
   * slot back). Absent when only this thread counts: a slot then comes back
   * only through this thread's own release.
   */
  changed?(seen: number): Promise<unknown>;
}

export class LocalSlots implements Slots {
  #n = 0;

  tryTake(limit: number): boolean {
    if (this.#n >= limit) return false;
    this.#n++;
    return true;
  }

  give(): void {
    this.#n--;
  }

  inUse(): number {
    return this.#n;
  }
}

export class SharedSlots implements Slots {
  readonly #a: Int32Array;
  readonly #i: number;

  /** `slots` views the whole shared buffer; `index` is this limit's slot in it. */
  constructor(slots: Int32Array, index: number) {
    this.#a = slots;
    this.#i = index;
  }

  tryTake(limit: number): boolean {
    for (;;) {
      const n = Atomics.load(this.#a, this.#i);
      if (n >= limit) return false;
      if (Atomics.compareExchange(this.#a, this.#i, n, n + 1) === n) return true;
    }
  }

  give(): void {
    Atomics.sub(this.#a, this.#i, 1);
    Atomics.notify(this.#a, this.#i);
  }

  inUse(): number {
    return Atomics.load(this.#a, this.#i);
  }

  changed(seen: number): Promise<unknown> {
    const w = Atomics.waitAsync(this.#a, this.#i, seen);
    return w.async ? w.value : Promise.resolve();
  }
}
