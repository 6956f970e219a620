/**
 * What real traffic says about each target ("provider/model"): attempts in
 * flight, and how long attempts take to commit (the first event of a stream,
 * the whole answer otherwise). The routing strategies read it (least-busy,
 * latency) and so does `timeouts.first_byte: auto`. It is fed from the
 * diagnostics channels (target-stats-events.ts), never from the request path,
 * and it is per process: each worker balances by what it sees itself.
 *
 * Streamed and whole answers are kept apart: a whole answer's time includes
 * the generation, a stream's only its first token, and a limit learnt from
 * streams would cut long whole answers short. Hedging's `after: p95` reads
 * the same percentile.
 */

/** Weight of the newest sample in the moving average. */
export const EWMA_WEIGHT = 0.3;
/** Recent commit times kept per target and kind for the percentile. */
export const SAMPLE_WINDOW = 100;
/** `first_byte: auto` keeps the configured limit until this many have been seen. */
export const MIN_SAMPLES = 20;
/** auto = clamp(p95 × FACTOR, MIN, MAX). */
export const AUTO_FACTOR = 2;
export const AUTO_MIN_MS = 10_000;
export const AUTO_MAX_MS = 600_000;
/** A failed attempt counts in the average as taking at least this long, so a target that fails fast does not look fast. */
export const FAILURE_SAMPLE_MS = 10_000;

/** What strategies and the adaptive timeout read. */
export interface TargetView {
  /** Attempts to the target in flight in this process, committed streams included until they end. */
  inFlight(target: string): number;
  /** Moving average of the time to commit, in ms; undefined before the first sample. */
  latency(target: string, stream: boolean): number | undefined;
  /** clamp(p95 × 2, 10s, 10m) of recent commit times; undefined until MIN_SAMPLES have been seen. */
  firstByteLimit(target: string, stream: boolean): number | undefined;
  /** The 95th percentile of recent commit times (hedge: { after: p95 }); undefined until MIN_SAMPLES have been seen. */
  firstByteP95(target: string, stream: boolean): number | undefined;
}

class Series {
  ewma: number | undefined;
  readonly #samples = new Float64Array(SAMPLE_WINDOW);
  #count = 0;
  #next = 0;
  #p95: number | undefined;
  #stale = false;

  sample(ms: number): void {
    this.average(ms);
    this.#samples[this.#next] = ms;
    this.#next = (this.#next + 1) % SAMPLE_WINDOW;
    if (this.#count < SAMPLE_WINDOW) this.#count++;
    this.#stale = true;
  }

  /** Moves the average only: failures are not first-byte times and stay out of the percentile. */
  average(ms: number): void {
    this.ewma = this.ewma === undefined ? ms : this.ewma + EWMA_WEIGHT * (ms - this.ewma);
  }

  get count(): number {
    return this.#count;
  }

  /** The 95th percentile of the recent samples; recomputed at most once per new sample, when first read. */
  p95(): number | undefined {
    if (this.#count < MIN_SAMPLES) return undefined;
    if (this.#stale) {
      this.#p95 = percentile(this.#samples.subarray(0, this.#count), 0.95);
      this.#stale = false;
    }
    return this.#p95;
  }

  limit(): number | undefined {
    const p95 = this.p95();
    return p95 === undefined ? undefined : Math.round(Math.min(AUTO_MAX_MS, Math.max(AUTO_MIN_MS, AUTO_FACTOR * p95)));
  }
}

/** The k largest values seen by `percentile`, reused: it runs once per sample on the request path. */
let scratch = new Float64Array(8);

/**
 * Nearest-rank percentile, found by keeping only the values above it (a few
 * for p95) instead of sorting them all.
 */
export function percentile(values: ArrayLike<number>, p: number): number {
  const n = values.length;
  // The answer is the k-th largest value.
  const k = n - Math.max(1, Math.ceil(p * n)) + 1;
  if (scratch.length < k) scratch = new Float64Array(k);
  const top = scratch;
  let kept = 0;
  for (let i = 0; i < n; i++) {
    const v = values[i];
    if (kept === k && v <= top[k - 1]) continue;
    // Insert into `top`, largest first, dropping the smallest when it is full.
    let j = kept < k ? kept++ : k - 1;
    while (j > 0 && top[j - 1] < v) {
      top[j] = top[j - 1];
      j--;
    }
    top[j] = v;
  }
  return top[k - 1];
}

class Entry {
  inFlight = 0;
  readonly stream = new Series();
  readonly whole = new Series();

  series(stream: boolean): Series {
    return stream ? this.stream : this.whole;
  }
}

export interface TargetSnapshot {
  in_flight: number;
  /** Moving averages of the time to commit, ms. */
  latency_ms?: { stream?: number; whole?: number };
  /** The adaptive first-byte limits in force, ms, once learnt. */
  first_byte_limit_ms?: { stream?: number; whole?: number };
}

export class TargetStats implements TargetView {
  readonly #targets = new Map<string, Entry>();

  #entry(target: string): Entry {
    let e = this.#targets.get(target);
    if (e === undefined) {
      e = new Entry();
      this.#targets.set(target, e);
    }
    return e;
  }

  started(target: string): void {
    this.#entry(target).inFlight++;
  }

  ended(target: string): void {
    const e = this.#targets.get(target);
    if (e !== undefined && e.inFlight > 0) e.inFlight--;
  }

  /** An attempt committed `ms` after it started. */
  committed(target: string, stream: boolean, ms: number): void {
    this.#entry(target).series(stream).sample(ms);
  }

  /** A retryable failure after `ms`: both averages move up, the percentiles stay as they are. */
  failed(target: string, ms: number): void {
    const e = this.#entry(target);
    const penalty = Math.max(ms, FAILURE_SAMPLE_MS);
    e.stream.average(penalty);
    e.whole.average(penalty);
  }

  inFlight(target: string): number {
    return this.#targets.get(target)?.inFlight ?? 0;
  }

  latency(target: string, stream: boolean): number | undefined {
    return this.#targets.get(target)?.series(stream).ewma;
  }

  firstByteLimit(target: string, stream: boolean): number | undefined {
    return this.#targets.get(target)?.series(stream).limit();
  }

  firstByteP95(target: string, stream: boolean): number | undefined {
    return this.#targets.get(target)?.series(stream).p95();
  }

  /** For the health report. */
  snapshot(): Record<string, TargetSnapshot> {
    const out: Record<string, TargetSnapshot> = {};
    const round = (v: number | undefined) => (v === undefined ? undefined : Math.round(v * 10) / 10);
    for (const [target, e] of this.#targets) {
      const s: TargetSnapshot = { in_flight: e.inFlight };
      const latency = { stream: round(e.stream.ewma), whole: round(e.whole.ewma) };
      if (latency.stream !== undefined || latency.whole !== undefined) s.latency_ms = prune(latency);
      const limit = { stream: e.stream.limit(), whole: e.whole.limit() };
      if (limit.stream !== undefined || limit.whole !== undefined) s.first_byte_limit_ms = prune(limit);
      out[target] = s;
    }
    return out;
  }
}

function prune<T extends Record<string, number | undefined>>(o: T): T {
  for (const k of Object.keys(o)) if (o[k] === undefined) delete o[k];
  return o;
}
