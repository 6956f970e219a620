import { type AttemptRecord, GatewayError, isGatewayError } from "../protocol/errors.ts";
import { chatCodec } from "../codecs/index.ts";
import type { ChatRequest } from "../protocol/chat.ts";
import { FRONT_API, type Operation } from "../providers/types.ts";
import { orderTargets } from "../routing/plan.ts";
import { backoffDelay } from "../routing/retry-policy.ts";
import { type Clock, type Random, sleep } from "../time/clock.ts";
import type { AttemptFn } from "./attempt-chain.ts";
import type { Committed } from "./attempt.ts";
import type { PreparedTarget, Route, RouteTable } from "./routes.ts";

export interface FailoverDeps {
  clock: Clock;
  random: Random;
  routes: RouteTable;
  /** The composed attempt chain (attempt-chain.ts): failover knows none of its wrappers. */
  attempt: AttemptFn;
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

/**
 * Runs a request across a route's targets and then its fallbacks. Client
 * errors end it at once; retryable failures move on after backoff. The
 * deadline (and the client's abort) arrive through `signal`.
 */
export async function failover(deps: FailoverDeps, route: Route, call: Call): Promise<FailoverResult> {
  const attempts: AttemptRecord[] = [];
  let last: GatewayError | undefined;
  const chain = [route];
  for (const name of route.fallbacks) {
    const fb = deps.routes.get(name);
    if (fb !== undefined) chain.push(fb);
  }
  for (const r of chain) {
    try {
      return await tryRoute(deps, r, call, attempts);
    } catch (err) {
      const e = toGatewayError(err, call.signal);
      if (!e.retryable) throw withAttempts(e, attempts);
      last = e;
    }
  }
  throw withAttempts(last ?? new GatewayError("SY_ERR_INTERNAL", "no target was attempted"), attempts);
}

async function tryRoute(deps: FailoverDeps, route: Route, call: Call, attempts: AttemptRecord[]): Promise<FailoverResult> {
  const { clock } = deps;
  const { requestId, op, body, stream, signal, deadline, passHeaders } = call;
  let decoded: ChatRequest | undefined;
  // Decoded into the internal contract at most once per request, and only when a target speaks another API.
  const internal = () => (decoded ??= chatCodec(FRONT_API[op]!).decodeRequest!(body));
  const states: TargetState[] = orderTargets(route.plan, deps.random).map((target) => ({
    target,
    tried: 0,
    notBefore: 0,
    skipped: false,
    passes: 0,
    readyAt: 0,
  }));
  if (states.length === 0) {
    throw new GatewayError("SY_ERR_DISABLED", `every target of model "${route.name}" is disabled`, { retryable: true });
  }
  let last: GatewayError | undefined;
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
    if (state === undefined) break;
    if (wait > 0) await sleep(clock, wait, signal);
    const started = clock.now();
    try {
      const committed = await deps.attempt({ requestId, op, body, internal, stream, target: state.target, signal, passHeaders });
      attempts.push({ target: state.target.label, status: committed.status, message: "ok", durationMs: clock.now() - started });
      return { committed, target: state.target, attempts };
    } catch (err) {
      const e = toGatewayError(err, signal);
      if (e.skipped === true && e.retryable) {
        // Not tried: no attempt spent, no backoff; it is revisited once after the others.
        last = e;
        passedOver = true;
        state.passes++;
        if (state.passes > 1) state.skipped = true;
        state.readyAt = clock.now() + (e.retryAfterMs ?? 0);
        continue;
      }
      passedOver = false;
      n++;
      const durationMs = clock.now() - started;
      attempts.push({ target: state.target.label, status: e.status, code: e.code, message: e.message, durationMs });
      if (!e.retryable) throw e;
      last = e;
      state.tried++;
      if (e.retryAfterMs !== undefined) state.notBefore = clock.now() + e.retryAfterMs;
    }
  }
  throw last ?? new GatewayError("SY_ERR_UPSTREAM_STATUS", `no target of model "${route.name}" could be tried before the deadline`, { retryable: true });
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

function toGatewayError(err: unknown, signal: AbortSignal): GatewayError {
  if (signal.aborted && isGatewayError(signal.reason)) return signal.reason;
  if (isGatewayError(err)) return err;
  return new GatewayError("SY_ERR_INTERNAL", err instanceof Error ? err.message : String(err), { cause: err });
}

function withAttempts(err: GatewayError, attempts: AttemptRecord[]): GatewayError {
  err.attempts = attempts;
  return err;
}
