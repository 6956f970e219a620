import { observeGateway, type RequestEnd } from "./channels.ts";
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
  /** hit, miss or bypass once a response cache exists; left out until then. */
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
 * Nothing is built for a level that is off. Returns the unsubscribe function.
 */
export function logRequests(log: Logger, gateway: object): () => void {
  const onEnd = (e: RequestEnd) => {
    const failed = e.code !== undefined && e.code !== "SY_ERR_CLIENT_ABORT";
    if (!failed && log.isLevelEnabled?.("info") === false) return;
    if (failed) log.warn(requestLine(e), e.message ?? "request failed");
    else log.info(requestLine(e), "request");
  };
  return observeGateway(gateway, { requestEnd: onEnd });
}
