import type { ChatCodec } from "../types.ts";
import { decodeRequest } from "./request.ts";
import { encodeResponse } from "./response.ts";
import { streamEncoder } from "./stream.ts";
import { usageOf, usageTap } from "./usage.ts";

/**
 * OpenAI's Responses API, on the client side (Codex, the Agents SDK): its
 * requests decoded into the internal contract, answers and streams encoded
 * back. Towards an upstream that speaks it (`responses: true`) it passes
 * through, read only for usage.
 */
export const openaiResponses = {
  api: "openai-responses",
  decodeRequest,
  encodeResponse,
  streamEncoder,
  usageOf,
  usageTap,
} as const satisfies ChatCodec;
