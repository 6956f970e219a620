/**
 * The live tail as server-sent events: each finished request one `request`
 * event (its summary as JSON, its seq as the event id), the last ones held on
 * connect (or only those after `Last-Event-ID` when a browser reconnects),
 * and a comment line now and then so that proxies keep the stream open.
 *
 * One ticker serves every open stream: it sends the heartbeat and, once the
 * server has stopped listening (shutdown began), ends the streams cleanly, so
 * an open dashboard never holds up a graceful stop for more than a tick.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { RecentRequests, RequestSummary } from "../../telemetry/recent-requests.ts";
import type { Clock } from "../../time/clock.ts";

export interface EventStreamOptions {
  clock: Clock;
  /** True once the server is shutting down: open streams end at the next tick. */
  stopping: () => boolean;
  /** Between two checks of `stopping`; default 1 s. */
  tickMs?: number;
  /** Ticks between two heartbeat comments; default 15. */
  heartbeatTicks?: number;
  /** A viewer that lets this much pile up unread is dropped (its browser reconnects and resumes). */
  maxBufferedBytes?: number;
}

/** What a browser waits before reconnecting after the stream ends. */
const RETRY_MS = 3000;

const format = (s: RequestSummary) => `id: ${s.seq}\nevent: request\ndata: ${JSON.stringify(s)}\n\n`;

export class EventStreams {
  readonly #recent: RecentRequests;
  readonly #clock: Clock;
  readonly #stopping: () => boolean;
  readonly #tickMs: number;
  readonly #heartbeatTicks: number;
  readonly #maxBuffered: number;
  readonly #open = new Set<ServerResponse>();
  #timer: unknown;
  #ticks = 0;

  constructor(recent: RecentRequests, options: EventStreamOptions) {
    this.#recent = recent;
    this.#clock = options.clock;
    this.#stopping = options.stopping;
    this.#tickMs = options.tickMs ?? 1000;
    this.#heartbeatTicks = options.heartbeatTicks ?? 15;
    this.#maxBuffered = options.maxBufferedBytes ?? 1 << 20;
  }

  /** Streams open now. */
  get size(): number {
    return this.#open.size;
  }

  /** Answers `GET /dashboard/events`: the held entries, then each new one as it comes. */
  serve(req: IncomingMessage, res: ServerResponse): void {
    const resumeFrom = Number(req.headers["last-event-id"]);
    // An id from before a restart (larger than any seq here) starts afresh.
    let last = Number.isSafeInteger(resumeFrom) && resumeFrom >= 0 && resumeFrom <= this.#recent.lastSeq ? resumeFrom : 0;
    res.writeHead(200, {
      "content-type": "text/event-stream; charset=utf-8",
      "cache-control": "no-store",
      // Tells nginx and the like not to buffer the stream.
      "x-accel-buffering": "no",
    });
    const send = () => {
      const entries = this.#recent.since(last);
      if (entries.length === 0) return;
      last = entries.at(-1)!.seq;
      this.#write(res, entries.map(format).join(""));
    };
    res.write(`retry: ${RETRY_MS}\n\n`);
    send();
    const unlisten = this.#recent.listen(send);
    this.#open.add(res);
    res.once("close", () => {
      unlisten();
      this.#open.delete(res);
      if (this.#open.size === 0) this.#stopTicker();
    });
    this.#startTicker();
  }

  /** Ends every open stream. */
  closeAll(): void {
    for (const res of this.#open) res.end();
    this.#stopTicker();
  }

  #write(res: ServerResponse, text: string): void {
    if (res.writableLength > this.#maxBuffered) {
      res.destroy();
      return;
    }
    res.write(text);
  }

  #startTicker(): void {
    if (this.#timer !== undefined) return;
    this.#timer = this.#clock.setTimeout(this.#tick, this.#tickMs, { background: true });
  }

  #stopTicker(): void {
    if (this.#timer === undefined) return;
    this.#clock.clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  readonly #tick = () => {
    this.#timer = undefined;
    if (this.#stopping()) {
      this.closeAll();
      return;
    }
    if (++this.#ticks % this.#heartbeatTicks === 0) for (const res of this.#open) this.#write(res, ": keep-alive\n\n");
    if (this.#open.size > 0) this.#startTicker();
  };
}
