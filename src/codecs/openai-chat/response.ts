import { GatewayError } from "../../protocol/errors.ts";
import type { ChatResult, FinishReason, ReasoningBlock, ToolCall } from "../../protocol/chat.ts";
import type { AnswerContext } from "../types.ts";
import { readUsage, writeUsage } from "./usage.ts";

const FINISH: Record<string, FinishReason> = {
  stop: "stop",
  length: "length",
  tool_calls: "tool_calls",
  function_call: "tool_calls",
  content_filter: "content_filter",
};

/** An OpenAI finish_reason as the internal one (unknown ones read as "stop"). */
export function readFinish(v: unknown): FinishReason {
  return (typeof v === "string" && FINISH[v]) || "stop";
}

/** The internal finish reason as OpenAI's. */
export function writeFinish(f: FinishReason): string {
  if (f === "stop_sequence") return "stop";
  if (f === "refusal") return "content_filter";
  return f;
}

interface OpenAIMessage {
  content?: unknown;
  tool_calls?: unknown;
  refusal?: unknown;
  reasoning_content?: unknown;
  reasoning?: unknown;
}

/** Reasoning blocks as OpenAI-compatible `thinking_blocks` (Anthropic's block shapes). */
export function writeThinkingBlocks(blocks: ReasoningBlock[]): Array<Record<string, string>> {
  return blocks.map(
    (b): Record<string, string> =>
      b.redacted !== undefined ? { type: "redacted_thinking", data: b.redacted } : { type: "thinking", thinking: b.text, signature: b.signature ?? "" },
  );
}

/** `thinking_blocks` sent back by a client, as reasoning blocks; undefined when there are none. */
export function readThinkingBlocks(v: unknown): ReasoningBlock[] | undefined {
  if (!Array.isArray(v)) return undefined;
  const out: ReasoningBlock[] = [];
  for (const b of v as Array<Record<string, unknown>>) {
    if (b?.type === "redacted_thinking" && typeof b.data === "string") out.push({ text: "", redacted: b.data });
    else if (b?.type === "thinking" && typeof b.thinking === "string") {
      out.push(typeof b.signature === "string" && b.signature !== "" ? { text: b.thinking, signature: b.signature } : { text: b.thinking });
    }
  }
  return out.length > 0 ? out : undefined;
}

/** A chat.completion body as a ChatResult (the first choice). */
export function decodeResponse(body: unknown): ChatResult {
  const b = body as { id?: unknown; model?: unknown; choices?: unknown; usage?: unknown } | null;
  const choice = Array.isArray(b?.choices) ? (b.choices[0] as { message?: OpenAIMessage; finish_reason?: unknown } | undefined) : undefined;
  if (typeof b !== "object" || b === null || choice === undefined || typeof choice.message !== "object" || choice.message === null) {
    throw new GatewayError("SY_ERR_UPSTREAM_MALFORMED", "upstream answer has no choices[0].message", { retryable: true });
  }
  const m = choice.message;
  const toolCalls: ToolCall[] = [];
  if (Array.isArray(m.tool_calls)) {
    for (const t of m.tool_calls as Array<{ id?: unknown; function?: { name?: unknown; arguments?: unknown } }>) {
      if (typeof t?.function?.name !== "string") continue;
      toolCalls.push({
        id: typeof t.id === "string" ? t.id : `call_${toolCalls.length}`,
        type: "function",
        function: { name: t.function.name, arguments: typeof t.function.arguments === "string" ? t.function.arguments : "" },
      });
    }
  }
  // DeepSeek, vLLM and others put reasoning in reasoning_content; OpenRouter in reasoning.
  const reasoningText = typeof m.reasoning_content === "string" ? m.reasoning_content : typeof m.reasoning === "string" ? m.reasoning : "";
  const reasoning: ReasoningBlock[] = reasoningText === "" ? [] : [{ text: reasoningText }];
  const result: ChatResult = {
    id: typeof b.id === "string" ? b.id : "",
    model: typeof b.model === "string" ? b.model : "",
    text: typeof m.content === "string" ? m.content : "",
    reasoning,
    toolCalls,
    finish: readFinish(choice.finish_reason),
  };
  if (typeof m.refusal === "string") result.refusal = m.refusal;
  const usage = readUsage(b.usage);
  if (usage !== undefined) result.usage = usage;
  return result;
}

/** A ChatResult as a chat.completion body. */
export function encodeResponse(r: ChatResult, ctx: AnswerContext): Record<string, unknown> {
  const message: Record<string, unknown> = { role: "assistant", content: r.text === "" && r.toolCalls.length > 0 ? null : r.text };
  if (r.toolCalls.length > 0) message.tool_calls = r.toolCalls;
  if (r.refusal !== undefined) message.refusal = r.refusal;
  const reasoning = r.reasoning.map((b) => b.text).join("");
  if (reasoning !== "") message.reasoning_content = reasoning;
  // Signed or redacted blocks must go back to the upstream as they came: carried the way LiteLLM and others do.
  if (r.reasoning.some((b) => b.signature !== undefined || b.redacted !== undefined)) message.thinking_blocks = writeThinkingBlocks(r.reasoning);
  const out: Record<string, unknown> = {
    id: r.id || `chatcmpl-${ctx.id}`,
    object: "chat.completion",
    created: ctx.created,
    model: ctx.model,
    choices: [{ index: 0, message, finish_reason: writeFinish(r.finish), logprobs: null }],
  };
  if (r.usage !== undefined) out.usage = writeUsage(r.usage);
  return out;
}
