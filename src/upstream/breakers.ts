import { DEFAULTS } from "../config/defaults.ts";
import type { BreakerSettings, ProviderConfig } from "../config/types.ts";
import { GatewayError } from "../protocol/errors.ts";
import type { Store } from "../state/store.ts";
import { Breaker, type BreakerView, type Pass } from "./breaker.ts";
import { streamVerdicts, verdicts, type Verdicts } from "./outcomes.ts";

/** What the breakers need to know of a target. */
export interface BreakerTarget {
  /** "provider/model": the breaker's identity, shared by every model that routes to it. */
  label: string;
  provider: { config: { name: string } };
  /** Its settings; false: none; undefined: the built-in defaults. */
  breaker?: BreakerSettings | false;
}

/** The passes one attempt holds, to be told how it ended. */
export interface Admission {
  target?: { breaker: Breaker; pass: Pass };
  provider?: { breaker: Breaker; pass: Pass };
}

/** admitNow's answer for a target without any breaker. */
export const NO_BREAKER = Symbol("no breaker");

const settingsOf = (s: BreakerSettings | false | undefined): BreakerSettings | undefined => (s === false ? undefined : (s ?? DEFAULTS.breaker));

/**
 * The breakers of one gateway: one per provider (can it be reached?) and one
 * per target (does this model answer?), their state in the Store under
 * `breaker:provider:NAME` and `breaker:target:PROVIDER/MODEL`. An attempt
 * passes only when both let it.
 */
export class Breakers {
  readonly #store: Store;
  readonly #now: () => number;
  readonly #providers = new Map<string, Breaker>();
  /** Per target as routed (settings may differ between models that share a target); weak, since direct routes come and go. */
  readonly #byTarget = new WeakMap<BreakerTarget, Breaker | null>();
  /** One breaker per configured target's label for the health report (not direct `provider/model` names, which clients choose freely). */
  readonly #labels = new Map<string, Breaker>();
  /** Called with a failure to record an outcome; the request goes on regardless. */
  readonly #onError: (err: unknown) => void;

  constructor(providers: Iterable<ProviderConfig>, store: Store, now: () => number, onError: (err: unknown) => void = () => {}) {
    this.#store = store;
    this.#now = now;
    this.#onError = onError;
    for (const p of providers) {
      const settings = settingsOf(p.breaker);
      if (settings !== undefined) this.#providers.set(p.name, new Breaker(`breaker:provider:${p.name}`, settings, store, now));
    }
  }

  /** Whether any target could have a breaker: a gateway without one leaves the wrapper out. */
  static anyConfigured(providers: Iterable<ProviderConfig>, targets: Iterable<{ breaker?: BreakerSettings | false }>): boolean {
    for (const p of providers) if (p.breaker !== false) return true;
    for (const t of targets) if (t.breaker !== false) return true;
    return false;
  }

  provider(name: string): Breaker | undefined {
    return this.#providers.get(name);
  }

