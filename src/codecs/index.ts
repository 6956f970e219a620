import { anthropic } from "./anthropic/index.ts";
import { gemini } from "./gemini/index.ts";
import { openaiChat } from "./openai-chat/index.ts";
import { openaiResponses } from "./openai-responses/index.ts";
import type { ChatApi, ChatCodec } from "./types.ts";

/** Every chat-kind wire API the gateway speaks, by name. */
export const CHAT_CODECS: Partial<Record<ChatApi, ChatCodec>> = {
  "openai-chat": openaiChat,
  "openai-responses": openaiResponses,
  anthropic,
  gemini,
};

export function chatCodec(api: ChatApi): ChatCodec {
  const codec = CHAT_CODECS[api];
  if (codec === undefined) throw new Error(`no codec for the ${api} API`);
  return codec;
}
