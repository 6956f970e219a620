import { type AttemptRecord, type GatewayError, openaiCode } from "../protocol/errors.ts";

/**
 * The OpenAI error object: `{"message","type","code","param"}` and our code in
 * `switchyard_code`. For an upstream's own client error, its type, code and
 * param pass through.
 */
export function openaiError(err: GatewayError): Record<string, unknown> {
  const upstream = err.code === "SY_ERR_UPSTREAM_CLIENT_ERROR" ? err.upstream : undefined;
  const error: Record<string, unknown> = {
    message: err.message,
    type: upstream?.type ?? err.type,
    code: upstream?.code ?? openaiCode(err.code) ?? err.code,
    param: upstream?.param ?? err.param ?? null,
    switchyard_code: err.code,
  };
  return error;
}

/** An error response body in OpenAI's shape, plus the attempts made, so a client can see why the gateway gave up. */
export function openaiErrorBody(err: GatewayError): string {
  const error = openaiError(err);
  if (err.attempts !== undefined && err.attempts.length > 0) error.attempts = err.attempts.map(attemptJson);
  return JSON.stringify({ error });
}

function attemptJson(a: AttemptRecord): Record<string, unknown> {
  return { target: a.target, status: a.status ?? null, code: a.code ?? null, message: a.message, duration_ms: Math.round(a.durationMs) };
}
