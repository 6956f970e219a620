import type { AttemptRecord } from "../protocol/errors.ts";

/** Per-request context the caller (HTTP front or in-process client) passes in. */
export interface RequestContext {
  requestId: string;
  /** Aborts when the client goes away; the upstream call is aborted with it. */
  signal?: AbortSignal;
  /**
   * Alternatively, a controller the caller aborts when the client goes away
   * (with a GatewayError reason) and that the engine aborts on the deadline:
   * one controller per request instead of two on the hot path.
   */
  controller?: AbortController;
}

/** Where a front wants a stream's bytes written: a client socket, in practice. */
export interface ByteSink {
  /** Returns false when the sink is full; the writer then waits for `onDrain`. */
  write(chunk: Uint8Array): boolean;
  /** Ends the output; harmless when already ended or closed. */
  end(): void;
  /** True once the client has gone. */
  readonly closed: boolean;
  /** Calls `fn` once, when the sink can take more or has closed. */
  onDrain(fn: () => void): void;
  /** Calls `fn` once if the client goes away before `end()`. */
  onClose(fn: () => void): void;
}

/** A streamed answer's bytes: iterate them, or have them pushed into a sink (faster, no promise per chunk). */
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
}
