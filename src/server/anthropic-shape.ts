import type { GatewayError } from "../protocol/errors.ts";
import type { ErrorShape } from "./shapes.ts";

/** Anthropic's error types, by the status the gateway answers with. */
function anthropicType(err: GatewayError): string {
  if (err.code === "SY_ERR_UPSTREAM_CLIENT_ERROR" && err.upstream?.type !== undefined && /_error$/.test(err.upstream.type)) return err.upstream.type;
  switch (err.status) {
    case 400:
    case 405:
    case 408:
    case 415:
    case 422:
    case 431:
      return "invalid_request_error";
    case 401:
      return "authentication_error";
    case 403:
      return "permission_error";
    case 404:
      return "not_found_error";
    case 413:
      return "request_too_large";
    case 429:
      return "rate_limit_error";
    case 503:
    case 529:
      return "overloaded_error";
    case 504:
      return "timeout_error";
    default:
      return "api_error";
  }
}

function payload(err: GatewayError): Record<string, unknown> {
  return { type: "error", error: { type: anthropicType(err), message: err.message, switchyard_code: err.code } };
}

/**
 * Anthropic's Messages API: `{"type":"error","error":{"type","message"}}`
 * (with 529/503 as overloaded_error, which Claude Code retries), and the
 * same as an `event: error` that ends a stream.
 */
export const anthropicShape: ErrorShape = {
  body: (err) => JSON.stringify(payload(err)),
  event: (err) => Buffer.from(`event: error\ndata: ${JSON.stringify(payload(err))}\n\n`),
};
