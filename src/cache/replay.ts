import { GatewayError } from "../protocol/errors.ts";
import type { Recording } from "./recording.ts";
import type { EventStream, Sink } from "./types.ts";

/** Rewrites one chunk of whole events on its way to a reader; may return an empty buffer. */
export type ChunkTransform = (chunk: Buffer) => Buffer;

const DONE: IteratorReturnResult<undefined> = { done: true, value: undefined };

/**
 * One reader of a recording: its chunks from the start, then live ones as
 * they arrive, then its end or its failure (written by the sink in the
 * client API's shape). `leave` is called once, when the reader is done or
 * goes away, with whether it read to the end.
 */
export class ReplayStream implements EventStream, AsyncIterator<Uint8Array> {
  readonly #rec: Recording;
  readonly #transform: ChunkTransform | undefined;
  readonly #leave: (completed: boolean) => void;
  #next = 0;
  #left = false;
  #used = false;

  constructor(rec: Recording, transform: ChunkTransform | undefined, leave: (completed: boolean) => void) {
    this.#rec = rec;
    this.#transform = transform;
    this.#leave = leave;
  }

  /** Let go without reading (the client left before its answer was written). */
  release(): void {
    this.#done(false);
  }

  pipeTo(sink: Sink): Promise<void> {
    this.#claim();
    const rec = this.#rec;
    return new Promise<void>((resolve) => {
      let finished = false;
      const stop = (completed: boolean) => {
        if (finished) return;
        finished = true;
        this.#done(completed);
        resolve();
      };
      sink.onClose(() => stop(false));
      const pump = (): void => {
        while (!finished) {
          if (sink.closed) return stop(false);
          if (this.#next < rec.chunks.length) {
            const out = this.#out(rec.chunks[this.#next++]);
            if (out.length > 0 && !sink.write(out)) return sink.onDrain(pump);
            continue;
          }
          if (rec.state === "done") {
            sink.end();
            return stop(true);
          }
          if (rec.state === "failed") {
            const err = rec.failure!;
            if (err.code === "SY_ERR_CLIENT_ABORT") sink.end();
            else sink.fail(err);
            return stop(false);
          }
          return rec.onChange(pump);
        }
      };
      pump();
    });
  }

  [Symbol.asyncIterator](): AsyncIterator<Uint8Array> {
    this.#claim();
    return this;
  }

  async next(): Promise<IteratorResult<Uint8Array>> {
    const rec = this.#rec;
    for (;;) {
      if (this.#left) return DONE;
      if (this.#next < rec.chunks.length) {
        const out = this.#out(rec.chunks[this.#next++]);
        if (out.length > 0) return { done: false, value: out };
        continue;
      }
      if (rec.state === "done") {
        this.#done(true);
        return DONE;
      }
      if (rec.state === "failed") {
        this.#done(false);
        throw rec.failure ?? new GatewayError("SY_ERR_INTERNAL", "the shared answer failed");
      }
      await new Promise<void>((resolve) => rec.onChange(resolve));
    }
  }

  async return(): Promise<IteratorResult<Uint8Array>> {
    this.#done(false);
    return DONE;
  }

  #out(chunk: Buffer): Buffer {
    return this.#transform === undefined ? chunk : this.#transform(chunk);
  }

  #done(completed: boolean): void {
    if (this.#left) return;
    this.#left = true;
    this.#leave(completed);
  }

  #claim(): void {
    if (this.#used) throw new Error("a stream can be read only once");
    this.#used = true;
  }
}
