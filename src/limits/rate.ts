import type { Limits } from "../config/types.ts";
import { GatewayError, isGatewayError } from "../protocol/errors.ts";
import { type Clock, sleep } from "../time/clock.ts";
import type { AdaptiveLimits } from "./adaptive.ts";
import type { TokenEstimates } from "./estimate.ts";
import type { RoughCount } from "./tokens.ts";
import { publishQueue } from "./events.ts";
import type { StreamEnds } from "./stream-ends.ts";
import type { LimitedCall, LimitedFn, LimitedResult, LimitWrapper } from "./types.ts";
import type { UpstreamQuotas } from "./upstream-quota.ts";
import type { RequestWaits } from "./waits.ts";
import type { RateWindows, Take, Window } from "./windows.ts";

const MINUTE = 60_000;

/** A provider's or a target's rate limits. */
export interface RateScope {
  /** `target:PROVIDER/MODEL` or `provider:NAME`: the key of its windows and of what it has learnt. */
  id: string;
  /** How messages name it. */
  what: string;
  limits: Limits;
}

/** What one target is held to: its own limits, then its provider's. */
export interface RatePlan {
  label: string;
  scopes: RateScope[];
  /** Some scope has a tpm limit, so requests are counted in tokens. */
  tokens: boolean;
  queueTimeout: number;
  /** The scope an upstream 429 lowers: the target's own limits when it has them, else its provider's. */
  adapts: RateScope;
  /** Requests waiting for room right now. */
  waiting: number;
}

export interface RateDeps {
  clock: Clock;
  gateway: object;
  windows: RateWindows;
  adaptive: AdaptiveLimits;
  quotas: UpstreamQuotas;
  estimates: TokenEstimates;
  waits: RequestWaits;
  ends: StreamEnds;
  /** The plan for a target, or undefined when neither it nor its provider has rate limits. */
  plan(label: string, provider: string): RatePlan | undefined;
}

interface Held {
  take: Take;
  tokens: boolean;
}

interface Refusal {
  waitMs: number;
  what: string;
}

interface ScopeWindow {
  key: string;
  /** The configured limit, before what the scope has learnt. */
  limit: number;
  windowMs: number;
  tokens: boolean;
  name: string;
}

/** A scope's windows, worked out once per scope. */
const scopeWindows = new WeakMap<RateScope, ScopeWindow[]>();

function windowsOf(scope: RateScope): ScopeWindow[] {
  let out = scopeWindows.get(scope);
  if (out !== undefined) return out;
  const { rpm, tpm, burst } = scope.limits;
  out = [];
  if (rpm !== undefined) {
    out.push({ key: `limits:${scope.id}:rpm`, limit: rpm, windowMs: MINUTE, tokens: false, name: "rpm" });
    // burst per the time rpm takes to admit that many: bursts are capped, the minute's rate unchanged.
    if (burst !== undefined) out.push({ key: `limits:${scope.id}:burst`, limit: burst, windowMs: Math.ceil((burst * MINUTE) / rpm), tokens: false, name: "burst" });
  }
  if (tpm !== undefined) out.push({ key: `limits:${scope.id}:tpm`, limit: tpm, windowMs: MINUTE, tokens: true, name: "tpm" });
  scopeWindows.set(scope, out);
  return out;
}

/** A window as it stands now: the scope's effective share of its limit. */
function current(scope: RateScope, w: ScopeWindow, adaptive: AdaptiveLimits): Window {
  const limit = adaptive.effective(scope.id, w.limit);
  // Nothing learnt (the common case): the scope's own window, with nothing allocated.
  return limit === w.limit ? w : { key: w.key, limit, windowMs: w.windowMs };
}

/**
 * Rate limits around an upstream attempt: requests and tokens per minute as
 * sliding windows in the Store, per target and per provider. A target whose
 * window is full is passed over (GatewayError.skipped) for another with room;
 * when failover comes back to it, the request waits for room within
 * queue_timeout, and past that gets SY_ERR_RATE_LIMITED with Retry-After.
 * Tokens are estimated before the call and settled against the usage the
 * upstream reports (for a stream, when it ends). An upstream 429 lowers the
 * effective limits and honours its Retry-After (adaptive.ts); the upstream's
 * own x-ratelimit-* headers are heeded (upstream-quota.ts).
 */
