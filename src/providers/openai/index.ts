import { GatewayError } from "../../protocol/errors.ts";
import { parseRetryAfter } from "../../protocol/retry-after.ts";
import type { Operation, PreparedProvider, ProviderAdapter, UpstreamCall, UpstreamFailure } from "../types.ts";

const PATHS: Record<Operation, string> = {
  chat: "/chat/completions",
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

/** Classifies an HTTP failure the way OpenAI-compatible upstreams mean it. */
export function classifyOpenAIStatus(failure: UpstreamFailure, now: number): GatewayError {
  const { status } = failure;
  const { message, type, code, param } = readUpstreamError(status, failure.body);
  const retryable = RETRYABLE.has(status);
  const err = new GatewayError(retryable ? "SY_ERR_UPSTREAM_STATUS" : "SY_ERR_UPSTREAM_CLIENT_ERROR", message, {
    status,
    retryable,
  });
  err.upstream = { type, code, param };
  if (status === 429 || status === 503) {
    const after = parseRetryAfter(failure.headers["retry-after"], now);
    if (after !== undefined) err.retryAfterMs = after;
  }
  return err;
}

/** An OpenAI-compatible upstream: the request body passes through with only the model name replaced. */
export const openaiAdapter: ProviderAdapter = {
  type: "openai",

  buildCall(op: Operation, body: Record<string, unknown>, upstreamModel: string, provider: PreparedProvider): UpstreamCall {
    const payload = body.model === upstreamModel ? body : { ...body, model: upstreamModel };
    return {
      method: "POST",
      path: provider.pathPrefix + PATHS[op],
      headers: provider.baseHeaders,
      body: JSON.stringify(payload),
    };
  },

  probeCall(provider: PreparedProvider): UpstreamCall {
    return { method: "GET", path: `${provider.pathPrefix}/models`, headers: provider.baseHeaders };
  },

  classifyStatus: classifyOpenAIStatus,
};
