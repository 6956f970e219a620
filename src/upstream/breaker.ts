import type { BreakerSettings } from "../config/types.ts";
import { type ImmediateStore, immediateStore } from "../state/memory-store.ts";
import type { Store } from "../state/store.ts";

/** What a breaker's state looks like from outside. */
export type BreakerPhase = "closed" | "open" | "half_open";

/**
 * The state kept in the store under the breaker's key, as JSON. `gen` names
 * the current closed period: the failure counts live under keys that carry
 * it, so closing again starts them afresh without deleting anything.
 * Absent means closed, generation 0, never tripped.
 */
interface Stored {
  phase: BreakerPhase;
  gen: number;
  /** Trips since the breaker last stayed closed for max_recovery; sets the next recovery. */
  trips: number;
  /** open: when it lets probes through. */
  until?: number;
  /** half_open: when the round of probes began, which names its counters. */
  since?: number;
  /** closed after a trip: when it closed. */
  closedAt?: number;
}

/** The outcome of asking to pass. */
export type Pass =
  | { kind: "closed"; gen: number }
  | { kind: "probe"; raw: string; since: number }
  | { kind: "open"; retryAfterMs: number; phase: "open" | "half_open" };

export type Verdict = "success" | "failure" | "neutral";

export interface BreakerView {
  state: BreakerPhase;
  trips: number;
  /** open: ms until probes are let through. */
  retryInMs?: number;
}

const CLOSED_GEN0: Pass = { kind: "closed", gen: 0 };
/** A busy half-open breaker: its probes are out; how soon to look again. */
const PROBES_OUT_MS = 1000;

/**
 * One circuit breaker with its state in the Store, so that every instance
 * sharing the store shares it: closed → open after `consecutive` failures in
 * a row, or `failureRate` of at least `minRequests` attempts in `window`;
 * open for its recovery time (doubling with each repeated trip, up to
 * `maxRecovery`); then half-open, letting `halfOpenProbes` attempts through:
 * all succeed → closed, one fails → open again. Every change of phase is a
 * compare-and-set, so two instances never both make it.
 */
export class Breaker {
  readonly key: string;
  readonly #store: Store;
  readonly #settings: BreakerSettings;
  readonly #now: () => number;
  /** The store counts in whole milliseconds. */
  readonly #windowMs: number;
  /** The windows only count: a limit no count reaches, as large as the store can keep exact. */
  readonly #countLimit: number;
  #lastRaw: string | undefined;
  #last: Stored | undefined;
  /** The store, when it answers at once: the closed breaker's everyday calls then take no promise. */
  readonly #immediate: ImmediateStore | undefined;
  /** The closed period whose counter keys and pass are kept below, so an attempt builds no strings. */
  #gen = 0;
  #closed: Pass = CLOSED_GEN0;
  #attemptsKey: string;
  #failuresKey: string;
  #rowKey: string;

  constructor(key: string, settings: BreakerSettings, store: Store, now: () => number) {
    this.key = key;
    this.#store = store;
    this.#settings = settings;
    this.#now = now;
    this.#windowMs = Math.max(1, Math.round(settings.window));
    this.#countLimit = Math.floor(Number.MAX_SAFE_INTEGER / (2 * this.#windowMs));
    this.#immediate = immediateStore(store);
    this.#attemptsKey = `${key}:0:attempts`;
    this.#failuresKey = `${key}:0:failures`;
    this.#rowKey = `${key}:0:row`;
  }

  /** Points the kept keys and pass at closed period `gen`. */
  #period(gen: number): void {
    if (gen === this.#gen) return;
    this.#gen = gen;
    this.#closed = { kind: "closed", gen };
    const prefix = `${this.key}:${gen}`;
    this.#attemptsKey = `${prefix}:attempts`;
    this.#failuresKey = `${prefix}:failures`;
    this.#rowKey = `${prefix}:row`;
  }

