import { GatewayError } from "../protocol/errors.ts";
import { eventData, firstEventEnd } from "../protocol/sse.ts";
import type { Operation } from "../providers/types.ts";
import { classifyTransportError } from "../upstream/errors.ts";
import { readBody } from "../upstream/transport.ts";
import type { AttemptCall, AttemptFn } from "./attempt-chain.ts";
import type { PreparedTarget } from "./routes.ts";

/** A successful attempt, ready to be sent downstream. */
export interface Committed {
  status: number;
  contentType: string;
  /** The whole body (non-streaming). */
  body?: Buffer;
  /** Streaming: the bytes read so far (at least the first event) and the rest of the body. */
  head?: Buffer;
  rest?: AsyncIterator<Uint8Array>;
}

const MAX_ERROR_BODY = 64 * 1024;

/**
 * One upstream attempt. It resolves only once the response is known to be
 * good: a 2xx with a parseable body, or for streams the status plus the first
 * data event. Everything before that point fails over without the client noticing.
 */
export function sendAttempt(now: () => number): AttemptFn {
  return (call) => attempt(call, now);
}

async function attempt({ op, body, stream, target, signal }: AttemptCall, now: () => number): Promise<Committed> {
  const call = target.adapter.buildCall(op, body, target.model, target.provider);
  let res;
  try {
    res = await target.transport.send(call, signal, target.timeouts);
  } catch (err) {
    throw classifyTransportError(err, signal, target.label);
  }
  const contentType = headerValue(res.headers["content-type"]) ?? "application/json";
  if (res.status < 200 || res.status >= 300) {
    let text = "";
    try {
      const buf = await readBody(res);
      text = buf.subarray(0, MAX_ERROR_BODY).toString("utf8");
    } catch (err) {
      if (signal.aborted) throw classifyTransportError(err, signal, target.label);
    }
    throw target.adapter.classifyStatus({ status: res.status, headers: res.headers, body: text }, now());
  }
  if (!stream) {
    let buf: Buffer;
    try {
      buf = await readBody(res);
    } catch (err) {
      throw classifyTransportError(err, signal, target.label);
    }
    try {
      JSON.parse(buf.toString("utf8"));
    } catch {
      throw malformed(target.label, "a response body that is not valid JSON");
    }
    return { status: res.status, contentType, body: buf };
  }
  return await firstEvent(res.body[Symbol.asyncIterator](), res.status, contentType, target, signal);
}

async function firstEvent(
  it: AsyncIterator<Uint8Array>,
  status: number,
  contentType: string,
  target: PreparedTarget,
  signal: AbortSignal,
): Promise<Committed> {
  const label = target.label;
  let head: Buffer = Buffer.alloc(0);
  let scanned = 0;
  for (;;) {
    let r: IteratorResult<Uint8Array>;
    try {
      r = await it.next();
    } catch (err) {
      throw classifyTransportError(err, signal, label);
    }
    if (r.done) {
      if (head.length === 0) throw malformed(label, "an empty stream");
      const data = eventData(head.subarray(scanned).toString("utf8"));
      if (data !== undefined) check(data, target);
      return { status, contentType, head, rest: it };
    }
    const chunk = Buffer.isBuffer(r.value) ? r.value : Buffer.from(r.value);
    head = head.length === 0 ? chunk : Buffer.concat([head, chunk]);
    // Skip comment-only events (keep-alives some providers send first) until a data event arrives.
    for (;;) {
      const end = firstEventEnd(head.subarray(scanned));
      if (end === 0) break;
      const data = eventData(head.subarray(scanned, scanned + end).toString("utf8"));
      scanned += end;
      if (data !== undefined) {
        check(data, target);
        return { status, contentType, head, rest: it };
      }
    }
  }
}

/**
 * The first event must be well-formed and not an error, or the target is not
 * yet committed to. The adapter says what an error means: a refused key ends
 * the request like a 401 would, an overload moves on to the next attempt.
 */
function check(data: string, target: PreparedTarget): void {
  if (data === "[DONE]" || data[0] !== "{") return;
  let parsed: unknown;
  try {
    parsed = JSON.parse(data);
  } catch {
    throw malformed(target.label, "a first stream event that is not valid JSON");
  }
  const err = target.adapter.classifyStreamError(parsed);
  if (err !== undefined) throw err;
}

function malformed(label: string, what: string): GatewayError {
  return new GatewayError("SY_ERR_UPSTREAM_MALFORMED", `${label} sent ${what}`, { retryable: true });
}

function headerValue(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}
