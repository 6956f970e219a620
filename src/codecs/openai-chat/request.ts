import type { ChatMessage, ChatRequest, ContentPart, ToolDefinition } from "../../protocol/chat.ts";
import { readThinkingBlocks } from "./response.ts";

/**
 * The internal request as an OpenAI-compatible upstream takes it: the same
 * shape, without the fields OpenAI has no place for (reasoning blocks,
 * cache_control), which strict servers reject. Messages that carry none are
 * passed by reference, not copied.
 */
export function encodeRequest(req: ChatRequest, model: string): Record<string, unknown> {
  const out: Record<string, unknown> = { ...req, model };
  out.messages = req.messages.map(cleanMessage);
  if (req.tools !== undefined) out.tools = req.tools.map(cleanTool);
  return out;
}

function cleanMessage(m: ChatMessage): ChatMessage {
  const hasParts = Array.isArray(m.content) && m.content.some((p) => p.cache_control !== undefined);
  if (m.reasoning === undefined && !hasParts) return m;
  const { reasoning: _reasoning, ...rest } = m;
  if (hasParts) rest.content = (m.content as ContentPart[]).map(({ cache_control: _c, ...p }) => p as ContentPart);
  return rest;
}

function cleanTool(t: ToolDefinition): ToolDefinition {
  if (t.cache_control === undefined) return t;
  const { cache_control: _c, ...rest } = t;
  return rest;
}

/**
 * An OpenAI request body is already the internal shape (the engine validated
 * the fields it relies on). Only reasoning sent back as `thinking_blocks` (or
 * `reasoning_content`) on assistant messages is lifted into `reasoning`, so
 * an upstream that needs it (Anthropic, with its signatures) gets it.
 */
export function decodeRequest(body: Record<string, unknown>): ChatRequest {
  const req = body as unknown as ChatRequest;
  if (!req.messages.some((m) => m.role === "assistant" && (m.thinking_blocks !== undefined || m.reasoning_content !== undefined))) return req;
  return {
    ...req,
    messages: req.messages.map((m) => {
      if (m.role !== "assistant") return m;
      const { thinking_blocks, reasoning_content, ...rest } = m;
      const blocks = readThinkingBlocks(thinking_blocks) ?? (typeof reasoning_content === "string" && reasoning_content !== "" ? [{ text: reasoning_content }] : undefined);
      return blocks === undefined ? rest : { ...rest, reasoning: blocks };
    }),
  };
}
