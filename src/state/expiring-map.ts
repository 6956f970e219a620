/** An entry that stops existing at `expiresAt` (Infinity: never). */
export interface Expiring {
  expiresAt: number;
}

/**
 * A Map whose entries expire, and whose expired entries do not pile up even
 * when nobody reads them again: every write also examines a few entries from
 * a cursor that cycles through the map (Redis's active expiry works alike).
 * Each write adds at most one entry and examines `sweepPerWrite` of them, so a
 * full pass ends and every expired entry goes within one pass after it expires.
 * The work per write stays constant: no timer, no pause to sweep everything.
 */
export class ExpiringMap<V extends Expiring> {
  readonly #map = new Map<string, V>();
  readonly #sweepPerWrite: number;
  #cursor: MapIterator<[string, V]> | undefined;

  constructor(sweepPerWrite = 2) {
    if (!(sweepPerWrite >= 2)) throw new RangeError("sweepPerWrite must be at least 2 to outpace the writes");
    this.#sweepPerWrite = sweepPerWrite;
  }

  /** Entries held, expired ones not yet swept included. */
  get size(): number {
    return this.#map.size;
  }

  get(key: string, now: number): V | undefined {
    const entry = this.#map.get(key);
    if (entry === undefined || entry.expiresAt > now) return entry;
    this.#map.delete(key);
    return undefined;
  }

  set(key: string, entry: V, now: number): void {
    this.#map.set(key, entry);
    this.#sweep(now);
  }

  delete(key: string, now: number): void {
    this.#map.delete(key);
    this.#sweep(now);
  }

  clear(): void {
    this.#map.clear();
    this.#cursor = undefined;
  }

  #sweep(now: number): void {
    // A Map iterator stays valid across deletes and also visits entries added after it started.
    this.#cursor ??= this.#map.entries();
    for (let i = 0; i < this.#sweepPerWrite; i++) {
      const step = this.#cursor.next();
      if (step.done === true) {
        this.#cursor = undefined;
        return;
      }
      const [key, entry] = step.value;
      if (entry.expiresAt <= now) this.#map.delete(key);
    }
  }
}
