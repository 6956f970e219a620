/**
 * What happens to requests, published on `node:diagnostics_channel`. Health,
 * logs and metrics subscribe; the request path only publishes, and builds a
 * message only when someone listens (`hasSubscribers`), so an unobserved
 * gateway pays one property read per event.
 *
 * Channels are process-wide, and several gateways may share a process (tests,
 * library users): every message carries `gateway`, an object identifying the
 * gateway that published it, for subscribers to filter on.
 */
import { channel } from "node:diagnostics_channel";
import type { GatewayConfig } from "../config/types.ts";
import type { Usage } from "../protocol/chat.ts";
import type { AttemptRecord } from "../protocol/errors.ts";

/** The W3C Trace Context a client sent (`traceparent`, `tracestate`), read only while tracing is on. */
export interface TraceHeaders {
  traceparent: string;
  tracestate?: string;
}

/** A request arrived and passed validation. */
export interface RequestStart {
  gateway: object;
  requestId: string;
  op: string;
  /** The public model name the client asked for. */
  model: string;
  stream: boolean;
  /** The client's trace context, when tracing is on and it sent one. */
  trace?: TraceHeaders;
}

/** A request is over: its whole answer was sent, or it failed, or (streams) its stream ended. */
export interface RequestEnd {
  gateway: object;
  requestId: string;
  model: string;
  stream: boolean;
  /** "provider/model" that answered, when one did. */
  target?: string;
  status: number;
  /** The catalogue code when the request failed (also for a stream that failed mid-way). */
  code?: string;
  /** The failure's message, already redacted. */
  message?: string;
  /** Token usage as the upstream reported it (whole answers, and streams that said), passthrough or translated. */
  usage?: Usage;
  attempts: number;
  durationMs: number;
  /** The client API's operation (chat, completions, embeddings, responses, messages). */
  op?: string;
  /**
   * From arrival until the answer was committed to and its first byte could
   * be sent: a stream's first event, or the whole answer. Absent when no
   * attempt was committed to.
   */
  ttfbMs?: number;
  /** The request's attempts, in order (the array itself, not a copy): retries and hedges are read from it. */
  records?: readonly AttemptRecord[];
  /** How the response cache sent this request upstream (miss, refresh, bypass), when it is on. */
  cache?: CacheAnswer["status"];
}

/** One upstream attempt begins. */
export interface AttemptStart {
  gateway: object;
  requestId: string;
  target: string;
  provider: string;
}

/**
 * An attempt ended: it failed (`error`), or it was committed to. A committed
 * stream goes on after this: its end is a StreamEnd.
 */
export interface AttemptEnd {
  gateway: object;
  requestId: string;
  target: string;
  provider: string;
  status?: number;
  /** Set when the attempt failed; its message is already redacted. */
  error?: { code: string; message: string; retryable: boolean };
  /** The response is a stream that is still being relayed. */
  streaming: boolean;
  durationMs: number;
}

/** A committed stream ended, cleanly or not. */
export interface StreamEnd {
  gateway: object;
  requestId: string;
  target: string;
  provider: string;
  completed: boolean;
  /** Set when it did not complete; its message is already redacted. */
  error?: { code: string; message: string };
  /** Token usage, when the stream carried it. */
  usage?: Usage;
  durationMs: number;
}

/**
 * The response cache took a request (src/cache/): answered it from the cache
 * (`hit`, with no request events of its own), or sent it on (`miss`,
 * `refresh`, `bypass`), alone or sharing another's upstream call.
 */
export interface CacheAnswer {
  gateway: object;
  requestId: string;
  op: string;
  model: string;
  status: "hit" | "miss" | "bypass" | "refresh";
  /** It shared an upstream call already under way. */
  coalesced: boolean;
  /** The client's trace context, when tracing is on and it sent one. */
  trace?: TraceHeaders;
}

/** A gateway now serves a new config (a reload); requests under way finish on the old one. */
export interface ConfigReload {
  gateway: object;
  config: GatewayConfig;
}

/** Published by Engine.reload; observers built from the config (statistics) pick up new models and targets. */
export const configReload = channel("switchyard:config:reload");

export const channels = {
  requestStart: channel("switchyard:request:start"),
  requestEnd: channel("switchyard:request:end"),
  attemptStart: channel("switchyard:attempt:start"),
  attemptEnd: channel("switchyard:attempt:end"),
  streamEnd: channel("switchyard:stream:end"),
  cacheAnswer: channel("switchyard:cache:answer"),
} as const;

interface Handlers {
  requestStart?: (m: RequestStart) => void;
  requestEnd?: (m: RequestEnd) => void;
  attemptStart?: (m: AttemptStart) => void;
  attemptEnd?: (m: AttemptEnd) => void;
  streamEnd?: (m: StreamEnd) => void;
  cacheAnswer?: (m: CacheAnswer) => void;
}

/**
 * Subscribes to the events of one gateway (channels are process-wide; the
 * others' events are passed over). Returns the function that unsubscribes.
 */
export function observeGateway(gateway: object, handlers: Handlers): () => void {
  const subs: Array<[keyof typeof channels, (m: unknown) => void]> = [];
  for (const [name, handler] of Object.entries(handlers) as Array<[keyof Handlers, (m: never) => void]>) {
    const fn = (m: unknown) => {
      if ((m as { gateway: object }).gateway === gateway) handler(m as never);
    };
    channels[name].subscribe(fn);
    subs.push([name, fn]);
  }
  return () => {
    for (const [name, fn] of subs) channels[name].unsubscribe(fn);
  };
}
