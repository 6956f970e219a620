import { SlotSet } from "../state/slot-set.ts";
import { FingerprintTable } from "./fingerprint-table.ts";

/**
 * The calls in flight, by fingerprint: the calls in reusable slots, the
 * fingerprints in a typed table.
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
  readonly #index = new FingerprintTable();
  readonly #slots = new SlotSet<V>();

  get size(): number {
    return this.#index.size;
  }

  get(fp: number): V | undefined {
    const slot = this.#index.get(fp);
    return slot < 0 ? undefined : this.#slots.at(slot);
  }

  /** Sets the value under `fp`, replacing any. */
  set(fp: number, v: V): void {
    const old = this.#index.get(fp);
    if (old >= 0) this.#slots.delete(old, this.#slots.at(old)!);
    this.#index.set(fp, this.#slots.add(v));
  }

  /** Removes `fp`'s value when it is `v` (a later call under the same fingerprint stays). */
  delete(fp: number, v: V): void {
    const slot = this.#index.get(fp);
    if (slot < 0 || this.#slots.at(slot) !== v) return;
    this.#index.delete(fp, slot);
    this.#slots.delete(slot, v);
  }
}
