/**
 * Which of a provider's keys the next attempt uses. Keys take turns (round
 * robin); a key the upstream refuses, or that has run out of quota, is
 * benched for a while so that the others carry the traffic, and comes back
 * on its own once the bench is over.
 *
 * This is in-process state, not the shared Store: a refused key costs each
 * worker one refused call to learn about, which is cheap and needs no
 * coordination, while the Store is async and would put a round trip on
 * every attempt. Turns are per process too, which still spreads the load.
 */

/** How long a refused key sits out: plain data, stated in docs/providers.md. */
export interface BenchPolicy {
  /** The first bench. */
  baseMs: number;
  /** Each further refusal in a row doubles the bench, up to this. */
  maxMs: number;
}

export const KEY_BENCH: Readonly<BenchPolicy> = Object.freeze({ baseMs: 60_000, maxMs: 30 * 60_000 });

export class KeyRing {
  readonly size: number;
  readonly #now: () => number;
  readonly #policy: BenchPolicy;
  /** Until when each key sits out (0: it serves). */
  readonly #benchedUntil: number[];
  /** Refusals in a row, per key; a success clears them. */
  readonly #strikes: number[];
  #turn = 0;

  constructor(size: number, now: () => number, policy: BenchPolicy = KEY_BENCH) {
    this.size = Math.max(1, size);
    this.#now = now;
    this.#policy = policy;
    this.#benchedUntil = new Array<number>(this.size).fill(0);
    this.#strikes = new Array<number>(this.size).fill(0);
  }

  /**
   * The keys one attempt may try, in order: every key not on the bench,
   * starting with the one whose turn it is. When all are benched, only the
   * one that comes back first: a provider is never shut out by its bench, so
   * a key that was fixed serves at once, and a refused one costs one call.
   */
  order(): number[] {
    const now = this.#now();
    const start = this.#turn;
    this.#turn = (this.#turn + 1) % this.size;
    const out: number[] = [];
    for (let i = 0; i < this.size; i++) {
      const k = (start + i) % this.size;
      if (this.#benchedUntil[k] <= now) out.push(k);
    }
    if (out.length > 0) return out;
    let soonest = 0;
    for (let k = 1; k < this.size; k++) if (this.#benchedUntil[k] < this.#benchedUntil[soonest]) soonest = k;
    return [soonest];
  }

  /** A key the attempts may use now, without taking a turn (the model list's probes). */
  peek(): number {
    const now = this.#now();
    for (let i = 0; i < this.size; i++) {
      const k = (this.#turn + i) % this.size;
      if (this.#benchedUntil[k] <= now) return k;
    }
    return this.#turn;
  }

  /** Key `k` was refused or is out of quota: benched, longer each time in a row. Returns the bench in ms. */
  refused(k: number): number {
    const strikes = ++this.#strikes[k];
    const ms = Math.min(this.#policy.maxMs, this.#policy.baseMs * 2 ** Math.min(strikes - 1, 30));
    this.#benchedUntil[k] = this.#now() + ms;
    return ms;
  }

  /** Key `k` served: its record is clean again. */
  served(k: number): void {
    this.#strikes[k] = 0;
    this.#benchedUntil[k] = 0;
  }

  /** Whether key `k` sits out now. */
  benched(k: number): boolean {
    return this.#benchedUntil[k] > this.#now();
  }
}
