import type { Timeouts } from "../config/types.ts";
import type { UpstreamCall } from "../providers/types.ts";

/** An upstream response whose status and headers have arrived; the body is still streaming. */
export interface UpstreamResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: AsyncIterable<Uint8Array>;
  /** Reads the whole body at once, where the transport can do that faster than iterating. */
  bytes?: () => Promise<Uint8Array>;
}

/**
 * Receives a body pushed by its source, one callback per chunk: no promise
 * per chunk and nothing allocated while waiting for the next one. `data`
 * returns false to ask the source to pause until `resume()`.
 */
export interface BodyListener {
  data(chunk: Uint8Array): boolean;
  end(): void;
  error(err: unknown): void;
}

/** A body that can also push its chunks to a listener instead of being iterated. */
export interface PushBody extends AsyncIterator<Uint8Array> {
  /** Delivers what is queued and then every further chunk to `listener`; iteration must not be used after this. */
  subscribe(listener: BodyListener): void;
  /** Resumes a source paused by `data` returning false. */
  resume(): void;
}

export function isPushBody(body: AsyncIterator<Uint8Array>): body is PushBody {
  return typeof (body as Partial<PushBody>).subscribe === "function";
}

/** Moves one call to an upstream and back. HTTP for real providers, in-process for the demo. */
export interface Transport {
  send(call: UpstreamCall, signal: AbortSignal, timeouts: Timeouts): Promise<UpstreamResponse>;
  close(): Promise<void>;
}

/** Reads a whole response body into one Buffer. */
export async function readBody(res: UpstreamResponse): Promise<Buffer> {
  if (res.bytes === undefined) return readAll(res.body);
  const u8 = await res.bytes();
  return Buffer.from(u8.buffer, u8.byteOffset, u8.byteLength);
}

/** Reads a whole body into one Buffer. */
export async function readAll(body: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const parts: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    const b = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk);
    parts.push(b);
    size += b.length;
  }
  return parts.length === 1 ? parts[0] : Buffer.concat(parts, size);
}
