import type { Recording } from "./recording.ts";

/** A finished answer kept in the cache. */
export interface Entry {
  key: string;
  op: string;
  /** The public model name the request asked for. */
  model: string;
  rec: Recording;
  storedAt: number;
  expiresAt: number;
  /**
   * What the answer cost upstream, for the saved tokens and cost in the
   * stats: read from the answer on its first hit (or when it is written to
   * the cache file), so that a miss does not pay for it.
   */
  saved?: Saved;
}

export interface Saved {
  inputTokens: number;
  outputTokens: number;
  /** In the pricing's currency, when the target has a price. */
  cost: number;
}

export interface LruEvents {
  /** An entry was dropped: `evicted` when room was needed, else it expired, was replaced or purged. */
  removed(entry: Entry, evicted: boolean): void;
}

/**
 * Entries by key, least recently used first, bounded by the bytes of their
 * answers. A Map keeps insertion order: a use moves the entry to the end,
 * eviction takes from the front. Expiry is checked on lookup, with the
 * injected clock's time passed in.
 */
export class LruEntries {
  readonly #map = new Map<string, Entry>();
  readonly #maxBytes: number;
  readonly #events: LruEvents;
  bytes = 0;

  constructor(maxBytes: number, events: LruEvents) {
    this.#maxBytes = maxBytes;
    this.#events = events;
  }

  get size(): number {
    return this.#map.size;
  }

  get(key: string, now: number): Entry | undefined {
    const e = this.#map.get(key);
    if (e === undefined) return undefined;
    if (e.expiresAt <= now) {
      this.#drop(e, false);
      return undefined;
    }
    this.#map.delete(key);
    this.#map.set(key, e);
    return e;
  }

  /** Stores `e`, replacing any entry under its key and evicting the least recently used until it fits. */
  set(e: Entry): void {
    const old = this.#map.get(e.key);
    if (old !== undefined) this.#drop(old, false);
    this.#map.set(e.key, e);
    this.bytes += e.rec.bytes;
    if (this.bytes <= this.#maxBytes) return;
    for (const victim of this.#map.values()) {
      if (this.bytes <= this.#maxBytes) break;
      this.#drop(victim, true);
    }
  }

  /** Drops every entry (of `model`, when given); returns how many. */
  purge(model?: string): number {
    let n = 0;
    for (const e of [...this.#map.values()]) {
      if (model !== undefined && e.model !== model) continue;
      this.#drop(e, false);
      n++;
    }
    return n;
  }

  values(): IterableIterator<Entry> {
    return this.#map.values();
  }

  #drop(e: Entry, evicted: boolean): void {
    if (this.#map.get(e.key) !== e) return;
    this.#map.delete(e.key);
    this.bytes -= e.rec.bytes;
    this.#events.removed(e, evicted);
  }
}
