/**
 * How the mock upstream writes a reply: plain JSON, paced SSE, or one of the
 * injected faults. Kept apart from routing so each stays small; everything
 * here works on one exchange and its single pending timer.
 */
import type { ServerResponse } from "node:http";
import { MAX_DURATION_MS } from "../config/duration.ts";
import type { FaultSpec } from "./faults.ts";
import { errorBody } from "./openai-wire.ts";

/** Where the mock's delays and pacing come from; tests pass a fake one to assert order instead of durations. */
export interface MockClock {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const realClock: MockClock = {
  now: () => performance.timeOrigin + performance.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

export interface Exchange {
  res: ServerResponse;
  /** Sent as x-request-id and used in completion ids. */
  rid: string;
  clock: MockClock;
  /** The one pending delay of this exchange, cleared when it closes. */
  timer: unknown;
  /** We ended the connection on purpose (a fault), so its close is not a client abort. */
  deliberate: boolean;
  /** `status` is set as the response head is written, so a test can tell "answered" from "holding". */
  record: { status: number | undefined };
}

/** How a wire format writes the injected errors; a reply that names none gets OpenAI's. */
export interface FaultShapes {
  /** The body of an injected status error. */
  status(status: number): string;
  /** The event of an injected error in a stream. */
  errorEvent: string;
  /** An injected error in place of a whole answer. */
  errorAnswer: { status: number; json: string };
  /** An event cut off mid-JSON. */
  malformedEvent: string;
}

export type Reply =
  | { stream: false; json: string; tokenCount: number; faults?: FaultShapes }
  /** `tokenStart`: index of the first token event (after any role-only preamble). */
  | { stream: true; events: string[]; tokenStart: number; tokenCount: number; faults?: FaultShapes };

export interface Pace {
  ttftMs: number;
  tps: number;
}

export function errorJson(message: string, type: string, code: string | null, param: string | null = null): string {
  return JSON.stringify(errorBody(message, type, code, param));
}

function statusError(status: number): string {
  if (status === 429) return errorJson("Rate limit reached (injected by the Switchyard mock).", "requests", "rate_limit_exceeded");
  const type = status >= 500 ? "server_error" : "invalid_request_error";
  return errorJson(`Injected status ${status} from the Switchyard mock.`, type, `mock_status_${status}`);
}

export function later(ex: Exchange, ms: number, fn: () => void): void {
  if (ms <= 0) return fn();
  // Node fires a longer timer after 1 ms; a slow enough tps or a long generation must wait, not rush.
  ex.timer = ex.clock.setTimeout(
    () => {
      if (!ex.res.destroyed) fn();
    },
    Math.min(ms, MAX_DURATION_MS),
  );
}

function writeHead(ex: Exchange, status: number, headers: Record<string, string | number>): void {
  ex.record.status = status;
  ex.res.writeHead(status, headers);
}

export function sendJson(ex: Exchange, status: number, json: string, extra?: Record<string, string>): void {
  if (status === 204 || status === 304) {
    // These carry no body, and a content-length would promise one to a keep-alive client.
    writeHead(ex, status, { "x-request-id": ex.rid, ...extra });
    return void ex.res.end();
  }
  writeHead(ex, status, {
    "content-type": "application/json",
    "content-length": Buffer.byteLength(json),
    "x-request-id": ex.rid,
    ...extra,
  });
  ex.res.end(json);
}

function sseHead(ex: Exchange): void {
  writeHead(ex, 200, { "content-type": "text/event-stream; charset=utf-8", "cache-control": "no-cache", "x-request-id": ex.rid });
}

/** Sends a normal reply after `latencyMs` has already passed. */
export function sendReply(ex: Exchange, reply: Reply, pace: Pace): void {
  if (reply.stream) return sendStream(ex, reply, pace);
  // A real non-streaming reply arrives only once the whole completion has been generated.
  const n = reply.tokenCount;
  const generation = pace.tps > 0 && n > 1 ? ((n - 1) * 1000) / pace.tps : 0;
  later(ex, pace.ttftMs + generation, () => sendJson(ex, 200, reply.json));
}

function sendStream(ex: Exchange, reply: Extract<Reply, { stream: true }>, pace: Pace): void {
  const { res } = ex;
  const { events, tokenStart, tokenCount: n } = reply;
  sseHead(ex);
  const paced = pace.tps > 0 && n > 1;
  if (pace.ttftMs <= 0 && !paced) return void res.end(events.join(""));
  res.flushHeaders();
  if (!paced) return later(ex, pace.ttftMs, () => res.end(events.join("")));
  // Deadlines count from the first token so timer lateness does not accumulate.
  const interval = 1000 / pace.tps;
  let first = 0;
  let i = 0;
  const step = (): void => {
    if (i === 0) {
      first = ex.clock.now();
      res.write(events.slice(0, tokenStart + 1).join(""));
    } else res.write(events[tokenStart + i]);
    i++;
    if (i >= n) return void res.end(events.slice(tokenStart + n).join(""));
    later(ex, Math.max(1, first + i * interval - ex.clock.now()), step);
  };
  later(ex, pace.ttftMs, step);
}

/** Answers with `fault` instead of a normal reply; faults replace ttft/tps pacing. */
export function sendFault(ex: Exchange, fault: FaultSpec, reply: Reply): void {
  const { res } = ex;
  const text = reply.stream ? reply.events.join("") : reply.json;
  const lead = reply.stream ? reply.events.slice(0, fault.after ?? 0).join("") : "";
  const head = (): void => {
    if (reply.stream) sseHead(ex);
    else writeHead(ex, 200, { "content-type": "application/json", "content-length": Buffer.byteLength(text), "x-request-id": ex.rid });
  };
  switch (fault.kind) {
    case "none":
      return sendReply(ex, reply, { ttftMs: 0, tps: 0 });
    case "status": {
      const status = fault.status ?? 500;
      const extra = fault.retryAfter === undefined ? undefined : { "retry-after": String(fault.retryAfter) };
      return sendJson(ex, status, reply.faults?.status(status) ?? statusError(status), extra);
    }
    case "reset":
      ex.deliberate = true;
      return void res.socket?.resetAndDestroy();
    case "stall-headers":
      return;
    case "stall-body":
      head();
      res.flushHeaders();
      if (lead !== "") res.write(lead);
      return;
    case "reset-mid": {
      head();
      const part = reply.stream ? lead : text.slice(0, Math.floor(text.length / 2));
      if (part === "") res.flushHeaders();
      else res.write(part);
      ex.deliberate = true;
      // destroySoon, not destroy: the good part must reach the client before the connection drops.
      return void res.socket?.destroySoon();
    }
    case "malformed":
      if (!reply.stream) return sendJson(ex, 200, text.slice(0, Math.max(1, Math.floor(text.length / 2))));
      head();
      return void res.end(lead + (reply.faults?.malformedEvent ?? 'data: {"id":"broken","object":"chat.completion.chunk","choices":[{"delta":\n\n'));
    case "error-event": {
      const err = errorJson("Injected error event from the Switchyard mock.", "server_error", "mock_error_event");
      if (!reply.stream) return reply.faults ? sendJson(ex, reply.faults.errorAnswer.status, reply.faults.errorAnswer.json) : sendJson(ex, 200, err);
      head();
      return void res.end(lead + (reply.faults?.errorEvent ?? `data: ${err}\n\n`));
    }
    case "trickle": {
      head();
      const size = fault.size ?? 16;
      const interval = fault.interval ?? 50;
      let at = 0;
      if (interval <= 0) {
        // A loop, not later(): with no delay that would recurse once per piece and overflow the stack.
        for (; at < text.length; at += size) res.write(text.slice(at, at + size));
        return void res.end();
      }
      const next = (): void => {
        res.write(text.slice(at, at + size));
        at += size;
        if (at >= text.length) res.end();
        else later(ex, interval, next);
      };
      return next();
    }
  }
}
