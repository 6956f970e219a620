import { isGatewayError } from "../../protocol/errors.ts";
import { redactError } from "../../protocol/redact.ts";
import type { AttemptWrapper } from "../attempt-chain.ts";

/**
 * Redacts a failed attempt's error as soon as it leaves the upstream call,
 * so no layer above (records, health, logs, the client) ever holds the
 * unredacted text. Every string the upstream wrote is cleaned, then cut.
 */
export function redaction(secrets: readonly string[]): AttemptWrapper {
  return (next) => (call) =>
    next(call).catch((err: unknown) => {
      throw isGatewayError(err) ? redactError(err, secrets) : err;
    });
}
