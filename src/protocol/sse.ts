const LF = 0x0a;
const CR = 0x0d;

/**
 * The index just past the last complete server-sent event in `buf` (after a
 * blank line, "\n\n" or "\r\n\r\n"), or 0 when it holds none. Upstream chunks
 * almost always end on a boundary, so the common case is a two-byte check.
 */
export function lastEventEnd(buf: Uint8Array): number {
  const n = buf.length;
  if (n >= 2 && buf[n - 1] === LF && (buf[n - 2] === LF || (n >= 4 && buf[n - 2] === CR && buf[n - 3] === LF && buf[n - 4] === CR))) {
    return n;
  }
  for (let i = n - 1; i >= 1; i--) {
    if (buf[i] !== LF) continue;
    if (buf[i - 1] === LF) return i + 1;
    if (i >= 3 && buf[i - 1] === CR && buf[i - 2] === LF && buf[i - 3] === CR) return i + 1;
  }
  return 0;
}

/** The index just past the first complete event, or 0. */
export function firstEventEnd(buf: Uint8Array): number {
  for (let i = 1; i < buf.length; i++) {
    if (buf[i] !== LF) continue;
    if (buf[i - 1] === LF) return i + 1;
    if (i >= 3 && buf[i - 1] === CR && buf[i - 2] === LF && buf[i - 3] === CR) return i + 1;
  }
  return 0;
}

/** The `data:` payload of one event, joined across lines as the SSE spec says. */
export function eventData(event: string): string | undefined {
  let data: string | undefined;
  for (const raw of event.split(/\r?\n/)) {
    if (!raw.startsWith("data:")) continue;
    const line = raw.slice(raw[5] === " " ? 6 : 5);
    data = data === undefined ? line : `${data}\n${line}`;
  }
  return data;
}

/**
 * The tail of the key `"error"`. Node searches for a needle by scanning for
 * its first byte: JSON is full of quotes, fewer r's, so this is about three
 * times cheaper per chunk than the whole key, and finds every place it is.
 */
const ERROR_KEY = Buffer.from('rror"');

/**
 * Finds the first event in `buf` (whole events) whose data is a JSON object
 * with an `error` member: an upstream reporting a failure mid-stream. Returns
 * where that event starts and what its `error` holds. Streams pass through
 * here chunk by chunk, so the usual answer costs one `indexOf` and nothing is
 * parsed unless the bytes hold the key (inside a JSON string its closing
 * quote would be escaped, so text that merely mentions the word does not match).
 */
export function findErrorEvent(buf: Buffer): { at: number; error: unknown } | undefined {
  let hit = buf.indexOf(ERROR_KEY);
  if (hit === -1) return undefined;
  let start = 0;
  while (start < buf.length) {
    const rest = buf.subarray(start);
    const end = start + (firstEventEnd(rest) || rest.length);
    if (end > hit) {
      const error = errorOf(eventData(buf.toString("utf8", start, end)));
      if (error !== undefined) return { at: start, error };
      hit = buf.indexOf(ERROR_KEY, end);
      if (hit === -1) return undefined;
    }
    start = end;
  }
  return undefined;
}

function errorOf(data: string | undefined): unknown {
  if (data === undefined) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(data);
  } catch {
    return undefined;
  }
  if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) return undefined;
  const error = (parsed as { error?: unknown }).error;
  return error === null || error === false ? undefined : error;
}

/** Splits a byte stream of SSE into the data payloads of its events ("[DONE]" included). */
export async function* sseData(body: AsyncIterable<Uint8Array>): AsyncGenerator<string> {
  const decoder = new TextDecoder();
  let pending = "";
  for await (const chunk of body) {
    pending += decoder.decode(chunk, { stream: true });
    let cut: RegExpExecArray | null;
    const boundary = /\r?\n\r?\n/g;
    let start = 0;
    while ((cut = boundary.exec(pending)) !== null) {
      const data = eventData(pending.slice(start, cut.index));
      start = cut.index + cut[0].length;
      if (data !== undefined) yield data;
    }
    pending = pending.slice(start);
  }
  const tail = eventData(pending);
  if (tail !== undefined && tail !== "") yield tail;
}
