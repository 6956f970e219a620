import { anthropic } from "../codecs/anthropic/index.ts";
import { openaiChat } from "../codecs/openai-chat/index.ts";
import { openaiResponses } from "../codecs/openai-responses/index.ts";
import type { Usage } from "../protocol/chat.ts";
import type { Recording } from "./recording.ts";

const CODECS = { messages: anthropic, responses: openaiResponses } as const;

/** The usage a finished answer reports, read once when it is stored: what each hit saves. */
export function usageOfRecording(op: string, rec: Recording): Usage | undefined {
  const codec = CODECS[op as keyof typeof CODECS] ?? openaiChat;
  try {
    if (rec.body !== undefined) return codec.usageOf(JSON.parse(rec.body.toString("utf8")));
    const tap = codec.usageTap();
    for (const c of rec.chunks) tap.push(c);
    return tap.usage();
  } catch {
    return undefined;
  }
}
