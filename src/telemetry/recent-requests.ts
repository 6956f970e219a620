/**
 * The last few hundred requests, as one-line summaries for the dashboard's
 * live tail: what was asked of which target and how it ended, never what was
 * said (no prompt, no answer, no error text, which may quote either).
 *
 * Filled from `switchyard:request:end`, and only once something asks for it
 * (the dashboard creates it on its first view): a gateway nobody watches has
 * no subscriber and pays nothing. Watched, a request costs one small object
 * and a store into a fixed ring; listeners hear of new entries once per turn
 * of the event loop, after the request is done, never inside it.
 */
import { observeGateway, type RequestEnd } from "./channels.ts";

export interface RequestSummary {
  /** Increases by one per request; the dashboard's event id, so a reconnecting viewer resumes after the last it saw. */
  seq: number;
  /** When it ended, epoch ms. */
  time: number;
  id: string;
  /** The public model name asked for. */
  model: string;
  /** "provider/model" that answered (or failed last), when any was tried. */
  target?: string;
  status: number;
  /** The catalogue code when it failed. */
  code?: string;
  latency_ms: number;
  attempts: number;
  stream: boolean;
  tokens_in?: number;
  tokens_out?: number;
}

export const RECENT_CAPACITY = 200;

export class RecentRequests {
  readonly capacity: number;
  readonly #ring: Array<RequestSummary | undefined>;
  readonly #now: () => number;
  readonly #listeners = new Set<() => void>();
  #seq = 0;
  #flushing = false;

  constructor(capacity = RECENT_CAPACITY, now: () => number = Date.now) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`capacity must be a positive integer, got ${capacity}`);
    this.capacity = capacity;
    this.#ring = new Array(capacity);
    this.#now = now;
  }

  /** The seq of the newest entry; 0 before the first. */
  get lastSeq(): number {
    return this.#seq;
  }

  /** Records one request's end; the oldest entry makes room once the ring is full. */
  add(end: RequestEnd): RequestSummary {
    const seq = ++this.#seq;
    const s: RequestSummary = {
      seq,
      time: this.#now(),
      id: end.requestId,
      model: end.model,
      status: end.status,
      latency_ms: Math.round(end.durationMs * 10) / 10,
      attempts: end.attempts,
      stream: end.stream,
    };
    if (end.target !== undefined) s.target = end.target;
    if (end.code !== undefined) s.code = end.code;
    if (end.usage !== undefined) {
      s.tokens_in = end.usage.inputTokens;
      s.tokens_out = end.usage.outputTokens;
    }
    this.#ring[seq % this.capacity] = s;
    if (this.#listeners.size > 0 && !this.#flushing) {
      this.#flushing = true;
      setImmediate(this.#flush);
    }
    return s;
  }

  /** The entries after `seq` still held, oldest first; `since(0)` is every entry held. */
  since(seq: number): RequestSummary[] {
    const from = Math.max(seq + 1, this.#seq - this.capacity + 1, 1);
    const out: RequestSummary[] = [];
    for (let i = from; i <= this.#seq; i++) out.push(this.#ring[i % this.capacity]!);
    return out;
  }

  /** `listener` runs once per event-loop turn in which entries were added. Returns the function that removes it. */
  listen(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => {
      this.#listeners.delete(listener);
    };
  }

  /** Fills the ring from one gateway's request ends. Returns the function that stops. */
  observe(gateway: object): () => void {
    return observeGateway(gateway, { requestEnd: (m) => this.add(m) });
  }

  readonly #flush = () => {
    this.#flushing = false;
    for (const listener of this.#listeners) listener();
  };
}
