import { type BodyListener, isPushBody, type PushBody } from "../upstream/transport.ts";

/**
 * What a transform does to a stream's bytes: `step` turns each upstream
 * chunk into the bytes to send on (possibly none, possibly the chunk itself),
 * `finish` adds what the end of the upstream releases. Either may throw a
 * GatewayError: the stream then fails with it.
 */
export interface ByteTransform {
  step(chunk: Uint8Array): Uint8Array;
  finish(): Uint8Array;
}

const DONE: IteratorReturnResult<undefined> = { done: true, value: undefined };

/**
 * An upstream body seen through a transform (translation between wire APIs,
 * or a usage tap that returns every chunk untouched). It keeps the inner
 * body's push mode, so a translated stream is still pushed from the socket
 * callback to the client with no promise per chunk; it can be iterated too.
 */
export function transformBody(inner: AsyncIterator<Uint8Array>, transform: ByteTransform): AsyncIterator<Uint8Array> {
  return isPushBody(inner) ? new TransformedPushBody(inner, transform) : new TransformedBody(inner, transform);
}

/** Iteration only, for a body that cannot push (the demo provider's). */
class TransformedBody implements AsyncIterator<Uint8Array> {
  protected readonly inner: AsyncIterator<Uint8Array>;
  protected readonly t: ByteTransform;
  #finished = false;

  constructor(inner: AsyncIterator<Uint8Array>, transform: ByteTransform) {
    this.inner = inner;
    this.t = transform;
  }

  async next(): Promise<IteratorResult<Uint8Array>> {
    for (;;) {
      if (this.#finished) return DONE;
      const r = await this.inner.next();
      if (r.done) {
        this.#finished = true;
        const tail = this.t.finish();
        return tail.length > 0 ? { done: false, value: tail } : DONE;
      }
      const out = this.t.step(r.value);
      if (out.length > 0) return { done: false, value: out };
    }
  }

  async return(): Promise<IteratorResult<Uint8Array>> {
    this.#finished = true;
    await this.inner.return?.();
    return DONE;
  }

  [Symbol.asyncIterator](): AsyncIterator<Uint8Array> {
    return this;
  }
}

class TransformedPushBody extends TransformedBody implements PushBody {
  subscribe(listener: BodyListener): void {
    const inner = this.inner as PushBody;
    let failed = false;
    const fail = (err: unknown) => {
      failed = true;
      void inner.return?.().catch(() => {});
      listener.error(err);
    };
    inner.subscribe({
      data: (chunk) => {
        if (failed) return true;
        let out: Uint8Array;
        try {
          out = this.t.step(chunk);
        } catch (err) {
          fail(err);
          return true;
        }
        return out.length === 0 ? true : listener.data(out);
      },
      end: () => {
        if (failed) return;
        let tail: Uint8Array;
        try {
          tail = this.t.finish();
        } catch (err) {
          fail(err);
          return;
        }
        if (tail.length > 0) listener.data(tail);
        listener.end();
      },
      error: (err) => {
        if (!failed) listener.error(err);
      },
    });
  }

  resume(): void {
    (this.inner as PushBody).resume();
  }
}
