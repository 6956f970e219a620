/**
 * Counts and latency histograms of one target or model over the last 15
 * minutes, in 10-second slots: a ring of fixed-size typed arrays, so
 * recording allocates nothing and a slot is cleared when time comes back
 * round to it (no timer). Windows (1, 5, 15 minutes) and the per-slot series
 * are summed from the slots when read, which is rare next to recording.
 */
import { BUCKETS, bucketOf, quantile } from "./buckets.ts";

export const STEP_MS = 10_000;
export const SLOTS = 90;

/** The windows reported, and how many slots each spans. */
export const WINDOWS = { "1m": 6, "5m": 30, "15m": 90 } as const;
export type WindowName = keyof typeof WINDOWS;

export interface Percentiles {
  p50: number | null;
  p90: number | null;
  p95: number | null;
  p99: number | null;
}

export interface WindowSummary {
  requests: number;
  errors: number;
  timeouts: number;
  /** (requests - errors) / requests; null without requests. */
  success_rate: number | null;
  rps: number;
  latency_ms: Percentiles;
  ttft_ms: Percentiles;
}

export interface Series {
  step_s: number;
  requests: number[];
  errors: number[];
  latency_p50_ms: Array<number | null>;
  latency_p99_ms: Array<number | null>;
  ttft_p50_ms: Array<number | null>;
}

/** What a sample counts as: a success, an error, or an error that was a timeout. */
export const OK = 0;
export const ERROR = 1;
export const TIMEOUT = 2;

// Per slot: requests, errors, timeouts, latency samples, ttft samples.
const C_REQ = 0;
const C_ERR = 1;
const C_TIMEOUT = 2;
const C_LAT = 3;
const C_TTFT = 4;
const COUNTS = 5;
// Per slot: smallest and largest latency, then ttft.
const EXTREMES = 4;

/** Sums of the slots of one window: reused by every read (reads run one at a time). */
const sumLat = new Uint32Array(BUCKETS);
const sumTtft = new Uint32Array(BUCKETS);

const round = (v: number | null, digits = 100) => (v === null ? null : Math.round(v * digits) / digits);

/** A copy of a Rolling's arrays: what a worker thread hands over to be merged with the others'. */
export interface RollingState {
  epochs: Float64Array;
  counts: Uint32Array;
  lat: Uint32Array;
  ttft: Uint32Array;
  extremes: Float64Array;
}

export class Rolling {
  readonly #epochs = new Float64Array(SLOTS).fill(-1);
  readonly #counts = new Uint32Array(SLOTS * COUNTS);
  readonly #lat = new Uint32Array(SLOTS * BUCKETS);
  readonly #ttft = new Uint32Array(SLOTS * BUCKETS);
  readonly #extremes = new Float64Array(SLOTS * EXTREMES);

