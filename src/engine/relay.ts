import { GatewayError, isGatewayError } from "../protocol/errors.ts";
import { redactError } from "../protocol/redact.ts";
import { findErrorEvent, firstEventEnd, lastEventEnd } from "../protocol/sse.ts";
import type { Clock } from "../time/clock.ts";
import { classifyTransportError } from "../upstream/errors.ts";
import { type BodyListener, isPushBody } from "../upstream/transport.ts";
import type { ByteSink, ByteStream } from "./types.ts";

const EMPTY = Buffer.alloc(0);
const DONE: IteratorReturnResult<undefined> = { done: true, value: undefined };
/** The idle watch alone must not keep a process alive: the upstream call it watches does that. */
const BACKGROUND = { background: true } as const;

/** Called once per stream: completed, or not with the reason it ended (the failure, or why it was let go). */
export type OnEnd = (completed: boolean, reason?: GatewayError) => void;

export interface RelayOptions {
  /** The request's signal; its reason says who aborted it (client, deadline, shutdown). */
  signal: AbortSignal;
  /** "provider/model", for messages. */
  label: string;
  /** Credentials to redact from an upstream's own error event. */
  secrets: readonly string[];
  clock: Clock;
  /** A stream read by iteration and not read for this long is released; 0 for never. */
  idleMs: number;
  onEnd: OnEnd;
}

/** The client (or the in-process consumer) ended it: not the upstream's doing, and no error event is owed. */
function endedByClient(reason: GatewayError): boolean {
  return reason.code === "SY_ERR_CLIENT_ABORT" || reason.code === "SY_ERR_STREAM_ABANDONED";
}

/**
 * Holds back a trailing partial event, so that only whole events are released
 * and a mid-stream failure never lands in the middle of one.
 */
class EventFramer {
  #pending: Buffer = EMPTY;

  /** The bytes that end on an event boundary; empty when there are none yet. */
  push(next: Uint8Array): Buffer {
    const chunk = Buffer.isBuffer(next) ? next : Buffer.from(next.buffer, next.byteOffset, next.byteLength);
    const data = this.#pending.length === 0 ? chunk : Buffer.concat([this.#pending, chunk]);
    const end = lastEventEnd(data);
    if (end === data.length) {
      this.#pending = EMPTY;
      return data;
    }
    this.#pending = data.subarray(end);
    return end > 0 ? data.subarray(0, end) : EMPTY;
  }

  /** What is left when the upstream ends cleanly. */
  flush(): Buffer {
    const rest = this.#pending;
    this.#pending = EMPTY;
    return rest;
  }
}

/**
 * A committed stream on its way downstream. Bytes pass through untouched;
 * only whole events are released, and a stream ends at most once with a
 * failure: a transport error, or an error event the upstream sent itself
 * (whose text is redacted, and after which nothing more is relayed). The
 * engine hands the failure over as a `GatewayError`; the front writes it in
 * its own API's shape.
 *
 * A front that can take bytes as they come calls `pipeTo`: with an upstream
 * that pushes (the HTTP transport), each chunk goes from the socket callback
 * to the client socket without a promise in between, and costs one
 * `indexOf` to look for an error event. Iterating works too, for the
 * in-process client: the stream is then its own iterator, and it watches its
 * reader, since nothing else will notice one that stops reading.
 */
export class RelayStream implements ByteStream, AsyncIterator<Uint8Array> {
  readonly #rest: AsyncIterator<Uint8Array>;
  readonly #opts: RelayOptions;
  readonly #framer = new EventFramer();
  #head: Buffer | undefined;
  /** Read by iteration: whole events not yet handed out. */
  #ready: Buffer = EMPTY;
  #used = false;
  #ended = false;
  /** Thrown by the next read: why the stream failed or was released. */
  #failure: GatewayError | undefined;
  #watching = false;
  #reading = false;
  #lastRead = 0;
  #idleTimer: unknown;

  constructor(head: Buffer, rest: AsyncIterator<Uint8Array>, opts: RelayOptions) {
    this.#head = head;
    this.#rest = rest;
    this.#opts = opts;
  }

  [Symbol.asyncIterator](): AsyncIterator<Uint8Array> {
    this.#claim();
    this.#watch();
    return this;
  }

