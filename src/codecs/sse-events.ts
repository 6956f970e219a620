/** One server-sent event: its `event:` name (when given) and its data lines joined. */
export interface SseEvent {
  event?: string;
  data: string;
}

/**
 * Splits a byte stream into server-sent events, incrementally: events and
 * UTF-8 characters may be split anywhere across chunks. Comment lines
 * (keep-alives) and events without data are skipped. Lines end with LF, CRLF
 * or CR, as the SSE spec allows.
 */
export class SseEvents {
  readonly #decoder = new TextDecoder("utf-8");
  #pending = "";

  push(chunk: Uint8Array): SseEvent[] {
    this.#pending += this.#decoder.decode(chunk, { stream: true });
    return this.#drain(false);
  }

  /** Whatever complete event is left when the stream ends; an unterminated last event counts. */
  end(): SseEvent[] {
    this.#pending += this.#decoder.decode();
    return this.#drain(true);
  }

  /** True when bytes of an unfinished event are held (the stream was cut mid-event if it ends now). */
  get holding(): boolean {
    return this.#pending.trim() !== "";
  }

  #drain(final: boolean): SseEvent[] {
    const out: SseEvent[] = [];
    const text = this.#pending;
    let start = 0;
    for (;;) {
      const cut = /\r\n\r\n|\n\n|\r\r/g;
      cut.lastIndex = start;
      const m = cut.exec(text);
      if (m === null) break;
      const ev = parseEvent(text.slice(start, m.index));
      if (ev !== undefined) out.push(ev);
      start = m.index + m[0].length;
    }
    this.#pending = text.slice(start);
    if (final && this.#pending.trim() !== "") {
      const ev = parseEvent(this.#pending);
      if (ev !== undefined) out.push(ev);
      this.#pending = "";
    }
    return out;
  }
}

function parseEvent(block: string): SseEvent | undefined {
  let event: string | undefined;
  let data: string | undefined;
  for (const line of block.split(/\r\n|\n|\r/)) {
    if (line === "" || line[0] === ":") continue;
    const colon = line.indexOf(":");
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? "" : line.slice(colon + 1);
    if (value[0] === " ") value = value.slice(1);
    if (field === "event") event = value;
    else if (field === "data") data = data === undefined ? value : `${data}\n${value}`;
  }
  if (data === undefined) return undefined;
  return event === undefined ? { data } : { event, data };
}

/** An SSE event as text: `event:` line when named, data lines, blank line. */
export function sseEvent(data: string, event?: string): string {
  const lines = data.includes("\n") ? data.split("\n").map((l) => `data: ${l}`).join("\n") : `data: ${data}`;
  return event === undefined ? `${lines}\n\n` : `event: ${event}\n${lines}\n\n`;
}
