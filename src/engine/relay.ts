import { GatewayError, isGatewayError } from "../protocol/errors.ts";
import { errorEvent, lastEventEnd } from "../protocol/sse.ts";
import { classifyTransportError } from "../upstream/errors.ts";
import { type BodyListener, isPushBody } from "../upstream/transport.ts";
import type { ByteSink, ByteStream } from "./types.ts";

const EMPTY = Buffer.alloc(0);

type OnEnd = (completed: boolean, err?: GatewayError) => void;

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
 * only whole events are released, so when the upstream fails mid-stream the
 * client sees whole events followed by one error event, never half of one.
 *
 * A front that can take bytes as they come calls `pipeTo`: with an upstream
 * that pushes (the HTTP transport), each chunk goes from the socket callback
 * to the client socket without a promise in between. Iterating works too, for
 * the in-process client.
 */
export class RelayStream implements ByteStream {
  readonly #head: Buffer;
  readonly #rest: AsyncIterator<Uint8Array>;
  readonly #signal: AbortSignal;
  readonly #label: string;
  readonly #onEnd: OnEnd;
  #used = false;

  constructor(head: Buffer, rest: AsyncIterator<Uint8Array>, signal: AbortSignal, label: string, onEnd: OnEnd) {
    this.#head = head;
    this.#rest = rest;
    this.#signal = signal;
    this.#label = label;
    this.#onEnd = onEnd;
  }

  [Symbol.asyncIterator](): AsyncIterator<Uint8Array> {
    this.#claim();
    return relay(this.#head, this.#rest, this.#signal, this.#label, this.#onEnd);
  }

  /** Writes the stream into `sink` with backpressure; resolves once it has ended either way. */
  pipeTo(sink: ByteSink): Promise<void> {
    this.#claim();
    const rest = this.#rest;
    if (!isPushBody(rest)) return pump(relay(this.#head, rest, this.#signal, this.#label, this.#onEnd), sink);
    return new Promise<void>((resolve) => {
      const framer = new EventFramer();
      let done = false;
      const finish = (completed: boolean, failure?: GatewayError) => {
        if (done) return;
        done = true;
        this.#onEnd(completed, failure);
        if (!completed) void rest.return?.().catch(() => {});
        sink.end();
        resolve();
      };
      sink.onClose(() => finish(false));
      if (sink.closed) return finish(false);
      const listener: BodyListener = {
        data: (chunk) => {
          if (done) return true;
          const out = framer.push(chunk);
          if (out.length === 0 || sink.write(out)) return true;
          sink.onDrain(() => {
            if (!done) rest.resume();
          });
          return false;
        },
        end: () => {
          if (done) return;
          const tail = framer.flush();
          if (tail.length > 0) sink.write(tail);
          finish(true);
        },
        error: (err) => {
          if (done) return;
          const failure = classifyTransportError(err, this.#signal, this.#label);
          if (failure.code !== "SY_ERR_CLIENT_ABORT") sink.write(errorEvent(failure));
          finish(false, failure);
        },
      };
      // A client already full after the head gets nothing more until it drains.
      const first = framer.push(this.#head);
      if (first.length > 0 && !sink.write(first)) {
        sink.onDrain(() => {
          if (!done) rest.subscribe(listener);
        });
      } else rest.subscribe(listener);
    });
  }

  #claim(): void {
    if (this.#used) throw new Error("a stream can be read only once");
    this.#used = true;
  }
}

/** Pull-mode copy into a sink, for upstreams that can only be iterated (the demo provider). */
async function pump(it: AsyncIterator<Uint8Array>, sink: ByteSink): Promise<void> {
  try {
    for (;;) {
      if (sink.closed) break;
      const r = await it.next();
      if (r.done || sink.closed) break;
      if (!sink.write(r.value)) await new Promise<void>((resolve) => sink.onDrain(resolve));
    }
  } finally {
    await it.return?.();
    sink.end();
  }
}

async function* relay(
  head: Buffer,
  rest: AsyncIterator<Uint8Array>,
  signal: AbortSignal,
  label: string,
  onEnd: OnEnd,
): AsyncGenerator<Uint8Array> {
  const framer = new EventFramer();
  let failure: GatewayError | undefined;
  let completed = false;
  let next: Uint8Array | undefined = head;
  try {
    for (;;) {
      if (next === undefined) {
        let r: IteratorResult<Uint8Array>;
        try {
          r = await rest.next();
        } catch (err) {
          failure = classifyTransportError(err, signal, label);
          if (failure.code !== "SY_ERR_CLIENT_ABORT") yield errorEvent(failure);
          return;
        }
        if (r.done) break;
        next = r.value;
      }
      const out = framer.push(next);
      next = undefined;
      if (out.length > 0) yield out;
    }
    const tail = framer.flush();
    if (tail.length > 0) yield tail;
    completed = true;
  } catch (err) {
    failure = isGatewayError(err) ? err : new GatewayError("SY_ERR_INTERNAL", String(err));
    throw err;
  } finally {
    // A consumer that stopped early (or a failure) must not leave the upstream running.
    onEnd(completed, failure);
    if (!completed) await rest.return?.().catch(() => {});
  }
}
