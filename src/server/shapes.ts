import type { GatewayError } from "../protocol/errors.ts";
import { openaiErrorBody } from "./errors.ts";
import { openaiErrorEvent } from "./openai-error.ts";

/**
 * How one client API writes errors: as a whole response body, and as the
 * event that ends a stream which has already begun. Each front has one; the
 * engine only hands over a typed GatewayError.
 */
export interface ErrorShape {
  body(err: GatewayError): string;
  event(err: GatewayError): Buffer;
}

/** OpenAI's Chat Completions (and completions, embeddings, models): `{"error":{…}}`, and the same as a data event. */
export const openaiShape: ErrorShape = { body: openaiErrorBody, event: openaiErrorEvent };

/**
 * OpenAI's Responses API: error bodies as OpenAI's; a stream ends with
 * `response.failed`, whose response carries the error, as OpenAI's own
 * streams do (Codex and the SDKs read it there).
 */
export const responsesShape: ErrorShape = {
  body: openaiErrorBody,
  event(err) {
    const response = {
      object: "response",
      status: "failed",
      error: { code: err.code, message: err.message },
      incomplete_details: null,
      output: [],
      usage: null,
    };
    const data = JSON.stringify({ type: "response.failed", sequence_number: 0, response });
    return Buffer.from(`event: response.failed\ndata: ${data}\n\n`);
  },
};
