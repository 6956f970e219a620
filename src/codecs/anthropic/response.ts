import type { ChatResult, FinishReason, ReasoningBlock, ToolCall } from "../../protocol/chat.ts";
import { GatewayError } from "../../protocol/errors.ts";
import type { AnswerContext } from "../types.ts";
import { readUsage, writeUsage } from "./usage.ts";

/**
 * Anthropic's stop reasons as the internal ones. `pause_turn` (a server tool
 * paused a long turn; sending it back continues it) has no equivalent and
 * reads as an ordinary stop; unknown reasons do too.
 */
const FINISH: Record<string, FinishReason> = {
  end_turn: "stop",
  max_tokens: "length",
  stop_sequence: "stop_sequence",
  tool_use: "tool_calls",
  refusal: "refusal",
  pause_turn: "stop",
  model_context_window_exceeded: "length",
};

export function readFinish(v: unknown): FinishReason {
  return (typeof v === "string" && FINISH[v]) || "stop";
}

const STOP_REASON: Record<FinishReason, string> = {
  stop: "end_turn",
  length: "max_tokens",
  stop_sequence: "stop_sequence",
  tool_calls: "tool_use",
  content_filter: "refusal",
  refusal: "refusal",
};

export function writeFinish(f: FinishReason): string {
  return STOP_REASON[f] ?? "end_turn";
}

/**
 * Anthropic's `msg_` id: the upstream's own when it is one, else one made
 * from the upstream's (so logs on both sides still match), else the fresh one.
 */
export function messageId(upstream: string | undefined, fresh: string): string {
  if (upstream?.startsWith("msg_")) return upstream;
  const tail = (upstream ?? "").replace(/^chatcmpl-/, "").replace(/[^A-Za-z0-9_-]/g, "");
  return `msg_${tail || fresh}`;
}

interface Block {
  type?: unknown;
  text?: unknown;
  thinking?: unknown;
  signature?: unknown;
  data?: unknown;
  id?: unknown;
  name?: unknown;
  input?: unknown;
}

/**
 * A Messages answer as a ChatResult: text blocks joined, tool_use blocks as
 * tool calls with their `toolu_` ids (input as JSON text), thinking and
 * redacted thinking with their signatures. Blocks of server tools (web
 * search and the like) have no internal equivalent and are skipped.
 */
export function decodeResponse(body: unknown): ChatResult {
  const b = body as { id?: unknown; model?: unknown; content?: unknown; stop_reason?: unknown; stop_sequence?: unknown; usage?: unknown } | null;
  if (typeof b !== "object" || b === null || !Array.isArray(b.content)) {
    throw new GatewayError("SY_ERR_UPSTREAM_MALFORMED", "upstream answer has no content array", { retryable: true });
  }
  let text = "";
  const reasoning: ReasoningBlock[] = [];
  const toolCalls: ToolCall[] = [];
  for (const c of b.content as Block[]) {
    if (c?.type === "text" && typeof c.text === "string") text += c.text;
    else if (c?.type === "thinking" && typeof c.thinking === "string") {
      reasoning.push(typeof c.signature === "string" && c.signature !== "" ? { text: c.thinking, signature: c.signature } : { text: c.thinking });
    } else if (c?.type === "redacted_thinking" && typeof c.data === "string") reasoning.push({ text: "", redacted: c.data });
    else if (c?.type === "tool_use" && typeof c.name === "string") {
      toolCalls.push({
        id: typeof c.id === "string" ? c.id : `toolu_${toolCalls.length}`,
        type: "function",
        function: { name: c.name, arguments: JSON.stringify(c.input ?? {}) },
      });
    }
  }
  const result: ChatResult = {
    id: typeof b.id === "string" ? b.id : "",
    model: typeof b.model === "string" ? b.model : "",
    text,
    reasoning,
    toolCalls,
    finish: readFinish(b.stop_reason),
  };
  if (typeof b.stop_sequence === "string") result.stopSequence = b.stop_sequence;
  const usage = readUsage(b.usage);
  if (usage !== undefined) result.usage = usage;
  return result;
}

/** Tool arguments as Anthropic's input object; text that is no JSON object (a cut-off upstream) becomes an empty one. */
export function toolInput(args: string): Record<string, unknown> {
  try {
    const v: unknown = JSON.parse(args);
    if (typeof v === "object" && v !== null && !Array.isArray(v)) return v as Record<string, unknown>;
  } catch {
    // fall through
  }
  return {};
}

/** A ChatResult as a Messages answer: content in Anthropic's order, thinking, then text, then tool_use. */
export function encodeResponse(r: ChatResult, ctx: AnswerContext): Record<string, unknown> {
  const content: Array<Record<string, unknown>> = [];
  for (const b of r.reasoning) {
    content.push(b.redacted !== undefined ? { type: "redacted_thinking", data: b.redacted } : { type: "thinking", thinking: b.text, signature: b.signature ?? "" });
  }
  // An OpenAI-style refusal is the answer's text in Anthropic's shape (stop_reason says it was refused).
  const text = r.text !== "" ? r.text : (r.refusal ?? "");
  if (text !== "") content.push({ type: "text", text });
  for (const t of r.toolCalls) content.push({ type: "tool_use", id: t.id, name: t.function.name, input: toolInput(t.function.arguments) });
  return {
    id: messageId(r.id, ctx.id),
    type: "message",
    role: "assistant",
    model: ctx.model,
    content,
    stop_reason: writeFinish(r.finish),
    stop_sequence: r.stopSequence ?? null,
    usage: writeUsage(r.usage),
  };
}
