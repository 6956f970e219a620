import type { ChatCodec } from "../types.ts";
import { encodeRequest } from "./request.ts";
import { decodeResponse } from "./response.ts";
import { streamDecoder } from "./stream.ts";

/** Google's Gemini API (generateContent), provider side: no client speaks it to the gateway. */
export const gemini = {
  api: "gemini",
  encodeRequest,
  decodeResponse,
  streamDecoder,
} as const satisfies ChatCodec;
