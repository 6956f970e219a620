/** Reads a server-sent event stream from a fetch response, one event at a time. */
export interface SseEvent {
  id?: string;
  event?: string;
  data?: string;
  retry?: string;
  /** Comment lines (": keep-alive"). */
  comments: string[];
}

export class SseReader {
  readonly #reader: ReadableStreamDefaultReader<Uint8Array>;
  readonly #decoder = new TextDecoder();
  #buffer = "";
  /** True once the server ended the stream. */
  ended = false;

  constructor(body: ReadableStream<Uint8Array>) {
    this.#reader = body.getReader();
  }

  /** The next event (a block ended by a blank line), or undefined once the stream ends. */
  async next(): Promise<SseEvent | undefined> {
    for (;;) {
      const at = this.#buffer.indexOf("\n\n");
      if (at !== -1) {
        const block = this.#buffer.slice(0, at);
        this.#buffer = this.#buffer.slice(at + 2);
        const event: SseEvent = { comments: [] };
        for (const line of block.split("\n")) {
          if (line.startsWith(":")) event.comments.push(line.slice(1).trim());
          else {
            const colon = line.indexOf(":");
            const key = line.slice(0, colon) as "id" | "event" | "data" | "retry";
            event[key] = line.slice(colon + 1).trimStart();
          }
        }
        return event;
      }
      const { value, done } = await this.#reader.read();
      if (done) {
        this.ended = true;
        return undefined;
      }
      this.#buffer += this.#decoder.decode(value, { stream: true });
    }
  }

  /** The next `request` event's data, passing over the rest. */
  async nextRequest<T = Record<string, unknown>>(): Promise<T & { seq: number }> {
    for (;;) {
      const e = await this.next();
      if (e === undefined) throw new Error("the stream ended");
      if (e.event === "request") return JSON.parse(e.data!) as T & { seq: number };
    }
  }

  cancel(): Promise<void> {
    return this.#reader.cancel();
  }
}
