/**
 * Google's errors: `{"error":{"code":429,"message":"…","status":"RESOURCE_EXHAUSTED","details":[…]}}`,
 * as a status or as a stream event. The canonical status name says what
 * happened; details may add the reason (ErrorInfo) and when to retry (RetryInfo).
 */
import { keyFault, keyRefused } from "../openai/errors.ts";
import { GatewayError } from "../../protocol/errors.ts";
import { parseRetryAfter } from "../../protocol/retry-after.ts";
import type { UpstreamFailure } from "../types.ts";

/** google.rpc.Code names and the HTTP status each stands for. */
const CANONICAL: Record<string, number> = {
  INVALID_ARGUMENT: 400,
  FAILED_PRECONDITION: 400,
  OUT_OF_RANGE: 400,
  UNAUTHENTICATED: 401,
  PERMISSION_DENIED: 403,
  NOT_FOUND: 404,
  ALREADY_EXISTS: 409,
  ABORTED: 409,
  RESOURCE_EXHAUSTED: 429,
  CANCELLED: 499,
  UNKNOWN: 500,
  INTERNAL: 500,
  DATA_LOSS: 500,
  UNIMPLEMENTED: 501,
  UNAVAILABLE: 503,
  DEADLINE_EXCEEDED: 504,
};

/** Statuses worth another attempt: overloads, rate limits, server faults, timeouts, aborted transactions. */
const RETRYABLE = new Set([408, 409, 429, 500, 502, 503, 504]);

interface GoogleError {
  message: string;
  /** The canonical status name, e.g. RESOURCE_EXHAUSTED. */
  status?: string;
  code?: number;
  /** ErrorInfo's reason, e.g. API_KEY_INVALID. */
  reason?: string;
  /** RetryInfo's retryDelay, in ms. */
  retryDelayMs?: number;
}

function readDetails(details: unknown): Pick<GoogleError, "reason" | "retryDelayMs"> {
  const out: Pick<GoogleError, "reason" | "retryDelayMs"> = {};
  if (!Array.isArray(details)) return out;
  for (const d of details as Array<Record<string, unknown> | null>) {
    if (typeof d?.reason === "string") out.reason ??= d.reason;
    const delay = typeof d?.retryDelay === "string" ? /^(\d+(?:\.\d+)?)s$/.exec(d.retryDelay) : null;
    if (delay !== null) out.retryDelayMs ??= Math.round(Number(delay[1]) * 1000);
  }
  return out;
}

/** The error object of a Google error body; undefined when `e` is none. */
function readError(e: unknown): GoogleError | undefined {
  if (typeof e !== "object" || e === null || Array.isArray(e)) return undefined;
  const f = e as { message?: unknown; status?: unknown; code?: unknown; details?: unknown };
  const out: GoogleError = { message: typeof f.message === "string" ? f.message : "upstream sent an error", ...readDetails(f.details) };
  if (typeof f.status === "string") out.status = f.status;
  if (typeof f.code === "number" && Number.isInteger(f.code)) out.code = f.code;
  return out;
}

/**
 * The HTTP status an error stands for. A refused key is 401 whatever Google
 * answered (it says 400 INVALID_ARGUMENT), so clients see an authentication
 * error and the key is never retried.
 */
function statusOf(e: GoogleError, fallback: number): number {
  if (e.reason === "API_KEY_INVALID" || e.reason === "API_KEY_EXPIRED") return 401;
  const named = e.status === undefined ? undefined : CANONICAL[e.status];
  if (named !== undefined) return named;
  if (e.code !== undefined && e.code >= 400 && e.code <= 599) return e.code;
  return fallback;
}

function classified(status: number, e: GoogleError): GatewayError {
  // A refused key (401/403) is the provider's fault, not the client's: another key, another target.
  const fault = keyFault(status, { message: e.message, type: e.status, code: e.reason });
  if (fault !== undefined) return keyRefused(status, fault, { message: e.message, type: e.status, code: e.reason });
  const retryable = RETRYABLE.has(status);
  const err = new GatewayError(retryable ? "SY_ERR_UPSTREAM_STATUS" : "SY_ERR_UPSTREAM_CLIENT_ERROR", e.message, { status, retryable });
  err.upstream = { type: e.status, code: e.reason };
  if (e.retryDelayMs !== undefined && retryable) err.retryAfterMs = e.retryDelayMs;
  return err;
}

/** Classifies an HTTP failure by Google's error body, else by its status. */
export function classifyGeminiStatus(failure: UpstreamFailure, now: number): GatewayError {
  let body: unknown;
  try {
    body = JSON.parse(failure.body);
  } catch {
    // not JSON: a proxy's page or an empty body
  }
  // Some Google front ends answer with a one-element array of the error.
  const root = Array.isArray(body) ? body[0] : body;
  const e = readError((root as { error?: unknown } | null)?.error);
  if (e === undefined) {
    const text = failure.body.trim();
    // Not cut here: the engine redacts before it cuts, so no half of a secret survives.
    const message = text ? `upstream answered ${failure.status}: ${text}` : `upstream answered ${failure.status}`;
    return classified(failure.status, { message });
  }
  const err = classified(e.reason === "API_KEY_INVALID" || e.reason === "API_KEY_EXPIRED" ? 401 : failure.status, e);
  const after = parseRetryAfter(failure.headers["retry-after"], now);
  if (after !== undefined && err.retryable) err.retryAfterMs = after;
  return err;
}

/** An error event in a stream (`data: {"error":{…}}`), classified as the same error sent as a status; undefined for any other event. */
export function classifyGeminiStreamError(payload: unknown): GatewayError | undefined {
  if (typeof payload !== "object" || payload === null) return undefined;
  const raw = (payload as { error?: unknown }).error;
  if (raw === undefined || raw === null || raw === false) return undefined;
  const e = readError(raw) ?? { message: typeof raw === "string" ? raw : `upstream sent an error event: ${JSON.stringify(raw)}` };
  // Nothing to go by: a failing upstream, tried again.
  return classified(statusOf(e, 502), e);
}
