import { GatewayError } from "../protocol/errors.ts";
import { eventData, firstEventEnd } from "../protocol/sse.ts";
import { randomUUID } from "node:crypto";
import { chatCodec } from "../codecs/index.ts";
import { readUsage } from "../codecs/openai-chat/usage.ts";
import type { AnswerContext, StreamDecoder, StreamEncoder } from "../codecs/types.ts";
import type { StreamPart, Usage } from "../protocol/chat.ts";
import { FRONT_API } from "../providers/types.ts";
import { classifyTransportError } from "../upstream/errors.ts";
import { readBody, type UpstreamResponse } from "../upstream/transport.ts";
import type { AttemptCall, AttemptFn } from "./attempt-chain.ts";
import { transformBody } from "./body-transform.ts";
import type { PreparedTarget } from "./routes.ts";

/** A successful attempt, ready to be sent downstream. */
export interface Committed {
  status: number;
  contentType: string;
  /** The whole body (non-streaming), in the client's API. */
  body?: Buffer;
  /** Streaming: the bytes read so far (at least the first event) and the rest of the body, in the client's API. */
  head?: Buffer;
  rest?: AsyncIterator<Uint8Array>;
  /** Token usage as the upstream reported it; for a stream, known once it has ended. */
  usage(): Usage | undefined;
  /** The upstream's response headers (rate limits read its x-ratelimit-* headers). */
  headers?: UpstreamResponse["headers"];
}

const MAX_ERROR_BODY = 64 * 1024;
const EMPTY = Buffer.alloc(0);
const noUsage = () => undefined;

/**
 * One upstream attempt. It resolves only once the response is known to be
 * good: a 2xx with a parseable body, or for streams the status plus the first
 * data event. Everything before that point fails over without the client noticing.
 *
 * When the client's API and the provider's differ (an OpenAI client, an
 * Anthropic upstream), the request goes out through the provider's codec and
 * the answer comes back through the client's; otherwise the bytes pass
 * through and are only read for usage.
 */
export function sendAttempt(now: () => number): AttemptFn {
  return (call) => attempt(call, now);
}

