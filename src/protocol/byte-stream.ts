import type { GatewayError } from "./errors.ts";

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
