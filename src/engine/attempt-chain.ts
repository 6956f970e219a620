import type { ChatRequest } from "../protocol/chat.ts";
import type { Operation } from "../providers/types.ts";
import type { Committed } from "./attempt.ts";
import type { PreparedTarget } from "./routes.ts";

/** One upstream attempt as the chain sees it. */
export interface AttemptCall {
  requestId: string;
  op: Operation;
  /** The client's body, in its own API. */
  body: Record<string, unknown>;
  /** The same request in the internal contract, decoded once per request and only when a target needs translating. */
  internal: () => ChatRequest;
  /** Client headers for an upstream of the client's own API (see RequestContext). */
  passHeaders?: Record<string, string>;
  /** Trace context headers (traceparent, tracestate) for the upstream; set by the tracing wrapper, only when tracing is on. */
  traceHeaders?: Record<string, string>;
  /** Which of the provider's keys to use (provider.keyHeaders); 0 unless a key wrapper chooses. */
  keyIndex?: number;
  stream: boolean;
  target: PreparedTarget;
  /** Aborts on the client's disconnect or the request's deadline. */
  signal: AbortSignal;
}

/** Sends one attempt; resolves once its response is committed to, rejects with a GatewayError. */
export type AttemptFn = (call: AttemptCall) => Promise<Committed>;

/**
 * A wrapper around the next attempt function: undici's interceptor shape
 * (`dispatch => (opts, handler) => …`). Breakers, ejection, concurrency,
 * rate windows, hedging and metrics are each one of these, with their own
 * state and clock; failover only calls the composed chain.
 */
export type AttemptWrapper = (next: AttemptFn) => AttemptFn;

/** `wrappers[0]` is the outermost: it sees the call first and the outcome last. */
export function composeAttempt(inner: AttemptFn, wrappers: readonly AttemptWrapper[]): AttemptFn {
  let fn = inner;
  for (let i = wrappers.length - 1; i >= 0; i--) fn = wrappers[i](fn);
  return fn;
}
