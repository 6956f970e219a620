/**
 * Which counter slot (state/counters.ts) belongs to which name: a provider's
 * in-flight count, a concurrency limit's slots. Slots are given by name and
 * never taken back, so a reload that adds, removes or reorders providers
 * leaves every count attached to the same provider. With workers the main
 * thread owns the table and hands each worker a copy; a worker only reads it.
 */
export class SlotTable {
  readonly #slots = new Map<string, number>();

  constructor(entries: Iterable<readonly [string, number]> = []) {
    for (const [name, slot] of entries) this.#slots.set(name, slot);
  }

  /** Gives each new name the next free slot; names already known keep theirs. */
  assign(names: Iterable<string>): this {
    for (const name of names) if (!this.#slots.has(name)) this.#slots.set(name, this.size);
    return this;
  }

  /** Takes over what another copy of the table knows (a worker told of the main thread's table). */
  merge(entries: Iterable<readonly [string, number]>): void {
    for (const [name, slot] of entries) this.#slots.set(name, slot);
  }

  slotOf(name: string): number | undefined {
    return this.#slots.get(name);
  }

  /** Slots needed: one past the highest given. */
  get size(): number {
    let n = 0;
    for (const s of this.#slots.values()) n = Math.max(n, s + 1);
    return n;
  }

  entries(): Array<[string, number]> {
    return [...this.#slots];
  }
}
