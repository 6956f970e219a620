import type { Dispatcher } from "undici";
import type { BodyListener, PushBody, UpstreamResponse } from "./transport.ts";

const HIGH_WATER = 256 * 1024;
const DONE: IteratorReturnResult<undefined> = { done: true, value: undefined };

interface Settle<T> {
  resolve: (value: T) => void;
  reject: (err: unknown) => void;
}

/**
 * One upstream call driven by undici's dispatch callbacks. The body reaches
 * the consumer through a small queue instead of a Readable and its async
 * iterator: each streamed chunk costs one callback and at most one promise,
 * which is most of the gateway's per-chunk work. A consumer can also
 * subscribe, and then every chunk goes straight to its callback: nothing is
 * queued and no promise waits between chunks, which matters when thousands of
 * streams sit idle between tokens. Backpressure pauses the socket when the
 * consumer falls behind.
 */
export class DispatchCall implements Dispatcher.DispatchHandler, PushBody, AsyncIterable<Uint8Array> {
  #controller: Dispatcher.DispatchController | undefined;
  #signal: AbortSignal;
  #onAbort = () => this.#controller?.abort(this.#signal.reason as Error);
  #started: Settle<UpstreamResponse>;
  #queue: Buffer[] = [];
  #queued = 0;
  #ended = false;
  #error: unknown;
  #waiting: Settle<IteratorResult<Uint8Array>> | undefined;
  /** Set when the consumer asked for the whole body at once. */
  #whole: Settle<Uint8Array> | undefined;
  /**
   * A listener gets chunks straight from the socket only while none are queued
   * ahead of them; once it is full, the socket pauses and chunks queue until
   * resume() has delivered them all, and only then is it told of the end.
   */
  #listener: BodyListener | undefined;

  readonly response: Promise<UpstreamResponse>;

  constructor(signal: AbortSignal) {
    this.#signal = signal;
    let started!: Settle<UpstreamResponse>;
    this.response = new Promise<UpstreamResponse>((resolve, reject) => {
      started = { resolve, reject };
    });
    this.#started = started;
    signal.addEventListener("abort", this.#onAbort, { once: true });
  }

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.#controller = controller;
    if (this.#signal.aborted) controller.abort(this.#signal.reason as Error);
  }

  onResponseStart(_c: Dispatcher.DispatchController, statusCode: number, headers: Record<string, string | string[] | undefined>): void {
    this.#started.resolve({ status: statusCode, headers, body: this, bytes: () => this.#bytes() });
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    const listener = this.#listener;
    if (listener !== undefined) {
      // Straight through only when nothing waits ahead of this chunk and the consumer has room.
      if (this.#queue.length === 0 && !controller.paused) {
        if (!listener.data(chunk)) controller.pause();
        return;
      }
      this.#queue.push(chunk);
      this.#queued += chunk.length;
      if (!controller.paused) controller.pause();
      return;
    }
    const waiting = this.#waiting;
    if (waiting !== undefined && this.#queue.length === 0) {
      this.#waiting = undefined;
      waiting.resolve({ done: false, value: chunk });
      return;
    }
    this.#queue.push(chunk);
    this.#queued += chunk.length;
    if (this.#whole === undefined && this.#queued > HIGH_WATER) controller.pause();
  }

  onResponseEnd(): void {
    this.#ended = true;
    this.#cleanup();
    if (this.#listener !== undefined) {
      // With chunks still queued for a full consumer, resume() ends it once they are delivered.
      if (this.#queue.length === 0) this.#listener.end();
      return;
    }
    if (this.#whole !== undefined) {
      this.#whole.resolve(this.#concat());
      return;
    }
    if (this.#waiting !== undefined && this.#queue.length === 0) {
      this.#waiting.resolve(DONE);
      this.#waiting = undefined;
    }
  }

  onResponseError(_c: Dispatcher.DispatchController, err: Error): void {
    this.#error = err;
    this.#ended = true;
    this.#cleanup();
    this.#started.reject(err);
    this.#whole?.reject(err);
    if (this.#queue.length === 0) this.#listener?.error(err);
    if (this.#waiting !== undefined) {
      this.#waiting.reject(err);
      this.#waiting = undefined;
    }
  }

  next(): Promise<IteratorResult<Uint8Array>> {
    const chunk = this.#queue.shift();
    if (chunk !== undefined) {
      this.#queued -= chunk.length;
      if (this.#queued <= HIGH_WATER / 2 && this.#controller?.paused) this.#controller.resume();
      return Promise.resolve({ done: false, value: chunk });
    }
    if (this.#error !== undefined) return Promise.reject(this.#error);
    if (this.#ended) return Promise.resolve(DONE);
    return new Promise((resolve, reject) => {
      this.#waiting = { resolve, reject };
    });
  }

  subscribe(listener: BodyListener): void {
    this.#listener = listener;
    this.resume();
  }

  resume(): void {
    const listener = this.#listener!;
    const q = this.#queue;
    while (q.length > 0) {
      const chunk = q.shift()!;
      this.#queued -= chunk.length;
      if (!listener.data(chunk)) {
        // Full again: the upstream waits for the next resume(), and so does the rest of the queue.
        if (!this.#ended) {
          if (!this.#controller!.paused) this.#controller!.pause();
          return;
        }
        if (q.length > 0) return;
      }
    }
    if (this.#error !== undefined) listener.error(this.#error);
    else if (this.#ended) listener.end();
    else if (this.#controller?.paused === true) this.#controller.resume();
  }

  /** The consumer stopped early: abort the upstream request. */
  async return(): Promise<IteratorResult<Uint8Array>> {
    if (!this.#ended) {
      this.#ended = true;
      this.#controller?.abort(new Error("response body abandoned"));
      this.#cleanup();
    }
    this.#queue.length = 0;
    // A read still waiting learns of the end, whatever the controller does with the abort.
    const waiting = this.#waiting;
    this.#waiting = undefined;
    waiting?.resolve(DONE);
    return DONE;
  }

  [Symbol.asyncIterator](): AsyncIterator<Uint8Array> {
    return this;
  }

  #bytes(): Promise<Uint8Array> {
    if (this.#error !== undefined) return Promise.reject(this.#error);
    if (this.#ended) return Promise.resolve(this.#concat());
    this.#controller?.resume();
    return new Promise((resolve, reject) => {
      this.#whole = { resolve, reject };
    });
  }

  #concat(): Buffer {
    const q = this.#queue;
    this.#queue = [];
    this.#queued = 0;
    return q.length === 1 ? q[0] : Buffer.concat(q);
  }

  #cleanup(): void {
    this.#signal.removeEventListener("abort", this.#onAbort);
  }
}
