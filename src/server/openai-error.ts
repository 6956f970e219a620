import type { GatewayError } from "../protocol/errors.ts";
import { openaiError } from "./errors.ts";

/**
 * The event that ends an OpenAI stream which has already begun with a
 * failure: the same error object as a response body, plus the status the
 * response line can no longer carry.
 */
export function openaiErrorEvent(err: GatewayError): Buffer {
  const error = openaiError(err);
  error.status = err.status;
  return Buffer.from(`data: ${JSON.stringify({ error })}\n\n`);
}
