import type { CacheInfo } from "../cache/types.ts";
import type { AttemptRecord, GatewayError } from "../protocol/errors.ts";
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
  /** The client's Cache-Control header, read only when the cache or coalescing is on. */
  cacheControl?: string;
  /** The client's x-switchyard-cache-ttl header. */
  cacheTtl?: string;
  /** The gateway key that made the request, for `cache.scope: key`: hashed into the cache key, never stored or shown. */
  tenant?: string;
  /**
   * The client's W3C trace context, the parent of the request's span. Only
   * read from the client (and only used) while tracing is on (Engine.tracing).
   */
  trace?: TraceHeaders;
}

/** Where a front wants a stream's bytes written: a client socket, in practice. */
export interface ByteSink {
  /** Returns false when the sink is full; the writer then waits for `onDrain`. */
  write(chunk: Uint8Array): boolean;
  /** Ends the output; harmless when already ended or closed. */
  end(): void;
  /**
   * Ends the output with a failure, written as the front's API shapes a
   * stream's final error (OpenAI: one `data: {"error":…}` event); harmless
   * when already ended or closed. The engine has redacted it already.
   */
  fail(err: GatewayError): void;
  /** True once the client has gone. */
  readonly closed: boolean;
  /** Calls `fn` once, when the sink can take more or has closed. */
  onDrain(fn: () => void): void;
  /** Calls `fn` once if the client goes away before `end()`. */
  onClose(fn: () => void): void;
}

/**
 * A streamed answer's bytes, whole events only: have them pushed into a sink
 * (faster, no promise per chunk), or iterate them. Either way it is read once.
 *
 * Piped, a failure ends the sink through `fail`; iterated, the iterator
 * throws the `GatewayError` after the events before it. An iterator that is
 * let go (`return()`), the request's signal aborting, or no read for the
 * target's idle timeout ends the stream and aborts its upstream call.
 */
export interface ByteStream extends AsyncIterable<Uint8Array> {
  pipeTo(sink: ByteSink): Promise<void>;
}

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
