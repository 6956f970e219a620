/**
 * What the limits read of an upstream attempt. The engine's attempt chain
 * (engine/attempt-chain.ts) sits above this layer, so the wrappers here are
 * written against the parts of its call and result they use; the engine's
 * AttemptCall and Committed have all of them.
 */
import type { ProviderConfig } from "../config/types.ts";
import type { ChatRequest, Usage } from "../protocol/chat.ts";
import type { Operation } from "../providers/types.ts";

export interface LimitedCall {
  requestId: string;
  op: Operation;
  /** The client's body; the same object for every attempt of one request. */
  body: Record<string, unknown>;
  /** The request in the internal contract, decoded on first use. */
  internal: () => ChatRequest;
  stream: boolean;
  target: { label: string; provider: { config: ProviderConfig } };
  /** The request's signal: one per request, aborted by the client's leaving or the deadline. */
  signal: AbortSignal;
}

export interface LimitedResult {
  /** Set for a committed stream, which goes on after the attempt resolves. */
  rest?: unknown;
  usage(): Usage | undefined;
  headers?: Record<string, string | string[] | undefined>;
}

export type LimitedFn<C, R> = (call: C) => Promise<R>;

/** An attempt wrapper (`next => call => …`), generic so that it fits the engine's chain as it is. */
export type LimitWrapper = <C extends LimitedCall, R extends LimitedResult>(next: LimitedFn<C, R>) => LimitedFn<C, R>;
