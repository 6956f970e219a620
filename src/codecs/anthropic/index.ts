import type { ChatCodec } from "../types.ts";
import { encodeRequest } from "./request.ts";
import { decodeRequest } from "./request-decode.ts";
import { decodeResponse, encodeResponse } from "./response.ts";
import { streamDecoder } from "./stream-decode.ts";
import { streamEncoder } from "./stream-encode.ts";
import { usageOf, usageTap } from "./usage.ts";

/** Anthropic's Messages API: towards Anthropic upstreams, and towards clients that speak it (Claude Code and the Anthropic SDKs). */
export const anthropic = {
  api: "anthropic",
  encodeRequest,
  decodeRequest,
  decodeResponse,
  encodeResponse,
  streamDecoder,
  streamEncoder,
  usageOf,
  usageTap,
} as const satisfies ChatCodec;
