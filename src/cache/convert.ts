import { anthropic } from "../codecs/anthropic/index.ts";
import { openaiChat } from "../codecs/openai-chat/index.ts";
import type { AnswerContext, ChatCodec } from "../codecs/types.ts";
import type { ChatResult, StreamPart, ToolCall } from "../protocol/chat.ts";
import { firstEventEnd } from "../protocol/sse.ts";

/**
 * Whole answers and streams of one client API turned into each other, so that
 * a streamed request and a whole one with the same content share an entry and
 * an upstream call. Only the APIs whose codec reads and writes both forms.
 */
const CONVERTIBLE: Partial<Record<string, Required<Pick<ChatCodec, "decodeResponse" | "encodeResponse" | "streamDecoder" | "streamEncoder">>>> = {
  chat: openaiChat,
  messages: anthropic,
};

export function convertible(op: string): boolean {
  return CONVERTIBLE[op] !== undefined;
}

/** A recorded stream as the whole answer a non-streaming client of the same API gets; the model named is the one the answer named. */
export function streamToBody(op: string, chunks: readonly Buffer[], ctx: AnswerContext): Buffer {
  const codec = CONVERTIBLE[op]!;
  const decoder = codec.streamDecoder(() => undefined);
  const parts: StreamPart[] = [];
  for (const c of chunks) parts.push(...decoder.push(c));
  parts.push(...decoder.end());
  const result = resultOf(parts);
  return Buffer.from(JSON.stringify(codec.encodeResponse(result, result.model === "" ? ctx : { ...ctx, model: result.model })));
}

/** A recorded whole answer as the stream a streaming client of the same API gets, split into its events. */
export function bodyToStream(op: string, body: Buffer, ctx: AnswerContext): Buffer[] {
  const codec = CONVERTIBLE[op]!;
  const result = codec.decodeResponse(JSON.parse(body.toString("utf8")));
  const encoder = codec.streamEncoder(result.model === "" ? ctx : { ...ctx, model: result.model });
  result.id = "";
  const all = Buffer.from(encoder.encode(partsOf(result)) + encoder.end());
  const out: Buffer[] = [];
  for (let rest = all; rest.length > 0; ) {
    const end = firstEventEnd(rest) || rest.length;
    out.push(rest.subarray(0, end));
    rest = rest.subarray(end);
  }
  return out;
}

function resultOf(parts: readonly StreamPart[]): ChatResult {
  const r: ChatResult = { id: "", model: "", text: "", reasoning: [], toolCalls: [], finish: "stop" };
  const calls: ToolCall[] = [];
  for (const p of parts) {
    switch (p.type) {
      case "start":
        if (p.model !== undefined) r.model = p.model;
        break;
      case "text":
        r.text += p.delta;
        break;
      case "reasoning":
        if (r.reasoning.length === 0) r.reasoning.push({ text: "" });
        r.reasoning.at(-1)!.text += p.delta;
        break;
      case "reasoning-signature":
        if (r.reasoning.length === 0) r.reasoning.push({ text: "" });
        r.reasoning.at(-1)!.signature = p.signature;
        break;
      case "reasoning-redacted":
        r.reasoning.push({ text: "", redacted: p.data });
        break;
      case "tool-call-start":
        calls[p.index] = { id: p.id, type: "function", function: { name: p.name, arguments: "" } };
        break;
      case "tool-call-delta":
        if (calls[p.index] !== undefined) calls[p.index].function.arguments += p.arguments;
        break;
      case "finish":
        r.finish = p.reason;
        if (p.stopSequence !== undefined) r.stopSequence = p.stopSequence;
        break;
      case "usage":
        r.usage = p.usage;
        break;
    }
  }
  r.toolCalls = calls.filter((c) => c !== undefined);
  return r;
}

function partsOf(r: ChatResult): StreamPart[] {
  const parts: StreamPart[] = [{ type: "start" }];
  for (const b of r.reasoning) {
    if (b.redacted !== undefined) parts.push({ type: "reasoning-redacted", data: b.redacted });
    else {
      if (b.text !== "") parts.push({ type: "reasoning", delta: b.text });
      if (b.signature !== undefined) parts.push({ type: "reasoning-signature", signature: b.signature });
    }
  }
  if (r.text !== "") parts.push({ type: "text", delta: r.text });
  r.toolCalls.forEach((c, index) => {
    parts.push({ type: "tool-call-start", index, id: c.id, name: c.function.name });
    if (c.function.arguments !== "") parts.push({ type: "tool-call-delta", index, arguments: c.function.arguments });
  });
  parts.push(r.stopSequence === undefined ? { type: "finish", reason: r.finish } : { type: "finish", reason: r.finish, stopSequence: r.stopSequence });
  if (r.usage !== undefined) parts.push({ type: "usage", usage: r.usage });
  return parts;
}
