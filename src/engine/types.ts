import type { CacheInfo, SentStatus } from "../cache/types.ts";
import type { AttemptRecord } from "../protocol/errors.ts";
import type { TraceHeaders } from "../telemetry/channels.ts";

/** Per-request context the caller (HTTP front or in-process client) passes in. */
export interface RequestContext {
  requestId: string;
  /**
   * Client headers an upstream of the client's own API should see when the
   * request passes through (Anthropic's anthropic-version and anthropic-beta).
   * Never credentials; a translated request does not carry them.
   */
  passHeaders?: Record<string, string>;
  /** Aborts when the client goes away; the upstream call is aborted with it. */
  signal?: AbortSignal;
  /**
   * Alternatively, a controller the caller aborts when the client goes away
   * (with a GatewayError reason) and that the engine aborts on the deadline:
   * one controller per request instead of two on the hot path.
   */
  controller?: AbortController;
  /**
   * The request body's bytes as the client sent them, when the cache or
   * coalescing is on and the front has them: lookups are confirmed against
   * them (without them, the cache serialises the body itself).
   */
  raw?: Buffer;
  /** The client's Cache-Control header, read only when the cache or coalescing is on. */
  cacheControl?: string;
  /** The client's x-switchyard-cache-ttl header. */
  cacheTtl?: string;
  /** Set by the response cache on a request it did not answer from memory (miss, refresh, bypass): what the front says if it fails, and what its end event says. */
  cacheStatus?: SentStatus;
  /** The gateway key that made the request, for `cache.scope: key`: hashed into the cache key, never stored or shown. */
  tenant?: string;
  /**
   * The client's W3C trace context, the parent of the request's span. Only
   * read from the client (and only used) while tracing is on (Engine.tracing).
   */
  trace?: TraceHeaders;
}

export type { ByteSink, ByteStream } from "../protocol/byte-stream.ts";
import type { ByteStream } from "../protocol/byte-stream.ts";

/** What the engine hands back to a front: either a whole body or a byte stream. */
export interface GatewayResult {
  status: number;
  contentType: string;
  /** "provider/model" of the target that answered. */
  target: string;
  attempts: AttemptRecord[];
  body?: Buffer;
  stream?: ByteStream;
  /** What `x-switchyard-cache` says; absent when the cache and coalescing are off. */
  cache?: CacheInfo;
}