export function rateLimits(deps: RateDeps): LimitWrapper {
  const { clock, windows, adaptive, quotas, estimates, waits, ends } = deps;

  /** Before any window: what the upstream itself asked for; a refusal, or undefined when it lets the request go on. */
  const upstreamSays = (plan: RatePlan, tokens: number, now: number): Refusal | undefined => {
    const paused = adaptive.pausedFor(plan.label, now);
    if (paused > 0) return { waitMs: paused, what: `target "${plan.label}" (its upstream's Retry-After)` };
    const upstream = quotas.waitFor(plan.label, tokens, now);
    if (upstream > 0) return { waitMs: upstream, what: `target "${plan.label}" (its upstream's x-ratelimit headers)` };
    return undefined;
  };

  /** A window refused: the takes before it are given back. */
  const refused = (held: Held[], scope: RateScope, sw: ScopeWindow, w: Window, waitMs: number): Refusal => {
    for (const h of held) windows.giveBack(h.take.key, h.take.cost, h.take.windowMs);
    return { waitMs, what: `${scope.what} (${sw.name} ${w.limit})` };
  };

  /** Takes from every window of the plan, or none: the takes before a refusal are given back. */
  const tryAdmit = async (plan: RatePlan, tokens: number): Promise<Held[] | Refusal> => {
    // Without a bound the answer is always one.
    if (windows.immediate) return tryAdmitNow(plan, tokens)!;
    const no = upstreamSays(plan, tokens, clock.now());
    if (no !== undefined) return no;
    const held: Held[] = [];
    for (const scope of plan.scopes) {
      for (const sw of windowsOf(scope)) {
        const w = current(scope, sw, adaptive);
        const r = await windows.take(w, sw.tokens ? tokens : 1);
        if (typeof r === "number") return refused(held, scope, sw, w, r);
        held.push({ take: r, tokens: sw.tokens });
      }
    }
    quotas.spend(plan.label, tokens);
    return held;
  };

  /**
   * tryAdmit at once, with a store that answers at once. With `bound` (the
   * count is a rough estimate, and the exact one is at most `bound`), a token
   * window left with less room than the exact count might need is no answer:
   * the takes are given back and undefined says to count exactly.
   */
  const tryAdmitNow = (plan: RatePlan, tokens: number, bound?: number): Held[] | Refusal | undefined => {
    const no = upstreamSays(plan, tokens, clock.now());
    if (no !== undefined) return no;
    const held: Held[] = [];
    for (const scope of plan.scopes) {
      for (const sw of windowsOf(scope)) {
        const w = current(scope, sw, adaptive);
        const r = windows.takeNow(w, sw.tokens ? tokens : 1);
        if (typeof r === "number") return refused(held, scope, sw, w, r);
        held.push({ take: r, tokens: sw.tokens });
        if (sw.tokens && bound !== undefined && r.remaining < bound - tokens) {
          for (const h of held) windows.giveBack(h.take.key, h.take.cost, h.take.windowMs);
          return undefined;
        }
      }
    }
    quotas.spend(plan.label, tokens);
    return held;
  };

  const admit = async (plan: RatePlan, tokens: number, signal: AbortSignal): Promise<Held[]> => {
    let waitingSince: number | undefined;
    const queue = `rate:target:${plan.label}`;
    const publish = (event: "admit" | "timeout" | "leave") => {
      if (waitingSince === undefined) return;
      plan.waiting--;
      publishQueue(deps.gateway, queue, event, plan.waiting, clock.now() - waitingSince);
      waitingSince = undefined;
    };
    try {
      for (;;) {
        const r = await tryAdmit(plan, tokens);
        const now = clock.now();
        if (Array.isArray(r)) {
          publish("admit");
          return r;
        }
        if (waits.passOver(signal, plan.label)) throw limited(r);
        if (now + r.waitMs > waits.deadline(signal, now, plan.queueTimeout)) {
          publish("timeout");
          throw limited(r);
        }
        if (waitingSince === undefined) {
          waitingSince = now;
          plan.waiting++;
          publishQueue(deps.gateway, queue, "wait", plan.waiting);
        }
        await sleep(clock, r.waitMs, signal);
      }
    } finally {
      publish("leave");
    }
  };

  /** Tokens used above the estimate are taken after the fact; below it, given back. */
  const settle = (plan: RatePlan, estimate: number, used: number | undefined): Promise<void> | undefined => {
    if (used === undefined) return undefined;
    const diff = used - estimate;
    if (diff === 0) return undefined;
    let later: Promise<void> | undefined;
    for (const scope of plan.scopes) {
      for (const sw of windowsOf(scope)) {
        if (!sw.tokens) continue;
        if (diff < 0) windows.giveBack(sw.key, -diff, sw.windowMs);
        else if (windows.immediate) windows.addNow(current(scope, sw, adaptive), diff);
        else later = Promise.all([later, windows.add(current(scope, sw, adaptive), diff)]).then(() => {});
      }
    }
    return later;
  };

  /**
   * Once the answer is in: its usage settles the estimate. When the upstream
   * reports none, a rough estimate is replaced by the exact count of the
   * prompt, which is all that is known then.
   */
  const settled = (plan: RatePlan, call: LimitedCall, estimate: number, rough: boolean, result: LimitedResult): void => {
    try {
      const usage = result.usage();
      if (usage !== undefined) void settle(plan, estimate, usage.inputTokens + usage.outputTokens)?.catch(() => {});
      else if (rough) void estimates.of(call).then((exact) => settle(plan, estimate, exact)).catch(() => {});
    } catch {
      // Settling is bookkeeping: it never fails the request.
    }
  };

  /** The attempt, once admitted: what it used is settled however it ends. */
  const admitted = <C extends LimitedCall, R extends LimitedResult>(next: LimitedFn<C, R>, call: C, plan: RatePlan, tokens: number, held: Held[], rough = false): Promise<R> => {
    const label = plan.label;
    return next(call).then(
      (committed) => {
        quotas.update(label, committed.headers, clock.now());
        adaptive.succeeded(plan.adapts.id);
        if (plan.tokens) {
          if (committed.rest !== undefined) ends.hold(call.requestId, label, call.signal, () => settled(plan, call, tokens, rough, committed));
          else settled(plan, call, tokens, rough, committed);
        }
        return committed;
      },
      (err: unknown) => {
        const e = isGatewayError(err) ? err : undefined;
        // Not sent: nothing was used. Sent and failed: the request counts, its tokens were not spent.
        for (const h of held) if (e?.skipped === true || h.tokens) windows.giveBack(h.take.key, h.take.cost, h.take.windowMs);
        if (e !== undefined && e.status === 429 && e.code !== "SY_ERR_RATE_LIMITED") {
          adaptive.throttled(plan.adapts.id);
          if (e.retryAfterMs !== undefined) adaptive.pause(label, clock.now() + e.retryAfterMs);
        }
        throw err;
      },
    );
  };

  return <C extends LimitedCall, R extends LimitedResult>(next: LimitedFn<C, R>): LimitedFn<C, R> => {
    /** The long way: the count may need the tokenizer to load, and a full window a wait. */
    const waiting = async (call: C, plan: RatePlan): Promise<R> => {
      const tokens = plan.tokens ? await estimates.of(call) : 0;
      const held = await admit(plan, tokens, call.signal);
      return admitted(next, call, plan, tokens, held);
    };
    return (call: C) => {
      const plan = deps.plan(call.target.label, call.target.provider.config.name);
      if (plan === undefined) return next(call);
      // With a store that answers at once, a window with room costs no promise. A chat prompt not counted
      // yet is estimated roughly; the tokenizer runs only when a tpm window is too near its limit for the
      // rough figure to decide, and the upstream's usage settles the estimate either way.
      if (windows.immediate) {
        let tokens: number | undefined = 0;
        let rough: RoughCount | undefined;
        if (plan.tokens) {
          tokens = estimates.known(call);
          if (tokens === undefined) {
            rough = estimates.rough(call);
            tokens = rough !== undefined ? rough.estimate : estimates.now(call);
          }
        }
        if (tokens !== undefined) {
          const r = tryAdmitNow(plan, tokens, rough?.bound);
          if (Array.isArray(r)) return admitted(next, call, plan, tokens, r, rough !== undefined);
          // Refused (nothing taken), or too near the limit to tell: the long way counts exactly and decides.
        }
      }
      return waiting(call, plan);
    };
  };
}

function limited(r: Refusal): GatewayError {
  const err = new GatewayError("SY_ERR_RATE_LIMITED", `${r.what} is at its rate limit; room again in ${Math.ceil(r.waitMs)} ms`, { retryable: true });
  err.skipped = true;
  err.retryAfterMs = r.waitMs;
  return err;
}
