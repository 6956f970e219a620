/**
 * One catalogue of error codes. Every failure the gateway reports carries one
 * of these; each API front maps them once to its own error shape.
 */

export interface AttemptRecord {
  target: string;
  status?: number;
  code?: string;
  message: string;
  durationMs: number;
}

interface CatalogueEntry {
  status: number;
  type: string;
  /** OpenAI's own code for the same situation, which SDKs and apps check; sent as `code`, with ours beside it. */
  openai?: string;
}

export const ERRORS = {
  SY_ERR_BAD_REQUEST: { status: 400, type: "invalid_request_error" },
  SY_ERR_INVALID_JSON: { status: 400, type: "invalid_request_error" },
  SY_ERR_MODEL_NOT_FOUND: { status: 404, type: "invalid_request_error", openai: "model_not_found" },
  SY_ERR_UNAUTHORIZED: { status: 401, type: "invalid_request_error", openai: "invalid_api_key" },
  SY_ERR_FORBIDDEN: { status: 403, type: "permission_error" },
  SY_ERR_NOT_FOUND: { status: 404, type: "invalid_request_error" },
  SY_ERR_METHOD_NOT_ALLOWED: { status: 405, type: "invalid_request_error" },
  SY_ERR_BODY_TOO_LARGE: { status: 413, type: "invalid_request_error" },
  SY_ERR_UNSUPPORTED_MEDIA_TYPE: { status: 415, type: "invalid_request_error" },
  SY_ERR_BAD_HTTP: { status: 400, type: "invalid_request_error" },
  SY_ERR_REQUEST_TIMEOUT: { status: 408, type: "invalid_request_error" },
  SY_ERR_HEADERS_TOO_LARGE: { status: 431, type: "invalid_request_error" },
  SY_ERR_UPSTREAM_CLIENT_ERROR: { status: 400, type: "invalid_request_error" },
  SY_ERR_UPSTREAM_STATUS: { status: 502, type: "upstream_error" },
  SY_ERR_UPSTREAM_AUTH: { status: 502, type: "upstream_error" },
  SY_ERR_UPSTREAM_CONNECT: { status: 502, type: "upstream_error" },
  SY_ERR_UPSTREAM_RESET: { status: 502, type: "upstream_error" },
  SY_ERR_UPSTREAM_MALFORMED: { status: 502, type: "upstream_error" },
  SY_ERR_CONNECT_TIMEOUT: { status: 504, type: "timeout_error" },
  SY_ERR_FIRST_BYTE_TIMEOUT: { status: 504, type: "timeout_error" },
  SY_ERR_IDLE_TIMEOUT: { status: 504, type: "timeout_error" },
  SY_ERR_TOTAL_TIMEOUT: { status: 504, type: "timeout_error" },
  SY_ERR_CLIENT_ABORT: { status: 499, type: "client_closed_request" },
  SY_ERR_STREAM_ABANDONED: { status: 499, type: "client_closed_request" },
  SY_ERR_RATE_LIMITED: { status: 429, type: "rate_limit_error", openai: "rate_limit_exceeded" },
  SY_ERR_CONCURRENCY_LIMIT: { status: 503, type: "server_error" },
  SY_ERR_QUEUE_TIMEOUT: { status: 503, type: "server_error" },
  SY_ERR_DISABLED: { status: 503, type: "server_error" },
  SY_ERR_NO_HEALTHY_TARGET: { status: 503, type: "upstream_error" },
  SY_ERR_HEDGE_CANCELLED: { status: 499, type: "client_closed_request" },
  SY_ERR_SHUTTING_DOWN: { status: 503, type: "server_error" },
  SY_ERR_CONFIG: { status: 500, type: "server_error" },
  SY_ERR_INTERNAL: { status: 500, type: "server_error" },
} as const satisfies Record<string, CatalogueEntry>;

export type ErrorCode = keyof typeof ERRORS;

/** OpenAI's code for the situation a catalogue code names, where OpenAI has one. */
export function openaiCode(code: ErrorCode): string | undefined {
  return (ERRORS[code] as CatalogueEntry).openai;
}

export class GatewayError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly type: string;
  /** Whether another attempt (on this or another target) may succeed. */
  readonly retryable: boolean;
  /** How long the upstream (or the gateway's own limit) asked to wait (Retry-After), when it said so. */
  retryAfterMs?: number;
  /**
   * The target was passed over without a network call (a full rate window, a
   * concurrency limit, an open breaker): failover moves on at once, without
   * backoff and without spending an attempt.
   */
  skipped?: boolean;
  /** The upstream attempts made before giving up, for the final error body. */
  attempts?: AttemptRecord[];
  /** The request field the error is about, when there is one. */
  param?: string;
  /** What the upstream itself called the error, passed on to the client. */
  upstream?: { type?: string; code?: string; param?: string };

  constructor(
    code: ErrorCode,
    message: string,
    opts: { status?: number; retryable?: boolean; param?: string; cause?: unknown } = {},
  ) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = "GatewayError";
    this.code = code;
    this.status = opts.status ?? ERRORS[code].status;
    this.type = ERRORS[code].type;
    this.retryable = opts.retryable ?? false;
    if (opts.param !== undefined) this.param = opts.param;
  }
}

export function isGatewayError(err: unknown): err is GatewayError {
  return err instanceof GatewayError;
}
