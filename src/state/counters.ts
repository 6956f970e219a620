/**
 * Integer counters in a set of slots. Backed by a SharedArrayBuffer when
 * several worker threads serve one port, so that counts (in-flight requests
 * per provider) are exact across workers rather than divided by N.
 * Synchronous and allocation-free for the hot path, which is why this is not
 * a Store backend (docs/state.md).
 *
 * The buffer is growable (up to MAX_SLOTS): a reload that adds providers or
 * limits gives them new slots at the end, and every thread's view follows
 * the growth, since its Int32Array tracks the buffer's length.
 */
export const MAX_SLOTS = 65_536;

export class Counters {
  readonly buffer: SharedArrayBuffer | ArrayBuffer;
  readonly #slots: Int32Array;

  constructor(size: number, buffer?: SharedArrayBuffer) {
    this.buffer = buffer ?? new ArrayBuffer(Math.max(1, size) * 4, { maxByteLength: MAX_SLOTS * 4 });
    if (this.buffer.byteLength < size * 4) this.ensure(size);
    this.#slots = new Int32Array(this.buffer);
  }

  /** A set of counters that other threads can attach to with `new Counters(size, buffer)`. */
  static shared(size: number): Counters {
    return new Counters(size, new SharedArrayBuffer(Math.max(1, size) * 4, { maxByteLength: MAX_SLOTS * 4 }));
  }

  /** Makes room for `size` slots (new ones start at 0); a buffer that cannot grow that far is an error. */
  ensure(size: number): void {
    const bytes = size * 4;
    const b = this.buffer;
    if (b.byteLength >= bytes) return;
    if (b instanceof SharedArrayBuffer ? b.growable && b.maxByteLength >= bytes : b.resizable && b.maxByteLength >= bytes) {
      if (b instanceof SharedArrayBuffer) b.grow(bytes);
      else b.resize(bytes);
      return;
    }
    throw new RangeError(`counter buffer holds ${b.byteLength / 4} slots, ${size} needed`);
  }

  get size(): number {
    return this.#slots.length;
  }

  add(slot: number, by: number): number {
    return Atomics.add(this.#slots, slot, by) + by;
  }

  get(slot: number): number {
    return Atomics.load(this.#slots, slot);
  }
}