  /** Writes the stream into `sink` with backpressure; resolves once it has ended either way. */
  pipeTo(sink: ByteSink): Promise<void> {
    this.#claim();
    const rest = this.#rest;
    if (!isPushBody(rest)) return this.#pump(sink);
    const { signal, label } = this.#opts;
    const framer = this.#framer;
    return new Promise<void>((resolve) => {
      let done = false;
      const stop = (completed: boolean, reason?: GatewayError) => {
        if (done) return;
        done = true;
        this.#end(completed, reason);
        if (reason === undefined || endedByClient(reason)) sink.end();
        else sink.fail(reason);
        resolve();
      };
      // Writes whole events, up to an upstream error event, which ends the stream. False when the sink is full.
      const send = (out: Buffer): boolean => {
        const found = findErrorEvent(out);
        if (found === undefined) return sink.write(out);
        if (found.at > 0) sink.write(out.subarray(0, found.at));
        stop(false, this.#eventError(found.error));
        return true;
      };
      sink.onClose(() => stop(false, clientGone()));
      if (sink.closed) return stop(false, clientGone());
      const listener: BodyListener = {
        data: (chunk) => {
          if (done) return true;
          const out = framer.push(chunk);
          if (out.length === 0 || send(out)) return true;
          sink.onDrain(() => {
            if (!done) rest.resume();
          });
          return false;
        },
        end: () => {
          if (done) return;
          const tail = framer.flush();
          if (tail.length > 0) send(tail);
          stop(true);
        },
        error: (err) => {
          if (!done) stop(false, classifyTransportError(err, signal, label));
        },
      };
      // A client already full after the head gets nothing more until it drains.
      const first = framer.push(this.#head!);
      this.#head = undefined;
      if (first.length > 0 && !send(first)) {
        sink.onDrain(() => {
          if (!done) rest.subscribe(listener);
        });
      } else if (!done) rest.subscribe(listener);
    });
  }

  /**
   * The next event, whole; throws the stream's failure after the events
   * before it. One event per read, so that a reader working through a burst
   * is seen reading, not idle.
   */
  async next(): Promise<IteratorResult<Uint8Array>> {
    this.#reading = true;
    try {
      for (;;) {
        if (this.#ready.length > 0) return { done: false, value: this.#take() };
        if (this.#ended) return this.#afterEnd();
        let chunk: Uint8Array | undefined = this.#head;
        this.#head = undefined;
        if (chunk === undefined) {
          let r: IteratorResult<Uint8Array>;
          try {
            r = await this.#rest.next();
          } catch (err) {
            this.#fail(classifyTransportError(err, this.#opts.signal, this.#opts.label));
            continue;
          }
          // Released while the read waited: the loop ends with the reason.
          if (this.#ended) continue;
          if (r.done) {
            this.#accept(this.#framer.flush());
            this.#end(true);
            continue;
          }
          chunk = r.value;
        }
        this.#accept(this.#framer.push(chunk));
      }
    } finally {
      this.#reading = false;
      if (this.#watching) this.#lastRead = this.#opts.clock.now();
    }
  }

  /** The reader lets go: the stream ends, as a client abort unless it had ended already. */
  async return(): Promise<IteratorResult<Uint8Array>> {
    if (!this.#ended) this.#end(false, new GatewayError("SY_ERR_CLIENT_ABORT", "the consumer stopped reading the stream"));
    this.#failure = undefined;
    this.#ready = EMPTY;
    return DONE;
  }

  /** Pull-mode copy into a sink, for upstreams that can only be iterated (the demo provider). */
  async #pump(sink: ByteSink): Promise<void> {
    let failure: GatewayError | undefined;
    try {
      for (;;) {
        if (sink.closed) break;
        const r = await this.next();
        if (r.done || sink.closed) break;
        if (!sink.write(r.value)) await new Promise<void>((resolve) => sink.onDrain(resolve));
      }
    } catch (err) {
      failure = isGatewayError(err) ? err : new GatewayError("SY_ERR_INTERNAL", String(err), { cause: err });
    }
    if (!this.#ended) this.#end(false, failure ?? clientGone());
    if (failure === undefined || endedByClient(failure)) sink.end();
    else sink.fail(failure);
  }

  /** Takes whole events in, up to an upstream error event, which ends the stream with its error once they are read. */
  #accept(out: Buffer): void {
    if (out.length === 0) return;
    const found = findErrorEvent(out);
    if (found === undefined) {
      this.#ready = out;
      return;
    }
    this.#fail(this.#eventError(found.error));
    this.#ready = out.subarray(0, found.at);
  }

  #take(): Buffer {
    const ready = this.#ready;
    const end = firstEventEnd(ready) || ready.length;
    this.#ready = ready.subarray(end);
    return end === ready.length ? ready : ready.subarray(0, end);
  }

  /** What a read gets once the stream has ended: the failure, once, and then the end. */
  #afterEnd(): IteratorResult<Uint8Array> {
    const failure = this.#failure;
    if (failure === undefined) return DONE;
    this.#failure = undefined;
    throw failure;
  }

  /** Ends the stream with `reason`, which the next read throws; events not yet read are dropped. */
  #fail(reason: GatewayError): void {
    if (!this.#end(false, reason)) return;
    this.#failure = reason;
    this.#ready = EMPTY;
  }

  /**
   * Ends the stream once: reports how, and a stream that did not complete no
   * longer holds its upstream call. True when this call ended it.
   */
  #end(completed: boolean, reason?: GatewayError): boolean {
    if (this.#ended) return false;
    this.#ended = true;
    if (this.#watching) {
      this.#opts.signal.removeEventListener("abort", this.#onAbort);
      if (this.#idleTimer !== undefined) this.#opts.clock.clearTimeout(this.#idleTimer);
      this.#idleTimer = undefined;
    }
    this.#opts.onEnd(completed, reason);
    if (!completed) void this.#rest.return?.()?.catch(() => {});
    return true;
  }

  /**
   * An iterated stream is read by code that may simply stop: the request's
   * signal and an idle timeout end it then. One timer per stream, checked
   * when it fires rather than reset on every read.
   */
  #watch(): void {
    const { signal, clock, idleMs } = this.#opts;
    this.#watching = true;
    if (signal.aborted) return this.#onAbort();
    signal.addEventListener("abort", this.#onAbort, { once: true });
    if (idleMs > 0) {
      this.#lastRead = clock.now();
      this.#idleTimer = clock.setTimeout(this.#onIdle, idleMs, BACKGROUND);
    }
  }

  #onAbort = (): void => {
    const { signal, label } = this.#opts;
    this.#fail(classifyTransportError(signal.reason, signal, label));
  };

  #onIdle = (): void => {
    this.#idleTimer = undefined;
    if (this.#ended) return;
    const { clock, idleMs } = this.#opts;
    // A reader waiting on the upstream is not idle: the upstream's own idle timeout covers that wait.
    const left = this.#reading ? idleMs : this.#lastRead + idleMs - clock.now();
    if (left > 0) {
      this.#idleTimer = clock.setTimeout(this.#onIdle, left, BACKGROUND);
      return;
    }
    this.#fail(new GatewayError("SY_ERR_STREAM_ABANDONED", `the stream was not read for ${idleMs} ms (timeouts.idle) and was released`));
  };

  /** An error event the upstream sent mid-stream, as the stream's one failure; every string in it redacted. */
  #eventError(error: unknown): GatewayError {
    const text = (v: unknown) => (typeof v === "string" ? v : typeof v === "number" ? String(v) : undefined);
    const fields = error !== null && typeof error === "object" ? (error as Record<string, unknown>) : {};
    const message = text(typeof error === "string" ? error : fields.message) ?? `${this.#opts.label} sent an error event mid-stream`;
    const status = fields.status;
    const err = new GatewayError("SY_ERR_UPSTREAM_STATUS", message, {
      status: typeof status === "number" && Number.isInteger(status) && status >= 400 && status <= 599 ? status : 502,
    });
    err.upstream = { type: text(fields.type), code: text(fields.code), param: text(fields.param) };
    return redactError(err, this.#opts.secrets);
  }

  #claim(): void {
    if (this.#used) throw new Error("a stream can be read only once");
    this.#used = true;
  }
}

function clientGone(): GatewayError {
  return new GatewayError("SY_ERR_CLIENT_ABORT", "client closed the connection");
}
