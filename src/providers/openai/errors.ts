import { GatewayError } from "../../protocol/errors.ts";
import { parseRetryAfter } from "../../protocol/retry-after.ts";
import type { UpstreamFailure } from "../types.ts";

/** Statuses worth another attempt, on this target later or on another one. */
const RETRYABLE = new Set([408, 409, 425, 429, 500, 502, 503, 504, 520, 521, 522, 523, 524, 529]);

/** Codes and types upstreams use for a key that has run out of quota or credit (OpenAI, DeepSeek, OpenRouter …). */
const QUOTA = new Set([
  "insufficient_quota",
  "quota_exceeded",
  "billing_hard_limit_reached",
  "billing_not_active",
  "insufficient_balance",
  "insufficient_credits",
]);

/** What is wrong with the key an attempt used, when that is what failed it. */
export type KeyFault = "credentials" | "quota";

interface ErrorBody {
  error?: { message?: unknown; type?: unknown; code?: unknown; param?: unknown } | string;
  message?: unknown;
}

function str(v: unknown): string | undefined {
  if (typeof v === "string") return v;
  if (typeof v === "number") return String(v);
  return undefined;
}

export interface UpstreamErrorInfo {
  message: string;
  type?: string;
  code?: string;
  param?: string;
}

/** Reads message, type and code out of an OpenAI-shaped error body, or a short excerpt of anything else. */
export function readUpstreamError(status: number, body: string): UpstreamErrorInfo {
  let parsed: ErrorBody | undefined;
  try {
    parsed = JSON.parse(body) as ErrorBody;
  } catch {
    // not JSON: fall through to the excerpt
  }
  if (parsed && typeof parsed === "object") {
    if (typeof parsed.error === "string") return { message: parsed.error };
    if (parsed.error && typeof parsed.error.message === "string") {
      return { message: parsed.error.message, type: str(parsed.error.type), code: str(parsed.error.code), param: str(parsed.error.param) };
    }
    if (typeof parsed.message === "string") return { message: parsed.message };
  }
  // Not cut here: the engine redacts before it cuts, so no half of a secret survives.
  const text = body.trim();
  return { message: text ? `upstream answered ${status}: ${text}` : `upstream answered ${status}` };
}

/**
 * Whether a failure is the key's: refused (401, 403) or out of quota or
 * credit (402, or a 429 that says so). A 403 for flagged input (OpenRouter's
 * moderation) is about the request, not the key.
 */
export function keyFault(status: number, { message, type, code }: UpstreamErrorInfo): KeyFault | undefined {
  const quota = (code !== undefined && QUOTA.has(code)) || (type !== undefined && QUOTA.has(type));
  if (status === 402 || (quota && (status === 429 || status === 403))) return "quota";
  if (status === 401) return "credentials";
  if (status === 403 && !/moderation|flagged/i.test(message)) return "credentials";
  return undefined;
}

/**
 * The error of an attempt whose key failed it: the provider's fault, not the
 * client's, so it is retried with another key and then another target, and a
 * client that nothing could serve gets a 502. The key wrapper
 * (engine/wrappers/keys.ts) benches the key and names the provider.
 */
export function keyRefused(status: number, fault: KeyFault, info: UpstreamErrorInfo): GatewayError {
  const what = fault === "quota" ? "key out of quota or credit" : "key refused";
  const upstreamCode = info.code !== undefined && info.code !== String(status) ? ` ${info.code}` : "";
  const err = new GatewayError("SY_ERR_UPSTREAM_AUTH", `${what} (${status}${upstreamCode}): ${info.message}`, { retryable: true });
  err.upstream = { type: info.type, code: info.code, param: info.param };
  return err;
}

/** A failure classified by its status: the key's fault, retryable, or the client's own error. */
export function classified(status: number, info: UpstreamErrorInfo): GatewayError {
  const fault = keyFault(status, info);
  if (fault !== undefined) return keyRefused(status, fault, info);
  const retryable = RETRYABLE.has(status);
  const err = new GatewayError(retryable ? "SY_ERR_UPSTREAM_STATUS" : "SY_ERR_UPSTREAM_CLIENT_ERROR", info.message, {
    status,
    retryable,
  });
  err.upstream = { type: info.type, code: info.code, param: info.param };
  return err;
}

/** Classifies an HTTP failure the way OpenAI-compatible upstreams mean it. */
export function classifyOpenAIStatus(failure: UpstreamFailure, now: number): GatewayError {
  const { status } = failure;
  const err = classified(status, readUpstreamError(status, failure.body));
  if (err.code === "SY_ERR_UPSTREAM_STATUS" && (status === 429 || status === 503)) {
    const after = parseRetryAfter(failure.headers["retry-after"], now);
    if (after !== undefined) err.retryAfterMs = after;
  }
  return err;
}

/**
 * The status each error code or type stands for when an upstream sends it in
 * a stream event instead of as a status (OpenAI's codes, and the names other
 * OpenAI-compatible providers use for the same thing).
 */
const STREAM_ERROR_STATUS: Record<string, number> = {
  invalid_request_error: 400,
  context_length_exceeded: 400,
  invalid_value: 400,
  invalid_api_key: 401,
  authentication_error: 401,
  invalid_authentication: 401,
  unauthorized: 401,
  insufficient_credits: 402,
  insufficient_balance: 402,
  permission_denied: 403,
  permission_error: 403,
  insufficient_permissions: 403,
  model_not_found: 404,
  not_found_error: 404,
  rate_limit_exceeded: 429,
  rate_limit_error: 429,
  insufficient_quota: 429,
  server_error: 500,
  api_error: 500,
  internal_error: 500,
  service_unavailable: 503,
  overloaded: 529,
  overloaded_error: 529,
};

function httpStatus(v: unknown): number | undefined {
  const n = typeof v === "string" && /^\d{3}$/.test(v) ? Number(v) : v;
  return typeof n === "number" && Number.isInteger(n) && n >= 400 && n <= 599 ? n : undefined;
}

/**
 * An error in a stream's event, classified by the status it carries, else its
 * code, else its type, exactly as the same error sent as a status would be
 * (so `invalid_api_key` is the key's fault). One that names none of them is
 * taken for a failing upstream (502) and retried.
 */
export function classifyOpenAIStreamError(payload: unknown): GatewayError | undefined {
  if (payload === null || typeof payload !== "object") return undefined;
  const e = (payload as { error?: unknown }).error;
  if (e === undefined || e === null || e === false) return undefined;
  let info: UpstreamErrorInfo;
  let status: number | undefined;
  if (typeof e === "object") {
    const f = e as { message?: unknown; type?: unknown; code?: unknown; param?: unknown; status?: unknown };
    info = { message: str(f.message) ?? "upstream sent an error event", type: str(f.type), code: str(f.code), param: str(f.param) };
    status =
      httpStatus(f.status) ??
      httpStatus(f.code) ??
      (info.code !== undefined ? STREAM_ERROR_STATUS[info.code] : undefined) ??
      (info.type !== undefined ? STREAM_ERROR_STATUS[info.type] : undefined);
  } else {
    // Not cut here: the engine redacts before it cuts.
    info = { message: typeof e === "string" ? e : `upstream sent an error event: ${JSON.stringify(e)}` };
  }
  return classified(status ?? 502, info);
}
