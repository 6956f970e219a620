import { type AttemptRecord, GatewayError, isGatewayError } from "../protocol/errors.ts";
import { chatCodec } from "../codecs/index.ts";
import type { ChatRequest } from "../protocol/chat.ts";
import { FRONT_API, type Operation } from "../providers/types.ts";
import type { Hedging } from "../routing/hedge.ts";
import type { RetryBudget } from "../routing/retry-budget.ts";
import { backoffDelay } from "../routing/retry-policy.ts";
import { type Clock, type Random, sleep } from "../time/clock.ts";
import type { AttemptCall, AttemptFn } from "./attempt-chain.ts";
import type { Committed } from "./attempt.ts";
import type { PreparedTarget, Route, RouteTable } from "./routes.ts";

export interface FailoverDeps {
  clock: Clock;
  random: Random;
  routes: RouteTable;
  /** The composed attempt chain (attempt-chain.ts): failover knows none of its wrappers. */
  attempt: AttemptFn;
  /** Admits retries and hedges (routing/retry-budget.ts); absent: all are admitted. */
  budget?: RetryBudget;
  /** When a slow attempt gets a second one beside it (routing/hedge.ts); absent: never. */
  hedge?: Hedging;
}

/** One client request as the failover loop sees it. */
export interface Call {
  requestId: string;
  passHeaders?: Record<string, string>;
  op: Operation;
  body: Record<string, unknown>;
  stream: boolean;
  /** Aborts on the client's disconnect or the total deadline. */
  signal: AbortSignal;
  deadline: number;
}

export interface FailoverResult {
  committed: Committed;
  target: PreparedTarget;
  attempts: AttemptRecord[];
}

interface TargetState {
  target: PreparedTarget;
  tried: number;
  notBefore: number;
  skipped: boolean;
  /** Times a wrapper passed it over without a network call (GatewayError.skipped); twice and it is done. */
  passes: number;
  /** When the wrapper that passed it over expects room (its Retry-After). */
  readyAt: number;
}

/** What one request has seen across its model and fallbacks. */
interface Run {
  attempts: AttemptRecord[];
  /** Attempts a wrapper turned away before any network call. */
  skips: GatewayError[];
  /** The last real failure, and the provider whose budget a retry after it draws on. */
  last?: GatewayError;
  blame?: string;
  /** A route whose every target is disabled. */
  disabled?: GatewayError;
  /** The request's first real attempt has been counted in its provider's budget. */
  counted: boolean;
  /** The retry after `last` has its budget. */
  admitted: boolean;
}

type Outcome = { state: TargetState; committed: Committed } | { state: TargetState; error: GatewayError };

/**
 * Runs a request across a route's targets and then its fallbacks. Client
 * errors end it at once; retryable failures move on after backoff. The
 * deadline (and the client's abort) arrive through `signal`.
 *
 * An attempt a wrapper passed over (`skipped`: an open breaker, a full
 * window) costs neither an attempt nor a backoff, and is revisited once after
 * the others. When nothing could be tried at all, the skip that clears
 * soonest is the answer, with its Retry-After. A retry needs its budget;
 * without one, the failure goes back as it is. A slow attempt may get a
 * hedge beside it, and the first to commit wins.
 */
export async function failover(deps: FailoverDeps, route: Route, call: Call): Promise<FailoverResult> {
  const run: Run = { attempts: [], skips: [], counted: false, admitted: false };
  const chain = [route];
  for (const name of route.fallbacks) {
    const fb = deps.routes.get(name);
    if (fb !== undefined) chain.push(fb);
  }
  for (const r of chain) {
    const result = await tryRoute(deps, r, call, run);
    if (result !== undefined) return result;
  }
  if (run.last !== undefined) throw withAttempts(run.last, run.attempts);
  if (run.skips.length > 0) throw withAttempts(noneTried(route, run.skips), run.attempts);
  if (run.disabled !== undefined) throw withAttempts(run.disabled, run.attempts);
  throw withAttempts(
    new GatewayError("SY_ERR_UPSTREAM_STATUS", `no target of model "${route.name}" could be tried before the deadline`, { retryable: true }),
    run.attempts,
  );
}

