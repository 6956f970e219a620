import { GatewayError } from "../../protocol/errors.ts";
import { parseRetryAfter } from "../../protocol/retry-after.ts";
import { keyFault, keyRefused } from "../openai/errors.ts";
import type { UpstreamFailure } from "../types.ts";

/**
 * The status each of Anthropic's error types stands for
 * (https://docs.anthropic.com/en/api/errors), so that one sent as a stream
 * event is classified as the same error sent as a status would be.
 */
const ERROR_STATUS: Record<string, number> = {
  invalid_request_error: 400,
  authentication_error: 401,
  billing_error: 402,
  permission_error: 403,
  not_found_error: 404,
  request_too_large: 413,
  rate_limit_error: 429,
  api_error: 500,
  timeout_error: 504,
  overloaded_error: 529,
};

/** Worth another attempt: rate limits, Anthropic's overload (529) and server-side failures. */
const RETRYABLE = new Set([408, 409, 425, 429, 500, 502, 503, 504, 520, 521, 522, 523, 524, 529]);

interface ErrorInfo {
  message: string;
  type?: string;
}

/** Anthropic's `{"type":"error","error":{"type","message"}}` (or anything else, as text). */
function readError(status: number, body: string): ErrorInfo {
  try {
    const parsed = JSON.parse(body) as { error?: { type?: unknown; message?: unknown } } | null;
    const e = parsed?.error;
    if (typeof e === "object" && e !== null && typeof e.message === "string") {
      return typeof e.type === "string" ? { message: e.message, type: e.type } : { message: e.message };
    }
  } catch {
    // not JSON: the text itself
  }
  // Not cut here: the engine redacts before it cuts, so no half of a secret survives.
  const text = body.trim();
  return { message: text ? `upstream answered ${status}: ${text}` : `upstream answered ${status}` };
}

function classified(status: number, info: ErrorInfo): GatewayError {
  // A refused key (401/403) or an account out of credit (402) is the provider's fault: another key, another target.
  const fault = keyFault(status, { message: info.message, type: info.type, code: info.type === "billing_error" ? "insufficient_quota" : undefined });
  if (fault !== undefined) return keyRefused(status, fault, { message: info.message, type: info.type });
  const retryable = RETRYABLE.has(status);
  const err = new GatewayError(retryable ? "SY_ERR_UPSTREAM_STATUS" : "SY_ERR_UPSTREAM_CLIENT_ERROR", info.message, { status, retryable });
  err.upstream = { type: info.type };
  return err;
}

/** A non-2xx answer from Anthropic: 529 and 429 retried (429 and 529 after their retry-after), 4xx not. */
export function classifyAnthropicStatus(failure: UpstreamFailure, now: number): GatewayError {
  const { status } = failure;
  const err = classified(status, readError(status, failure.body));
  if (status === 429 || status === 503 || status === 529) {
    const after = parseRetryAfter(failure.headers["retry-after"], now);
    if (after !== undefined) err.retryAfterMs = after;
  }
  return err;
}

/**
 * An `event: error` of an Anthropic stream (`{"type":"error","error":{…}}`),
 * classified by the status its type stands for; a type this does not know
 * is taken for a failing upstream (502) and retried. Any other event is no error.
 */
export function classifyAnthropicStreamError(payload: unknown): GatewayError | undefined {
  if (typeof payload !== "object" || payload === null) return undefined;
  const p = payload as { type?: unknown; error?: unknown };
  if (p.type !== "error" && (p.type !== undefined || p.error === undefined)) return undefined;
  const e = p.error as { type?: unknown; message?: unknown } | null | undefined;
  const type = typeof e?.type === "string" ? e.type : undefined;
  const info: ErrorInfo = { message: typeof e?.message === "string" ? e.message : "upstream sent an error event", type };
  return classified((type !== undefined ? ERROR_STATUS[type] : undefined) ?? 502, info);
}
