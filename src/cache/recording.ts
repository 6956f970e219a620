import type { AttemptRecord, GatewayError } from "../protocol/errors.ts";

/** What an answer's head says, before (or without) its body. */
export interface AnswerHead {
  status: number;
  contentType: string;
  target: string;
  attempts: AttemptRecord[];
}

type State = "waiting" | "streaming" | "done" | "failed";

/**
 * The chunks of a recording that has none yet (and of every whole-body
 * one): shared, and swapped for an array of its own at the first push, so
 * that the many entries a cache holds are fewer objects for the collector.
 */
const NO_CHUNKS: Buffer[] = Object.freeze([]) as unknown as Buffer[];

/**
 * One upstream answer as it arrives: a whole body, or a stream's events in
 * order. Any number of readers replay it from the start and then follow it
 * live; the cache keeps finished ones, coalescing shares unfinished ones.
 * Chunks are kept as the engine released them: whole events only.
 */
export class Recording {
  head: AnswerHead | undefined;
  body: Buffer | undefined;
  /** The events so far, in order (never written to from outside: see push). */
  chunks: Buffer[] = NO_CHUNKS;
  bytes = 0;
  state: State = "waiting";
  failure: GatewayError | undefined;
  #listeners: Array<() => void> | undefined;

  /** A finished recording, as the cache or its file holds it. */
  static finished(head: AnswerHead, body: Buffer | undefined, chunks: Buffer[] | undefined): Recording {
    const r = new Recording();
    r.head = head;
    if (body !== undefined) {
      r.body = body;
      r.bytes = body.length;
    } else {
      for (const c of chunks ?? []) r.push(c);
    }
    r.state = "done";
    return r;
  }

  get streamed(): boolean {
    return this.body === undefined && this.head !== undefined;
  }

  get ended(): boolean {
    return this.state === "done" || this.state === "failed";
  }

  /** Calls `fn` once, at the next change (a head, a chunk, the end). */
  onChange(fn: () => void): void {
    (this.#listeners ??= []).push(fn);
  }

  open(head: AnswerHead): void {
    this.head = head;
    this.state = "streaming";
    this.#notify();
  }

  push(chunk: Uint8Array): void {
    const b = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    if (this.chunks === NO_CHUNKS) this.chunks = [b];
    else this.chunks.push(b);
    this.bytes += b.length;
    if (this.state === "streaming") this.#notify();
  }

  finishBody(head: AnswerHead, body: Buffer): void {
    this.head = head;
    this.body = body;
    this.bytes = body.length;
    this.state = "done";
    this.#notify();
  }

  finish(): void {
    if (this.ended) return;
    this.state = "done";
    this.#notify();
  }

  fail(err: GatewayError): void {
    if (this.ended) return;
    this.failure = err;
    this.state = "failed";
    this.#notify();
  }

  #notify(): void {
    const fns = this.#listeners;
    if (fns === undefined) return;
    this.#listeners = undefined;
    for (const fn of fns) fn();
  }
}