  #closedPass(gen: number): Pass {
    this.#period(gen);
    return this.#closed;
  }

  /**
   * pass() answered at once, when the store can (the memory store) and the
   * breaker is closed, or open with time to go: undefined when it must go the
   * long way (half-open probes, a shared store).
   */
  passNow(): Pass | undefined {
    const store = this.#immediate;
    if (store === undefined) return undefined;
    const raw = store.getNow(this.key);
    if (raw === undefined) return CLOSED_GEN0;
    const s = this.#parse(raw);
    if (s.phase === "closed") return this.#closedPass(s.gen);
    const now = this.#now();
    if (s.phase === "open" && now < s.until!) return { kind: "open", retryAfterMs: s.until! - now, phase: "open" };
    return undefined;
  }

  /** record() done at once for a success while closed, when the store can; false when it must go the long way. */
  recordNow(pass: Pass, verdict: Verdict): boolean {
    // Nothing to record: an attempt that never passed, or one with no verdict while closed.
    if (pass.kind === "open" || (pass.kind === "closed" && verdict === "neutral")) return true;
    const store = this.#immediate;
    if (store === undefined || pass.kind !== "closed" || verdict !== "success") return false;
    this.#period(pass.gen);
    store.windowTakeNow(this.#attemptsKey, 1, this.#countLimit, this.#windowMs);
    store.resetCountNow(this.#rowKey);
    return true;
  }

  get settings(): BreakerSettings {
    return this.#settings;
  }

  /** Whether an attempt may go out, and as what; an open breaker answers when to come back. */
  async pass(): Promise<Pass> {
    let raw = await this.#store.get(this.key);
    if (raw === undefined) return CLOSED_GEN0;
    let s = this.#parse(raw);
    if (s.phase === "closed") return this.#closedPass(s.gen);
    const now = this.#now();
    if (s.phase === "open") {
      if (now < s.until!) return { kind: "open", retryAfterMs: s.until! - now, phase: "open" };
      const next = JSON.stringify({ phase: "half_open", gen: s.gen, trips: s.trips, since: now } satisfies Stored);
      if (!(await this.#store.compareAndSet(this.key, raw, next))) {
        // Another caller moved it first: decide on what it wrote.
        raw = await this.#store.get(this.key);
        if (raw === undefined) return CLOSED_GEN0;
        s = this.#parse(raw);
        if (s.phase === "closed") return { kind: "closed", gen: s.gen };
        if (s.phase === "open") return { kind: "open", retryAfterMs: Math.max(0, s.until! - now), phase: "open" };
      } else {
        raw = next;
        s = this.#parse(next);
      }
    }
    const taken = await this.#store.incr(this.#probesKey(s.since!), 1, this.#roundTtl());
    if (taken > this.#settings.halfOpenProbes) {
      await this.#store.incr(this.#probesKey(s.since!), -1, this.#roundTtl());
      return { kind: "open", retryAfterMs: PROBES_OUT_MS, phase: "half_open" };
    }
    return { kind: "probe", raw, since: s.since! };
  }

  /** Records how an attempt that passed ended. */
  async record(pass: Pass, verdict: Verdict): Promise<void> {
    if (pass.kind === "open") return;
    if (pass.kind === "closed") {
      if (verdict === "success") await this.#closedSuccess(pass.gen);
      else if (verdict === "failure") await this.#closedFailure(pass.gen);
      return;
    }
    const store = this.#store;
    if (verdict === "neutral") {
      // No verdict: the probe's place goes to the next attempt.
      await store.incr(this.#probesKey(pass.since), -1, this.#roundTtl());
      return;
    }
    const s = this.#parse(pass.raw);
    if (verdict === "failure") {
      await store.compareAndSet(this.key, pass.raw, this.#openState(s.gen, s.trips + 1));
      return;
    }
    const passed = await store.incr(`${this.key}:passed:${pass.since}`, 1, this.#roundTtl());
    if (passed >= this.#settings.halfOpenProbes) {
      const closed: Stored = { phase: "closed", gen: s.gen + 1, trips: s.trips, closedAt: this.#now() };
      await store.compareAndSet(this.key, pass.raw, JSON.stringify(closed));
    }
  }

  /**
   * Opens it now, whatever its phase (a failed health check ejects the
   * provider); an open one stays as it is.
   */
  async trip(): Promise<void> {
    for (let i = 0; i < 3; i++) {
      const raw = await this.#store.get(this.key);
      const s = raw === undefined ? undefined : this.#parse(raw);
      if (s?.phase === "open") return;
      const trips = s === undefined ? 1 : this.#tripsAfter(s);
      if (await this.#store.compareAndSet(this.key, raw, this.#openState(s?.gen ?? 0, trips))) return;
    }
  }

  /** Lets an open breaker probe at once (a passing health check readmits its provider). */
  async readmit(): Promise<void> {
    const raw = await this.#store.get(this.key);
    if (raw === undefined) return;
    const s = this.#parse(raw);
    if (s.phase !== "open") return;
    const next: Stored = { phase: "half_open", gen: s.gen, trips: s.trips, since: this.#now() };
    await this.#store.compareAndSet(this.key, raw, JSON.stringify(next));
  }

  /**
   * Closes it now, whatever its phase (an operator's reset): a new closed
   * period, so the failures counted so far no longer count, and no trips.
   */
  async reset(): Promise<void> {
    for (let i = 0; i < 3; i++) {
      const raw = await this.#store.get(this.key);
      if (raw === undefined) return;
      const s = this.#parse(raw);
      const closed: Stored = { phase: "closed", gen: s.gen + 1, trips: 0 };
      if (await this.#store.compareAndSet(this.key, raw, JSON.stringify(closed))) return;
    }
  }

  /** The state of every attempt is read again; the same text is parsed once. */
  #parse(raw: string): Stored {
    if (raw !== this.#lastRaw) {
      this.#lastRaw = raw;
      this.#last = JSON.parse(raw) as Stored;
    }
    return this.#last!;
  }

  async view(): Promise<BreakerView> {
    const raw = await this.#store.get(this.key);
    if (raw === undefined) return { state: "closed", trips: 0 };
    const s = this.#parse(raw);
    const view: BreakerView = { state: s.phase, trips: s.phase === "closed" ? 0 : s.trips };
    if (s.phase === "open") view.retryInMs = Math.max(0, s.until! - this.#now());
    return view;
  }

  async #closedSuccess(gen: number): Promise<void> {
    const store = this.#store;
    this.#period(gen);
    const rowKey = this.#rowKey;
    await store.windowTake(this.#attemptsKey, 1, this.#countLimit, this.#windowMs);
    await store.resetCount(rowKey);
  }

  async #closedFailure(gen: number): Promise<void> {
    const store = this.#store;
    const { consecutive, failureRate, minRequests } = this.#settings;
    const window = this.#windowMs;
    this.#period(gen);
    const [attemptsKey, failuresKey, rowKey] = [this.#attemptsKey, this.#failuresKey, this.#rowKey];
    const attempts = await store.windowTake(attemptsKey, 1, this.#countLimit, window);
    const failures = await store.windowTake(failuresKey, 1, this.#countLimit, window);
    const row = await store.incr(rowKey, 1, window);
    const seen = this.#countLimit - attempts.remaining;
    const failed = this.#countLimit - failures.remaining;
    const tripped = (consecutive > 0 && row >= consecutive) || (seen >= minRequests && failed >= failureRate * seen);
    if (!tripped) return;
    const raw = await store.get(this.key);
    const s = raw === undefined ? undefined : this.#parse(raw);
    // Only the closed period these counts belong to may be ended by them.
    if ((s?.gen ?? 0) !== gen || (s !== undefined && s.phase !== "closed")) return;
    await store.compareAndSet(this.key, raw, this.#openState(gen, s === undefined ? 1 : this.#tripsAfter(s)));
  }

  /** A trip soon after the last recovery counts as a repeat; one after a long quiet spell starts over. */
  #tripsAfter(s: Stored): number {
    if (s.phase !== "closed") return s.trips + 1;
    return s.closedAt !== undefined && this.#now() - s.closedAt < this.#cap() ? s.trips + 1 : 1;
  }

  #openState(gen: number, trips: number): string {
    const recovery = Math.min(this.#settings.recovery * 2 ** (trips - 1), this.#cap());
    return JSON.stringify({ phase: "open", gen, trips, until: this.#now() + recovery } satisfies Stored);
  }

  #cap(): number {
    return Math.max(this.#settings.maxRecovery, this.#settings.recovery);
  }

  #probesKey(since: number): string {
    return `${this.key}:probes:${since}`;
  }

  /** A round's counters outlive any round worth keeping, then fade. */
  #roundTtl(): number {
    return Math.ceil(this.#cap() + this.#windowMs);
  }
}
