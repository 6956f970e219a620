import { GatewayError, isGatewayError } from "../protocol/errors.ts";

/**
 * Maps what undici and the socket layer throw onto the error catalogue, each
 * timeout phase with its own message. When our own signal aborted the call,
 * its reason (client abort or total deadline) wins over whatever undici says.
 */
export function classifyTransportError(err: unknown, signal: AbortSignal, target: string): GatewayError {
  if (signal.aborted && isGatewayError(signal.reason)) return signal.reason;
  if (isGatewayError(err)) return err;
  const code = (err as { code?: string } | null)?.code ?? "";
  switch (code) {
    case "UND_ERR_CONNECT_TIMEOUT":
      return new GatewayError("SY_ERR_CONNECT_TIMEOUT", `timed out connecting to ${target}`, { retryable: true, cause: err });
    case "UND_ERR_HEADERS_TIMEOUT":
      return new GatewayError("SY_ERR_FIRST_BYTE_TIMEOUT", `timed out waiting for the first byte from ${target}`, {
        retryable: true,
        cause: err,
      });
    case "UND_ERR_BODY_TIMEOUT":
      return new GatewayError("SY_ERR_IDLE_TIMEOUT", `${target} went idle mid-response (idle timeout)`, {
        retryable: true,
        cause: err,
      });
    case "ECONNREFUSED":
    case "ENOTFOUND":
    case "EAI_AGAIN":
    case "EHOSTUNREACH":
    case "ENETUNREACH":
    case "UND_ERR_CONNECT":
      return new GatewayError("SY_ERR_UPSTREAM_CONNECT", `could not connect to ${target} (${code})`, {
        retryable: true,
        cause: err,
      });
    default:
      return new GatewayError("SY_ERR_UPSTREAM_RESET", `connection to ${target} failed (${code || describe(err)})`, {
        retryable: true,
        cause: err,
      });
  }
}

function describe(err: unknown): string {
  if (err instanceof Error) return err.message.slice(0, 120);
  return String(err).slice(0, 120);
}
