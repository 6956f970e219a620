/**
 * A set of objects held in reusable slots: adding returns the slot, and
 * removing takes it. For sets that every request joins and leaves (the
 * calls in flight): a Set or Map there rebuilds its table again and again,
 * and V8 keeps each replaced table pointing at its successor with its old
 * values still in it, so the young-generation collector takes finished
 * requests for live and promotes them (see src/cache/flight-table.ts).
 * Here a slot is cleared when its value leaves.
 */
export class SlotSet<V extends object> {
  readonly #items: Array<V | undefined> = [];
  readonly #free: number[] = [];
  size = 0;

  /** Adds `v`; returns its slot, for delete. */
  add(v: V): number {
    const slot = this.#free.pop() ?? this.#items.length;
    this.#items[slot] = v;
    this.size++;
    return slot;
  }

  /** The value in `slot`, if any. */
  at(slot: number): V | undefined {
    return this.#items[slot];
  }

  /** Removes `v` from `slot`; false when it is not there (already removed). */
  delete(slot: number, v: V): boolean {
    if (this.#items[slot] !== v) return false;
    this.#items[slot] = undefined;
    this.#free.push(slot);
    this.size--;
    return true;
  }

  forEach(fn: (v: V) => void): void {
    for (const v of this.#items.slice()) if (v !== undefined) fn(v);
  }
}
