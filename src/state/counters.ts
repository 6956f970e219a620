/**
 * Integer counters in a fixed set of slots. Backed by a SharedArrayBuffer
 * when several worker threads serve one port, so that counts (in-flight
 * requests per provider) are exact across workers rather than divided by N.
 * Synchronous and allocation-free for the hot path, which is why this is not
 * a Store backend (docs/state.md).
 */
export class Counters {
  readonly buffer: SharedArrayBuffer | ArrayBuffer;
  readonly #slots: Int32Array;

  constructor(size: number, buffer?: SharedArrayBuffer) {
    this.buffer = buffer ?? new ArrayBuffer(size * 4);
    if (this.buffer.byteLength < size * 4) throw new RangeError(`counter buffer holds ${this.buffer.byteLength / 4} slots, ${size} needed`);
    this.#slots = new Int32Array(this.buffer);
  }

  /** A set of counters that other threads can attach to with `new Counters(size, buffer)`. */
  static shared(size: number): Counters {
    return new Counters(size, new SharedArrayBuffer(Math.max(1, size) * 4));
  }

  add(slot: number, by: number): number {
    return Atomics.add(this.#slots, slot, by) + by;
  }

  get(slot: number): number {
    return Atomics.load(this.#slots, slot);
  }
}