/** Resolves with the answer, or undefined once the route is used up; throws what must end the request. */
async function tryRoute(deps: FailoverDeps, route: Route, call: Call, run: Run): Promise<FailoverResult | undefined> {
  const { clock } = deps;
  const { requestId, op, body, stream, signal, deadline, passHeaders } = call;
  let decoded: ChatRequest | undefined;
  // Decoded into the internal contract at most once per request, and only when a target speaks another API.
  const internal = () => (decoded ??= chatCodec(FRONT_API[op]!).decodeRequest!(body));
  const states: TargetState[] = route.order({ random: deps.random, stream }).map((target) => ({
    target,
    tried: 0,
    notBefore: 0,
    skipped: false,
    passes: 0,
    readyAt: 0,
  }));
  if (states.length === 0) {
    run.disabled ??= new GatewayError("SY_ERR_DISABLED", `every target of model "${route.name}" is disabled`, { retryable: true });
    return undefined;
  }

  /** One attempt, its record kept (unless a hedge cancelled it, which keeps its own); never rejects. */
  const attemptOn = async (state: TargetState, on: AbortSignal): Promise<Outcome> => {
    const started = clock.now();
    const a: AttemptCall = { requestId, op, body, internal, stream, target: state.target, signal: on, passHeaders };
    let outcome: Outcome;
    try {
      outcome = { state, committed: await deps.attempt(a) };
    } catch (err) {
      outcome = { state, error: toGatewayError(err, on) };
    }
    if ("error" in outcome && outcome.error.skipped === true && outcome.error.retryable) return outcome;
    if (on.aborted && isGatewayError(on.reason) && on.reason.code === "SY_ERR_HEDGE_CANCELLED") return outcome;
    countFirst(deps, run, state);
    const durationMs = clock.now() - started;
    const label = state.target.label;
    if ("committed" in outcome) run.attempts.push({ target: label, status: outcome.committed.status, message: "ok", durationMs });
    else run.attempts.push({ target: label, status: outcome.error.status, code: outcome.error.code, message: outcome.error.message, durationMs });
    return outcome;
  };

  let passedOver = false;
  for (let n = 0; n < route.retry.attempts; ) {
    let state: TargetState | undefined;
    let wait = 0;
    // An untried target first; then one passed over once, soonest ready first (its wrappers now wait for room);
    // a failed one again only when none is left.
    for (;;) {
      state = states.find((s) => s.tried === 0 && s.passes === 0 && !s.skipped);
      if (state === undefined) {
        state = soonest(states);
        if (state !== undefined) {
          wait = 0;
          break;
        }
        state = states.find((s) => !s.skipped);
      }
      if (state === undefined) break;
      const now = clock.now();
      // A target passed over cost no time, so the backoff waited before it still stands.
      wait = n === 0 || passedOver ? 0 : backoffDelay(route.retry, n, deps.random);
      const cooling = state.notBefore - now;
      if (cooling > wait) wait = cooling;
      if (now + wait < deadline) break;
      if (cooling > 0) {
        // Its Retry-After does not fit the deadline: skip it, try the others.
        state.skipped = true;
        continue;
      }
      state = undefined;
      break;
    }
    if (state === undefined) return undefined;
    if (run.last !== undefined && !run.admitted) {
      // A retry: decided before the backoff, so a spent budget answers at once. An upstream's 429 asks for
      // less load on that target, not for none anywhere: moving to a target not yet tried is no retry of the
      // failing call and costs no budget, so a rate-limited target never fails a request a healthy one can serve.
      const elsewhere = run.last.status === 429 && state.tried === 0;
      if (!elsewhere && deps.budget !== undefined && !(await deps.budget.retry(run.blame!))) throw budgetSpent(run);
      run.admitted = true;
    }
    if (wait > 0) await sleep(clock, wait, signal);
    const hedgeMs = n + 1 < route.retry.attempts ? deps.hedge?.delay(route.name, state.target.label, stream) : undefined;
    const outcomes = hedgeMs === undefined ? [await attemptOn(state, signal)] : await hedged(deps, run, states, state, hedgeMs, signal, attemptOn);
    for (const o of outcomes) {
      if ("committed" in o) return { committed: o.committed, target: o.state.target, attempts: run.attempts };
      const e = o.error;
      if (e.skipped === true && e.retryable) {
        // Not tried: no attempt spent, no backoff; it is revisited once after the others.
        run.skips.push(e);
        passedOver = true;
        o.state.passes++;
        if (o.state.passes > 1) o.state.skipped = true;
        o.state.readyAt = clock.now() + (e.retryAfterMs ?? 0);
        continue;
      }
      if (!e.retryable) throw withAttempts(e, run.attempts);
      passedOver = false;
      n++;
      run.last = e;
      run.blame = o.state.target.provider.config.name;
      run.admitted = false;
      o.state.tried++;
      if (e.retryAfterMs !== undefined) o.state.notBefore = clock.now() + e.retryAfterMs;
    }
  }
  return undefined;
}

/** A target passed over once and not yet revisited, the one expecting room soonest. */
function soonest(states: TargetState[]): TargetState | undefined {
  let best: TargetState | undefined;
  for (const s of states) {
    if (s.passes !== 1 || s.tried !== 0 || s.skipped) continue;
    if (best === undefined || s.readyAt < best.readyAt) best = s;
  }
  return best;
}

/** The request's first real attempt counts in its provider's retry budget. */
function countFirst(deps: FailoverDeps, run: Run, state: TargetState): void {
  if (run.counted) return;
  run.counted = true;
  deps.budget?.request(state.target.provider.config.name);
}

