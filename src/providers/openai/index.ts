import { GatewayError } from "../../protocol/errors.ts";
import { parseRetryAfter } from "../../protocol/retry-after.ts";
import type { CallSpec, Operation, PreparedProvider, ProviderAdapter, UpstreamCall, UpstreamFailure } from "../types.ts";

const PATHS: Record<Operation, string> = {
  chat: "/chat/completions",
  // Only reached when the client's API passes through: responses with `responses: true`; messages never.
  messages: "/chat/completions",
  responses: "/responses",
  completions: "/completions",
  embeddings: "/embeddings",
};

/** Statuses worth another attempt, on this target later or on another one. */
const RETRYABLE = new Set([408, 409, 425, 429, 500, 502, 503, 504, 520, 521, 522, 523, 524, 529]);

interface ErrorBody {
  error?: { message?: unknown; type?: unknown; code?: unknown; param?: unknown } | string;
  message?: unknown;
}

function str(v: unknown): string | undefined {
  if (typeof v === "string") return v;
  if (typeof v === "number") return String(v);
  return undefined;
}

/** Reads message, type and code out of an OpenAI-shaped error body, or a short excerpt of anything else. */
export function readUpstreamError(status: number, body: string): { message: string; type?: string; code?: string; param?: string } {
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

type UpstreamError = ReturnType<typeof readUpstreamError>;

function classified(status: number, { message, type, code, param }: UpstreamError): GatewayError {
  const retryable = RETRYABLE.has(status);
  const err = new GatewayError(retryable ? "SY_ERR_UPSTREAM_STATUS" : "SY_ERR_UPSTREAM_CLIENT_ERROR", message, {
    status,
    retryable,
  });
  err.upstream = { type, code, param };
  return err;
}

/** Classifies an HTTP failure the way OpenAI-compatible upstreams mean it. */
export function classifyOpenAIStatus(failure: UpstreamFailure, now: number): GatewayError {
  const { status } = failure;
  const err = classified(status, readUpstreamError(status, failure.body));
  if (status === 429 || status === 503) {
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
 * An error in a stream's first event, classified by the status it carries,
 * else its code, else its type. One that names none of them is taken for a
 * failing upstream (502) and retried, as before a status was known.
 */
export function classifyOpenAIStreamError(payload: unknown): GatewayError | undefined {
  if (payload === null || typeof payload !== "object") return undefined;
  const e = (payload as { error?: unknown }).error;
  if (e === undefined || e === null || e === false) return undefined;
  let info: UpstreamError;
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

/** An OpenAI-compatible upstream: the request body passes through with only the model name replaced. */
export const openaiAdapter: ProviderAdapter = {
  type: "openai",
  chatApi: "openai-chat",

  supports: () => true,

  alsoSpeaks: (api, provider) => api === "openai-responses" && provider.config.responses === true,

  authHeaders: (key) => ({ authorization: `Bearer ${key}` }),

  buildCall({ op, body, model, provider, headers }: CallSpec): UpstreamCall {
    const payload = body.model === model ? body : { ...body, model };
    return { method: "POST", path: provider.pathPrefix + PATHS[op], headers, body: JSON.stringify(payload) };
  },

  probeCall(provider: PreparedProvider, headers: Record<string, string>): UpstreamCall {
    return { method: "GET", path: `${provider.pathPrefix}/models`, headers };
  },

  classifyStatus: classifyOpenAIStatus,

  classifyStreamError: classifyOpenAIStreamError,
};
