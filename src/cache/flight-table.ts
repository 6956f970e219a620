/**
 * The calls in flight, by fingerprint: an open-addressing table (linear
 * probing, backward-shift deletion) over an Int32Array of keys and one
 * array of values, both reused for as long as the table lasts.
 *
 * Why not a Map: every miss adds a key that is deleted moments later, so a
 * Map's table fills with deleted entries and is rebuilt again and again.
 * V8 keeps each table it replaces pointing at its successor, and an old
 * table still holds the values it had; the young-generation collector
 * takes those for live, so every flight, and the request and answer it
 * holds, was promoted to the old generation (about 1.3 KB a miss, measured)
 * and only freed by a full collection. Here a slot is cleared when its call
 * ends, and nothing points at a finished call.
 */
export class FlightTable<V extends object> {
  #keys = new Int32Array(64);
  #vals: Array<V | undefined> = new Array<V | undefined>(64).fill(undefined);
  #mask = 63;
  size = 0;

  get(fp: number): V | undefined {
    for (let i = fp & this.#mask; ; i = (i + 1) & this.#mask) {
      const v = this.#vals[i];
      if (v === undefined) return undefined;
      if (this.#keys[i] === fp) return v;
    }
  }

  /** Sets the value under `fp`, replacing any. */
  set(fp: number, v: V): void {
    if ((this.size + 1) * 2 > this.#vals.length) this.#grow();
    for (let i = fp & this.#mask; ; i = (i + 1) & this.#mask) {
      const old = this.#vals[i];
      if (old === undefined) {
        this.#keys[i] = fp;
        this.#vals[i] = v;
        this.size++;
        return;
      }
      if (this.#keys[i] === fp) {
        this.#vals[i] = v;
        return;
      }
    }
  }

  /** Removes `fp`'s value when it is `v` (a later call under the same fingerprint stays). */
  delete(fp: number, v: V): void {
    const mask = this.#mask;
    let i = fp & mask;
    for (; ; i = (i + 1) & mask) {
      const cur = this.#vals[i];
      if (cur === undefined) return;
      if (this.#keys[i] === fp) {
        if (cur !== v) return;
        break;
      }
    }
    // Backward shift: move later entries of the run into the gap, so that no probe stops early.
    let gap = i;
    for (let j = (i + 1) & mask; this.#vals[j] !== undefined; j = (j + 1) & mask) {
      const home = this.#keys[j] & mask;
      // The entry at j may move to the gap when its home is not in the cyclic range (gap, j].
      if (gap <= j ? home <= gap || home > j : home <= gap && home > j) {
        this.#keys[gap] = this.#keys[j];
        this.#vals[gap] = this.#vals[j];
        gap = j;
      }
    }
    this.#vals[gap] = undefined;
    this.size--;
  }

  #grow(): void {
    const keys = this.#keys;
    const vals = this.#vals;
    const n = vals.length * 2;
    this.#keys = new Int32Array(n);
    this.#vals = new Array<V | undefined>(n).fill(undefined);
    this.#mask = n - 1;
    this.size = 0;
    for (let i = 0; i < vals.length; i++) {
      const v = vals[i];
      if (v !== undefined) this.set(keys[i], v);
    }
  }
}
