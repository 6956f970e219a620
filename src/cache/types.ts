/**
 * The shapes the cache works with. The cache sits below the engine, so it
 * states what it needs of an engine result here (the engine's GatewayResult
 * has the same shape); streams are the contract both share
 * (protocol/byte-stream.ts).
 */
import type { AttemptRecord } from "../protocol/errors.ts";
import type { TraceHeaders } from "../telemetry/channels.ts";

/** The engine's stream contract (protocol/byte-stream.ts), under the names the cache uses. */
export type { ByteSink as Sink, ByteStream as EventStream } from "../protocol/byte-stream.ts";
import type { ByteStream as EventStream } from "../protocol/byte-stream.ts";

/** How the cache took part in an answer: what `x-switchyard-cache` says. */
export type CacheStatus = "hit" | "miss" | "bypass" | "refresh";

/** How the cache took part in a request it sent upstream. */
export type SentStatus = Exclude<CacheStatus, "hit">;

export interface CacheInfo {
  status: CacheStatus;
  /** A hit's age, in whole seconds. */
  age?: number;
}

export interface Answer {
  status: number;
  contentType: string;
  target: string;
  attempts: AttemptRecord[];
  body?: Buffer;
  stream?: EventStream;
  cache?: CacheInfo;
}

/** What a caller passes about one request, beyond its body. */
export interface CacheRequest {
  requestId: string;
  passHeaders?: Record<string, string>;
  /** The client's trace context (only while tracing is on): a miss's upstream call carries it on. */
  trace?: TraceHeaders;
  signal?: AbortSignal;
  controller?: AbortController;
  /**
   * The request body's bytes as the client sent them, when the cache or
   * coalescing is on and the front has them: lookups are confirmed against
   * them (without them, the cache serialises the body itself).
   */
  raw?: Buffer;
  /** The client's Cache-Control header, when it sent one. */
  cacheControl?: string;
  /** The client's x-switchyard-cache-ttl header (a duration such as 30s or 1h, or seconds). */
  cacheTtl?: string;
  /** Set by the cache on a request it did not answer from memory (miss, refresh, bypass): what the front says if it fails, and what its end event says. */
  cacheStatus?: SentStatus;
  /** Who made the request (the gateway key), for `cache.scope: key`: hashed into the cache key, never stored or shown. */
  tenant?: string;
}

/** The engine's own way of serving a request, which the cache calls on a miss. */
export type Serve = (op: string, body: Record<string, unknown>, req: CacheRequest) => Promise<Answer>;
