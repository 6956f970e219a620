/**
 * Fingerprints to small non-negative integers (slot numbers): open
 * addressing with linear probing and backward-shift deletion, in two typed
 * arrays that double when half full. No JavaScript object per entry, and no
 * table that a Map would rebuild as keys come and go (a rebuilt Map table
 * keeps pointing at its successor, so the collector takes what the old one
 * held for live: see flight-table.ts).
 */
export class FingerprintTable {
  #keys = new Int32Array(64);
  /** The value plus one; 0 marks an empty place. */
  #vals = new Int32Array(64);
  #mask = 63;
  size = 0;

  /** The value under `fp`, or -1. */
  get(fp: number): number {
    for (let i = fp & this.#mask; ; i = (i + 1) & this.#mask) {
      const v = this.#vals[i];
      if (v === 0) return -1;
      if (this.#keys[i] === fp) return v - 1;
    }
  }

  /** Sets the value under `fp` (0 or more), replacing any. */
  set(fp: number, value: number): void {
    if ((this.size + 1) * 2 > this.#vals.length) this.#grow();
    for (let i = fp & this.#mask; ; i = (i + 1) & this.#mask) {
      const v = this.#vals[i];
      if (v === 0) {
        this.#keys[i] = fp;
        this.#vals[i] = value + 1;
        this.size++;
        return;
      }
      if (this.#keys[i] === fp) {
        this.#vals[i] = value + 1;
        return;
      }
    }
  }

  /** Removes `fp` when its value is `value` (a later entry under the same fingerprint stays). */
  delete(fp: number, value: number): void {
    const mask = this.#mask;
    let i = fp & mask;
    for (; ; i = (i + 1) & mask) {
      const v = this.#vals[i];
      if (v === 0) return;
      if (this.#keys[i] === fp) {
        if (v !== value + 1) return;
        break;
      }
    }
    // Backward shift: move later entries of the run into the gap, so that no probe stops early.
    let gap = i;
    for (let j = (i + 1) & mask; this.#vals[j] !== 0; j = (j + 1) & mask) {
      const home = this.#keys[j] & mask;
      // The entry at j may move to the gap when its home is not in the cyclic range (gap, j].
      if (gap <= j ? home <= gap || home > j : home <= gap && home > j) {
        this.#keys[gap] = this.#keys[j];
        this.#vals[gap] = this.#vals[j];
        gap = j;
      }
    }
    this.#vals[gap] = 0;
    this.size--;
  }

  /** Every value, in no particular order. */
  values(): number[] {
    const out: number[] = [];
    for (let i = 0; i < this.#vals.length; i++) if (this.#vals[i] !== 0) out.push(this.#vals[i] - 1);
    return out;
  }

  #grow(): void {
    const keys = this.#keys;
    const vals = this.#vals;
    const n = vals.length * 2;
    this.#keys = new Int32Array(n);
    this.#vals = new Int32Array(n);
    this.#mask = n - 1;
    this.size = 0;
    for (let i = 0; i < vals.length; i++) if (vals[i] !== 0) this.set(keys[i], vals[i] - 1);
  }
}
