import type { ChatCodec } from "../types.ts";
import { decodeRequest, encodeRequest } from "./request.ts";
import { decodeResponse, encodeResponse } from "./response.ts";
import { streamDecoder, streamEncoder } from "./stream.ts";
import { usageOf, usageTap } from "./usage.ts";

/** OpenAI's Chat Completions API, spoken by most upstreams and clients: the internal contract's own shape. */
export const openaiChat = {
  api: "openai-chat",
  encodeRequest,
  decodeRequest,
  decodeResponse,
  encodeResponse,
  streamDecoder,
  streamEncoder,
  usageOf,
  usageTap,
} as const satisfies ChatCodec;
