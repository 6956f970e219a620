import { randomUUID } from "node:crypto";
import type { Timeouts } from "../config/types.ts";
import type { UpstreamCall } from "../providers/types.ts";
import { type Clock, sleep } from "../time/clock.ts";
import { chatCompletion, embeddings, modelList, streamEvents, textCompletion } from "./demo-replies.ts";
import type { Transport, UpstreamResponse } from "./transport.ts";

const JSON_HEADERS = { "content-type": "application/json" };
const SSE_HEADERS = { "content-type": "text/event-stream; charset=utf-8" };

/**
 * The built-in demo upstream: answers in OpenAI's wire format in-process, so a
 * fresh install serves requests with no keys and no network. Streams are paced
 * a little so that a person watching sees tokens arrive.
 */
export class DemoTransport implements Transport {
  readonly #clock: Clock;
  readonly #tokenGapMs: number;

  constructor(clock: Clock, tokenGapMs = 15) {
    this.#clock = clock;
    this.#tokenGapMs = tokenGapMs;
  }

  async send(call: UpstreamCall, signal: AbortSignal, _timeouts: Timeouts): Promise<UpstreamResponse> {
    if (signal.aborted) throw signal.reason;
    if (call.method === "GET") return json(200, modelList(["demo-1"]));
    const body = JSON.parse(call.body ?? "{}") as Record<string, unknown>;
    const meta = { id: `demo-${randomUUID()}`, created: Math.floor(this.#clock.now() / 1000), model: String(body.model) };
    if (call.path.endsWith("/embeddings")) {
      const { status, payload } = embeddings(body, meta);
      return json(status, payload);
    }
    const chat = call.path.endsWith("/chat/completions");
    if (body.stream !== true) return json(200, chat ? chatCompletion(body, meta) : textCompletion(body, meta));
    return { status: 200, headers: SSE_HEADERS, body: this.#pace(streamEvents(body, meta, chat), signal) };
  }

  async *#pace(events: string[], signal: AbortSignal): AsyncGenerator<Uint8Array> {
    for (let i = 0; i < events.length; i++) {
      if (i > 0) await sleep(this.#clock, this.#tokenGapMs, signal);
      yield Buffer.from(events[i]);
    }
  }

  async close(): Promise<void> {}
}

function json(status: number, payload: unknown): UpstreamResponse {
  const bytes = Buffer.from(JSON.stringify(payload));
  return { status, headers: JSON_HEADERS, body: once(bytes) };
}

async function* once(bytes: Buffer): AsyncGenerator<Uint8Array> {
  yield bytes;
}
