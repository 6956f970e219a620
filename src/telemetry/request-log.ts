import { type CacheAnswer, observeGateway, type RequestEnd } from "./channels.ts";
import type { Logger } from "./log.ts";

/** What one request's log line holds. */
export interface RequestLine {
  reqId: string;
  op?: string;
  model: string;
  /** "provider/model" that answered last; absent when no attempt was made. */
  target?: string;
  status: number;
  /** The catalogue code when it failed. */
  code?: string;
  attempts: number;
  stream: boolean;
  /** Arrival to the end of the answer (of the stream, for streams). */
  latency_ms: number;
  /** Streams: arrival to the first event. */
  ttft_ms?: number;
  tokens_in?: number;
  tokens_out?: number;
  /** With the response cache on: miss, refresh or bypass (hits have lines of their own). */
  cache?: string;
}

const ms = (v: number) => Math.round(v * 10) / 10;

/** The log line of one request. */
export function requestLine(e: RequestEnd): RequestLine {
  const line: RequestLine = {
    reqId: e.requestId,
    op: e.op,
    model: e.model,
    target: e.target,
    status: e.status,
    code: e.code,
    attempts: e.attempts,
    stream: e.stream,
    latency_ms: ms(e.durationMs),
  };
  if (e.stream && e.ttfbMs !== undefined) line.ttft_ms = ms(e.ttfbMs);
  if (e.usage !== undefined) {
    line.tokens_in = e.usage.inputTokens;
    line.tokens_out = e.usage.outputTokens;
  }
  return line;
}

/**
 * Logs one line per request of `gateway` when it ends: failures at warn (a
 * client that went away is not a failure of the gateway), the rest at info.
 * With the response cache on, a request it sent upstream says how (`cache`:
 * miss, refresh, bypass), and one it answered without an upstream call of
 * its own (a hit, or one that shared another's call) gets its line when the
 * cache takes it, as those make no request events. Nothing is built for a
 * level that is off. Returns the unsubscribe function.
 */
export function logRequests(log: Logger, gateway: object): () => void {
  const onEnd = (e: RequestEnd) => {
    const cache = e.cache;
    const failed = e.code !== undefined && e.code !== "SY_ERR_CLIENT_ABORT";
    if (!failed && log.isLevelEnabled?.("info") === false) return;
    const line = requestLine(e);
    if (cache !== undefined) line.cache = cache;
    if (failed) log.warn(line, e.message ?? "request failed");
    else log.info(line, "request");
  };
  const onCache = (c: CacheAnswer) => {
    // A request the cache sent upstream gets its line at its end, which says how (RequestEnd.cache).
    if (c.status !== "hit" && !c.coalesced) return;
    if (log.isLevelEnabled?.("info") === false) return;
    const line: CachedLine = { reqId: c.requestId, op: c.op, model: c.model, cache: c.status };
    if (c.coalesced) line.coalesced = true;
    log.info(line, c.coalesced ? "request (shared an identical request's upstream call)" : "request (answered from the cache)");
  };
  return observeGateway(gateway, { requestEnd: onEnd, cacheAnswer: onCache });
}

/** The line of a request the cache answered without an upstream call of its own. */
interface CachedLine {
  reqId: string;
  op: string;
  model: string;
  cache: string;
  coalesced?: true;
}
