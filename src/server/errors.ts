import { type AttemptRecord, type GatewayError, openaiCode } from "../protocol/errors.ts";

/**
 * The OpenAI error shape: `{"error":{"message","type","code","param"}}`, plus
 * the attempts made, so a client can see why the gateway gave up. For an
 * upstream's own client error, its type, code and param pass through.
 */
export function openaiErrorBody(err: GatewayError): string {
  const upstream = err.code === "SY_ERR_UPSTREAM_CLIENT_ERROR" ? err.upstream : undefined;
  const error: Record<string, unknown> = {
    message: err.message,
    type: upstream?.type ?? err.type,
    code: upstream?.code ?? openaiCode(err.code) ?? err.code,
    param: upstream?.param ?? err.param ?? null,
    switchyard_code: err.code,
  };
  if (err.attempts !== undefined && err.attempts.length > 0) error.attempts = err.attempts.map(attemptJson);
  return JSON.stringify({ error });
}

function attemptJson(a: AttemptRecord): Record<string, unknown> {
  return { target: a.target, status: a.status ?? null, code: a.code ?? null, message: a.message, duration_ms: Math.round(a.durationMs) };
}