  target(t: BreakerTarget): Breaker | undefined {
    let b = this.#byTarget.get(t);
    if (b === undefined) {
      const settings = settingsOf(t.breaker);
      b = settings === undefined ? null : new Breaker(`breaker:target:${t.label}`, settings, this.#store, this.#now);
      this.#byTarget.set(t, b);
    }
    return b ?? undefined;
  }

  /** Registers a configured target so the health report shows it. */
  know(t: BreakerTarget): void {
    const b = this.target(t);
    if (b !== undefined && !this.#labels.has(t.label)) this.#labels.set(t.label, b);
  }

  /**
   * admit() decided at once, where every breaker of `t` can answer at once
   * (see Breaker.passNow): an admission, the refusal to throw, NO_BREAKER
   * when `t` has none, or undefined to take the long way. Takes no probe, so
   * a refusal has nothing to give back.
   */
  admitNow(t: BreakerTarget): Admission | GatewayError | typeof NO_BREAKER | undefined {
    const pb = this.#providers.get(t.provider.config.name);
    const tb = this.target(t);
    if (pb === undefined && tb === undefined) return NO_BREAKER;
    let pp: Pass | undefined;
    let tp: Pass | undefined;
    try {
      if (pb !== undefined && (pp = pb.passNow()) === undefined) return undefined;
      if (tb !== undefined && (tp = tb.passNow()) === undefined) return undefined;
    } catch {
      return undefined;
    }
    const refused = refusal(pp, `provider "${t.provider.config.name}"`) ?? refusal(tp, `target ${t.label}`);
    if (refused !== undefined) return refused;
    const admission: Admission = {};
    if (pp !== undefined) admission.provider = { breaker: pb!, pass: pp };
    if (tp !== undefined) admission.target = { breaker: tb!, pass: tp };
    return admission;
  }

  /**
   * Lets an attempt on `t` through, or throws the skip error of the first
   * breaker that is open: no network call is made. A store that fails lets
   * the attempt through unwatched rather than failing the request.
   */
  async admit(t: BreakerTarget): Promise<Admission | undefined> {
    const pb = this.#providers.get(t.provider.config.name);
    const tb = this.target(t);
    if (pb === undefined && tb === undefined) return undefined;
    let admission: Admission;
    try {
      const [pp, tp] = await Promise.all([pb?.pass(), tb?.pass()]);
      admission = {};
      if (pb !== undefined && pp !== undefined) admission.provider = { breaker: pb, pass: pp };
      if (tb !== undefined && tp !== undefined) admission.target = { breaker: tb, pass: tp };
    } catch (err) {
      this.#onError(err);
      return undefined;
    }
    const refused = refusal(admission.provider?.pass, `provider "${t.provider.config.name}"`) ?? refusal(admission.target?.pass, `target ${t.label}`);
    if (refused === undefined) return admission;
    // A probe slot taken by one breaker while the other refused goes back unused.
    await this.record(admission, refused);
    throw refused;
  }

  /** Tells the breakers how an admitted attempt ended (`err` undefined: it was committed to). */
  async record(admission: Admission, err?: unknown, v = verdicts(err, admission.target?.breaker.settings.count429 ?? false)): Promise<void> {
    const { target, provider } = admission;
    try {
      await Promise.all([
        provider === undefined ? undefined : provider.breaker.record(provider.pass, v.provider),
        target === undefined ? undefined : target.breaker.record(target.pass, v.target),
      ]);
    } catch (e) {
      this.#onError(e);
    }
  }

  /**
   * Closes the breaker of a provider ("name") or of a configured target
   * ("provider/model"); false when it has none.
   */
  async reset(name: string): Promise<boolean> {
    const b = name.includes("/") ? this.#labels.get(name) : this.#providers.get(name);
    if (b === undefined) return false;
    await b.reset();
    return true;
  }

  /**
   * Tells the breakers how an admitted attempt ended, at once where they can;
   * the rest goes the long way. `stream`: a committed stream has ended, with
   * `err` as what broke it (see streamVerdicts).
   */
  recordSoon(admission: Admission, err?: unknown, stream = false): Promise<void> | undefined {
    const { target, provider } = admission;
    const count429 = target?.breaker.settings.count429 ?? false;
    const v: Verdicts = stream ? streamVerdicts(err, count429) : verdicts(err, count429);
    try {
      const pDone = provider === undefined || provider.breaker.recordNow(provider.pass, v.provider);
      const tDone = target === undefined || target.breaker.recordNow(target.pass, v.target);
      if (pDone && tDone) return undefined;
      return this.record({ provider: pDone ? undefined : provider, target: tDone ? undefined : target }, err, v);
    } catch (e) {
      this.#onError(e);
      return undefined;
    }
  }

  /** Breaker state per provider and per target, for /health/upstream. */
  async views(): Promise<{ providers: Map<string, BreakerView>; targets: Map<string, BreakerView> }> {
    const providers = new Map<string, BreakerView>();
    const targets = new Map<string, BreakerView>();
    await Promise.all([
      ...[...this.#providers].map(async ([name, b]) => providers.set(name, await b.view())),
      ...[...this.#labels].map(async ([label, b]) => targets.set(label, await b.view())),
    ]);
    return { providers, targets };
  }
}

function refusal(pass: Pass | undefined, what: string): GatewayError | undefined {
  if (pass?.kind !== "open") return undefined;
  const seconds = Math.ceil(pass.retryAfterMs / 1000);
  const why = pass.phase === "open" ? `circuit breaker open (${seconds} s to recovery)` : "circuit breaker half-open, its probes under way";
  const err = new GatewayError("SY_ERR_NO_HEALTHY_TARGET", `${what}: ${why}`, { retryable: true });
  err.skipped = true;
  err.retryAfterMs = pass.retryAfterMs;
  return err;
}