  /** The slot for `now`, cleared first when it last held an older step. */
  #slot(now: number): number {
    const epoch = Math.floor(now / STEP_MS);
    const i = epoch % SLOTS;
    if (this.#epochs[i] !== epoch) {
      this.#epochs[i] = epoch;
      this.#counts.fill(0, i * COUNTS, (i + 1) * COUNTS);
      this.#lat.fill(0, i * BUCKETS, (i + 1) * BUCKETS);
      this.#ttft.fill(0, i * BUCKETS, (i + 1) * BUCKETS);
      const x = i * EXTREMES;
      this.#extremes[x] = Infinity;
      this.#extremes[x + 1] = -Infinity;
      this.#extremes[x + 2] = Infinity;
      this.#extremes[x + 3] = -Infinity;
    }
    return i;
  }

  /** One request (or attempt) ended: OK, ERROR or TIMEOUT. */
  count(now: number, kind: number): void {
    const c = this.#slot(now) * COUNTS;
    this.#counts[c + C_REQ]++;
    if (kind !== OK) this.#counts[c + C_ERR]++;
    if (kind === TIMEOUT) this.#counts[c + C_TIMEOUT]++;
  }

  latency(now: number, ms: number): void {
    const i = this.#slot(now);
    this.#lat[i * BUCKETS + bucketOf(ms)]++;
    this.#counts[i * COUNTS + C_LAT]++;
    const x = i * EXTREMES;
    if (ms < this.#extremes[x]) this.#extremes[x] = ms;
    if (ms > this.#extremes[x + 1]) this.#extremes[x + 1] = ms;
  }

  ttft(now: number, ms: number): void {
    const i = this.#slot(now);
    this.#ttft[i * BUCKETS + bucketOf(ms)]++;
    this.#counts[i * COUNTS + C_TTFT]++;
    const x = i * EXTREMES + 2;
    if (ms < this.#extremes[x]) this.#extremes[x] = ms;
    if (ms > this.#extremes[x + 1]) this.#extremes[x + 1] = ms;
  }

  state(): RollingState {
    return { epochs: this.#epochs.slice(), counts: this.#counts.slice(), lat: this.#lat.slice(), ttft: this.#ttft.slice(), extremes: this.#extremes.slice() };
  }

  /** Several threads' recordings as one: each slot sums the states that hold its newest step. */
  static merged(states: readonly RollingState[]): Rolling {
    const r = new Rolling();
    for (let i = 0; i < SLOTS; i++) {
      let newest = -1;
      for (const st of states) if (st.epochs[i] > newest) newest = st.epochs[i];
      if (newest < 0) continue;
      r.#epochs[i] = newest;
      const x = i * EXTREMES;
      r.#extremes[x] = r.#extremes[x + 2] = Infinity;
      r.#extremes[x + 1] = r.#extremes[x + 3] = -Infinity;
      for (const st of states) {
        if (st.epochs[i] !== newest) continue;
        for (let k = i * COUNTS; k < (i + 1) * COUNTS; k++) r.#counts[k] += st.counts[k];
        for (let k = i * BUCKETS; k < (i + 1) * BUCKETS; k++) {
          r.#lat[k] += st.lat[k];
          r.#ttft[k] += st.ttft[k];
        }
        r.#extremes[x] = Math.min(r.#extremes[x], st.extremes[x]);
        r.#extremes[x + 1] = Math.max(r.#extremes[x + 1], st.extremes[x + 1]);
        r.#extremes[x + 2] = Math.min(r.#extremes[x + 2], st.extremes[x + 2]);
        r.#extremes[x + 3] = Math.max(r.#extremes[x + 3], st.extremes[x + 3]);
      }
    }
    return r;
  }

  /** Whether anything was recorded in the last SLOTS steps. */
  active(now: number): boolean {
    const epoch = Math.floor(now / STEP_MS);
    for (let i = 0; i < SLOTS; i++) if (this.#epochs[i] > epoch - SLOTS && this.#epochs[i] <= epoch) return true;
    return false;
  }

  /**
   * The last `slots` steps, the current partial one included. `since` is when
   * recording began: a window longer than that is measured over what there is.
   */
  window(now: number, slots: number, since: number): WindowSummary {
    const epoch = Math.floor(now / STEP_MS);
    sumLat.fill(0);
    sumTtft.fill(0);
    let requests = 0;
    let errors = 0;
    let timeouts = 0;
    let latN = 0;
    let ttftN = 0;
    let latMin = Infinity;
    let latMax = -Infinity;
    let ttftMin = Infinity;
    let ttftMax = -Infinity;
    for (let k = 0; k < slots; k++) {
      const e = epoch - k;
      if (e < 0) break;
      const i = e % SLOTS;
      if (this.#epochs[i] !== e) continue;
      const c = i * COUNTS;
      requests += this.#counts[c + C_REQ];
      errors += this.#counts[c + C_ERR];
      timeouts += this.#counts[c + C_TIMEOUT];
      const nl = this.#counts[c + C_LAT];
      const nt = this.#counts[c + C_TTFT];
      const x = i * EXTREMES;
      if (nl > 0) {
        latN += nl;
        addInto(sumLat, this.#lat, i * BUCKETS);
        if (this.#extremes[x] < latMin) latMin = this.#extremes[x];
        if (this.#extremes[x + 1] > latMax) latMax = this.#extremes[x + 1];
      }
      if (nt > 0) {
        ttftN += nt;
        addInto(sumTtft, this.#ttft, i * BUCKETS);
        if (this.#extremes[x + 2] < ttftMin) ttftMin = this.#extremes[x + 2];
        if (this.#extremes[x + 3] > ttftMax) ttftMax = this.#extremes[x + 3];
      }
    }
    // The window's span: whole steps behind the current one, plus the current one so far, but no longer than recording has run.
    const span = Math.max(1, Math.min((slots - 1) * STEP_MS + (now - epoch * STEP_MS), now - since));
    return {
      requests,
      errors,
      timeouts,
      success_rate: requests === 0 ? null : round((requests - errors) / requests, 10_000),
      rps: Math.round((requests * 1000_000) / span) / 1000,
      latency_ms: percentiles(sumLat, 0, latN, latMin, latMax),
      ttft_ms: percentiles(sumTtft, 0, ttftN, ttftMin, ttftMax),
    };
  }

  /** Each of the last SLOTS steps, oldest first, the current partial one last. */
  series(now: number): Series {
    const epoch = Math.floor(now / STEP_MS);
    const out: Series = { step_s: STEP_MS / 1000, requests: [], errors: [], latency_p50_ms: [], latency_p99_ms: [], ttft_p50_ms: [] };
    for (let k = SLOTS - 1; k >= 0; k--) {
      const e = epoch - k;
      const i = e >= 0 ? e % SLOTS : -1;
      if (i < 0 || this.#epochs[i] !== e) {
        out.requests.push(0);
        out.errors.push(0);
        out.latency_p50_ms.push(null);
        out.latency_p99_ms.push(null);
        out.ttft_p50_ms.push(null);
        continue;
      }
      const c = i * COUNTS;
      const x = i * EXTREMES;
      const nl = this.#counts[c + C_LAT];
      const nt = this.#counts[c + C_TTFT];
      out.requests.push(this.#counts[c + C_REQ]);
      out.errors.push(this.#counts[c + C_ERR]);
      out.latency_p50_ms.push(round(quantile(this.#lat, i * BUCKETS, nl, 0.5, this.#extremes[x], this.#extremes[x + 1])));
      out.latency_p99_ms.push(round(quantile(this.#lat, i * BUCKETS, nl, 0.99, this.#extremes[x], this.#extremes[x + 1])));
      out.ttft_p50_ms.push(round(quantile(this.#ttft, i * BUCKETS, nt, 0.5, this.#extremes[x + 2], this.#extremes[x + 3])));
    }
    return out;
  }
}

function addInto(sum: Uint32Array, from: Uint32Array, offset: number): void {
  for (let b = 0; b < BUCKETS; b++) sum[b] += from[offset + b];
}

function percentiles(counts: Uint32Array, offset: number, n: number, min: number, max: number): Percentiles {
  return {
    p50: round(quantile(counts, offset, n, 0.5, min, max)),
    p90: round(quantile(counts, offset, n, 0.9, min, max)),
    p95: round(quantile(counts, offset, n, 0.95, min, max)),
    p99: round(quantile(counts, offset, n, 0.99, min, max)),
  };
}

/** A window with nothing in it, for what has seen no traffic. */
export function emptyWindow(): WindowSummary {
  const none = (): Percentiles => ({ p50: null, p90: null, p95: null, p99: null });
  return { requests: 0, errors: 0, timeouts: 0, success_rate: null, rps: 0, latency_ms: none(), ttft_ms: none() };
}

/** A series with nothing in it. */
export function emptySeries(): Series {
  return {
    step_s: STEP_MS / 1000,
    requests: new Array(SLOTS).fill(0),
    errors: new Array(SLOTS).fill(0),
    latency_p50_ms: new Array(SLOTS).fill(null),
    latency_p99_ms: new Array(SLOTS).fill(null),
    ttft_p50_ms: new Array(SLOTS).fill(null),
  };
}
