/**
 * The shapes the cache works with. The cache sits below the engine, so it
 * states what it needs of an engine result here; the engine's GatewayResult,
 * ByteSink and ByteStream (engine/types.ts) have the same shape.
 */
import type { AttemptRecord, GatewayError } from "../protocol/errors.ts";
import type { TraceHeaders } from "../telemetry/channels.ts";

export interface Sink {
  write(chunk: Uint8Array): boolean;
  end(): void;
  fail(err: GatewayError): void;
  readonly closed: boolean;
  onDrain(fn: () => void): void;
  onClose(fn: () => void): void;
}

export interface EventStream extends AsyncIterable<Uint8Array> {
  pipeTo(sink: Sink): Promise<void>;
}

/** How the cache took part in an answer: what `x-switchyard-cache` says. */
export type CacheStatus = "hit" | "miss" | "bypass" | "refresh";

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
  /** The client's Cache-Control header, when it sent one. */
  cacheControl?: string;
  /** The client's x-switchyard-cache-ttl header (a duration such as 30s or 1h, or seconds). */
  cacheTtl?: string;
  /** Who made the request (the gateway key), for `cache.scope: key`: hashed into the cache key, never stored or shown. */
  tenant?: string;
}

/** The engine's own way of serving a request, which the cache calls on a miss. */
export type Serve = (op: string, body: Record<string, unknown>, req: CacheRequest) => Promise<Answer>;