async function attempt(a: AttemptCall, now: () => number): Promise<Committed> {
  const { op, stream, target, signal } = a;
  const { adapter } = target;
  const frontApi = FRONT_API[op];
  if (!adapter.supports(frontApi === undefined ? op : "chat")) {
    throw new GatewayError("SY_ERR_BAD_REQUEST", `${target.label} (type ${target.provider.config.type}) does not serve ${op}`, { param: "model" });
  }
  const translate = frontApi !== undefined && adapter.chatApi !== frontApi && adapter.alsoSpeaks?.(frontApi, target.provider) !== true;
  const provider = chatCodec(adapter.chatApi);
  const front = frontApi === undefined ? undefined : chatCodec(frontApi);
  let body = a.body;
  if (translate) body = provider.encodeRequest!(a.internal(), target.model);
  else if (adapter.translateOp !== undefined && frontApi === undefined) body = adapter.translateOp.request(op, body, target.model);
  const headers = target.provider.keyHeaders[a.keyIndex ?? 0] ?? target.provider.keyHeaders[0];
  const call = adapter.buildCall({
    op: translate ? "chat" : op,
    body,
    model: target.model,
    stream,
    provider: target.provider,
    headers,
    passHeaders: translate ? undefined : a.passHeaders,
  });
  // A copy: the built headers may be the provider's shared key headers. Translated or not, the upstream joins the trace.
  if (a.traceHeaders !== undefined) call.headers = { ...call.headers, ...a.traceHeaders };
  let res;
  try {
    res = await target.transport.send(call, signal, target.timeouts);
  } catch (err) {
    throw classifyTransportError(err, signal, target.label);
  }
  const upstreamType = headerValue(res.headers["content-type"]) ?? "application/json";
  if (res.status < 200 || res.status >= 300) {
    let text = "";
    try {
      const buf = await readBody(res);
      text = buf.subarray(0, MAX_ERROR_BODY).toString("utf8");
    } catch (err) {
      if (signal.aborted) throw classifyTransportError(err, signal, target.label);
    }
    throw adapter.classifyStatus({ status: res.status, headers: res.headers, body: text }, now());
  }
  const ctx = (): AnswerContext => ({
    model: target.model,
    id: randomUUID().replaceAll("-", ""),
    created: Math.floor(now() / 1000),
    includeUsage: (a.body.stream_options as { include_usage?: unknown } | undefined)?.include_usage === true,
  });
  if (!stream) {
    let buf: Buffer;
    try {
      buf = await readBody(res);
    } catch (err) {
      throw classifyTransportError(err, signal, target.label);
    }
    let json: unknown;
    try {
      json = JSON.parse(buf.toString("utf8"));
    } catch {
      throw malformed(target.label, "a response body that is not valid JSON");
    }
    // Some upstreams answer 200 with an error body: it is classified like the same error sent as a status.
    if (typeof json === "object" && json !== null && ("error" in json || (json as { type?: unknown }).type === "error")) {
      const err = adapter.classifyStreamError(json);
      if (err !== undefined) throw err;
    }
    if (translate) {
      const result = provider.decodeResponse!(json);
      const out = Buffer.from(JSON.stringify(front!.encodeResponse!(result, ctx())));
      return { status: res.status, contentType: "application/json", body: out, usage: () => result.usage, headers: res.headers };
    }
    if (adapter.translateOp !== undefined && frontApi === undefined) {
      const out = adapter.translateOp.answer(op, json, target.model, a.body);
      const usage = readUsage(out.usage);
      return { status: res.status, contentType: "application/json", body: Buffer.from(JSON.stringify(out)), usage: () => usage, headers: res.headers };
    }
    const usage = front?.usageOf?.(json) ?? readUsage((json as { usage?: unknown } | null)?.usage);
    return { status: res.status, contentType: upstreamType, body: buf, usage: () => usage, headers: res.headers };
  }
  const it = res.body[Symbol.asyncIterator]();
  if (translate) {
    const committed = await translatedStream(it, res.status, target, signal, provider.streamDecoder!(adapter.classifyStreamError), front!.streamEncoder!(ctx()));
    committed.headers = res.headers;
    return committed;
  }
  const committed = await firstEvent(it, res.status, upstreamType, target, signal);
  committed.headers = res.headers;
  const tap = front?.usageTap?.();
  if (tap === undefined) return committed;
  tap.push(committed.head!);
  return {
    ...committed,
    rest: transformBody(committed.rest!, { step: (c) => (tap.push(c), c), finish: () => EMPTY }),
    usage: () => tap.usage(),
  };
}

/**
 * A stream in another API than the client's: decoded into parts and encoded
 * again. The attempt commits once the first event for the client is ready;
 * an error before it (an overloaded upstream's first event) fails over.
 */
async function translatedStream(
  it: AsyncIterator<Uint8Array>,
  status: number,
  target: PreparedTarget,
  signal: AbortSignal,
  decoder: StreamDecoder,
  encoder: StreamEncoder,
): Promise<Committed> {
  let usage: Usage | undefined;
  const encode = (parts: StreamPart[]): string => {
    for (const p of parts) if (p.type === "usage") usage = p.usage;
    return encoder.encode(parts);
  };
  let head = "";
  let ended = false;
  while (head === "") {
    let r: IteratorResult<Uint8Array>;
    try {
      r = await it.next();
    } catch (err) {
      throw classifyTransportError(err, signal, target.label);
    }
    if (r.done) {
      head = encode(decoder.end()) + encoder.end();
      ended = true;
      break;
    }
    head = encode(decoder.push(r.value));
  }
  const rest = ended
    ? transformBody(emptyBody(), { step: () => EMPTY, finish: () => EMPTY })
    : transformBody(it, {
        step: (c) => Buffer.from(encode(decoder.push(c))),
        finish: () => Buffer.from(encode(decoder.end()) + encoder.end()),
      });
  return { status, contentType: "text/event-stream", head: Buffer.from(head), rest, usage: () => usage };
}

function emptyBody(): AsyncIterator<Uint8Array> {
  return { next: async () => ({ done: true, value: undefined }), return: async () => ({ done: true, value: undefined }) };
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
      return { status, contentType, head, rest: it, usage: noUsage };
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
        return { status, contentType, head, rest: it, usage: noUsage };
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