interface Racer {
  state: TargetState;
  ac: AbortController;
  outcome: Promise<Outcome>;
  started: number;
}

/**
 * Runs `first`, and when it has not committed after `afterMs`, a hedge on
 * another untried target beside it (budget permitting). The first to commit
 * wins and the other is aborted, its reason saying why. Resolves with the
 * outcomes that decide what happens next: the winner alone, or every
 * failure (a hedge that was passed over among them).
 */
async function hedged(
  deps: FailoverDeps,
  run: Run,
  states: TargetState[],
  first: TargetState,
  afterMs: number,
  signal: AbortSignal,
  attemptOn: (state: TargetState, on: AbortSignal) => Promise<Outcome>,
): Promise<Outcome[]> {
  const { clock } = deps;
  const racers: Racer[] = [];
  const start = (state: TargetState) => {
    const ac = new AbortController();
    racers.push({ state, ac, outcome: attemptOn(state, AbortSignal.any([signal, ac.signal])), started: clock.now() });
  };
  start(first);
  let timer: unknown;
  const due = new Promise<"due">((resolve) => {
    timer = clock.setTimeout(() => resolve("due"), afterMs);
  });
  const early = await Promise.race([racers[0].outcome, due]);
  clock.clearTimeout(timer);
  if (early !== "due") return [early];
  const now = clock.now();
  const other = states.find((s) => s !== first && s.tried === 0 && s.passes === 0 && !s.skipped && s.notBefore <= now);
  if (other === undefined || signal.aborted) return [await racers[0].outcome];
  if (deps.budget !== undefined && !(await deps.budget.retry(first.target.provider.config.name))) return [await racers[0].outcome];
  start(other);
  const failed: Outcome[] = [];
  const pending = new Set(racers.map((r) => r.outcome));
  while (pending.size > 0) {
    const o = await Promise.race(pending);
    pending.delete(racers.find((r) => r.state === o.state)!.outcome);
    if ("error" in o) {
      failed.push(o);
      // A client error ends the request: the other attempt is no longer wanted.
      if (o.error.skipped !== true && !o.error.retryable) break;
      continue;
    }
    for (const loser of racers) {
      if (loser.state === o.state || !pending.has(loser.outcome)) continue;
      cancel(loser, o.state.target.label, run, clock.now());
    }
    return [o];
  }
  for (const r of racers) if (pending.has(r.outcome)) cancel(r, undefined, run, clock.now());
  return failed;
}

/** Aborts a racer that lost and records why; its own outcome is not recorded (see attemptOn). */
function cancel(racer: Racer, winner: string | undefined, run: Run, now: number): void {
  const why = winner === undefined ? "the request ended with another attempt's error" : `hedged: ${winner} answered first`;
  const reason = new GatewayError("SY_ERR_HEDGE_CANCELLED", `${racer.state.target.label} was cancelled: ${why}`);
  racer.ac.abort(reason);
  const record = { target: racer.state.target.label, code: reason.code, message: reason.message, durationMs: now - racer.started };
  // Before the winner's record, so the last one is always the attempt that answered.
  if (winner === undefined) run.attempts.push(record);
  else run.attempts.splice(run.attempts.length - 1, 0, record);
  // A stream it committed to after all is closed: nobody will read it.
  void racer.outcome.then((o) => {
    if ("committed" in o) o.committed.rest?.return?.()?.catch(() => {});
  });
}

/** When nothing could be tried: the skip that clears soonest decides the code and Retry-After; the message names them all. */
function noneTried(route: Route, skips: GatewayError[]): GatewayError {
  let soonestSkip = skips[0];
  for (const s of skips) if ((s.retryAfterMs ?? Infinity) < (soonestSkip.retryAfterMs ?? Infinity)) soonestSkip = s;
  const reasons = [...new Set(skips.map((s) => s.message))].join("; ");
  const err = new GatewayError(soonestSkip.code, `no target of model "${route.name}" could be tried: ${reasons}`, { status: soonestSkip.status });
  if (soonestSkip.retryAfterMs !== undefined) err.retryAfterMs = soonestSkip.retryAfterMs;
  if (soonestSkip.upstream !== undefined) err.upstream = soonestSkip.upstream;
  return err;
}

function budgetSpent(run: Run): GatewayError {
  const e = run.last!;
  e.message += ` (not retried: the retry budget of provider "${run.blame}" is spent)`;
  return withAttempts(e, run.attempts);
}

function toGatewayError(err: unknown, signal: AbortSignal): GatewayError {
  if (signal.aborted && isGatewayError(signal.reason)) return signal.reason;
  if (isGatewayError(err)) return err;
  return new GatewayError("SY_ERR_INTERNAL", err instanceof Error ? err.message : String(err), { cause: err });
}

function withAttempts(err: GatewayError, attempts: AttemptRecord[]): GatewayError {
  err.attempts = attempts;
  return err;
}
