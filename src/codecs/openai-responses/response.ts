import type { ChatResult, FinishReason, Usage } from "../../protocol/chat.ts";
import type { AnswerContext } from "../types.ts";

/** Ids of one response: stable within it, derived from its own id. */
export function ids(ctx: AnswerContext) {
  const base = ctx.id;
  return {
    response: `resp_${base}`,
    message: `msg_${base}`,
    reasoning: `rs_${base}`,
    call: (i: number) => `fc_${base}_${i}`,
  };
}

export function writeUsage(u: Usage | undefined): Record<string, unknown> | null {
  if (u === undefined) return null;
  return {
    input_tokens: u.inputTokens,
    input_tokens_details: { cached_tokens: u.cachedInputTokens ?? 0 },
    output_tokens: u.outputTokens,
    output_tokens_details: { reasoning_tokens: u.reasoningTokens ?? 0 },
    total_tokens: u.inputTokens + u.outputTokens,
  };
}

/** `completed`, or `incomplete` with its reason when the answer was cut by a limit or a filter. */
export function status(finish: FinishReason | undefined): { status: string; incomplete_details: { reason: string } | null } {
  if (finish === "length") return { status: "incomplete", incomplete_details: { reason: "max_output_tokens" } };
  if (finish === "content_filter") return { status: "incomplete", incomplete_details: { reason: "content_filter" } };
  return { status: "completed", incomplete_details: null };
}

/** The response object around `output`: what every Responses client reads. */
export function envelope(ctx: AnswerContext, output: unknown[], state: { status: string; incomplete_details: unknown }, usage: Usage | undefined): Record<string, unknown> {
  return {
    id: ids(ctx).response,
    object: "response",
    created_at: ctx.created,
    status: state.status,
    error: null,
    incomplete_details: state.incomplete_details,
    instructions: null,
    model: ctx.model,
    output,
    parallel_tool_calls: true,
    tool_choice: "auto",
    tools: [],
    store: false,
    metadata: {},
    text: { format: { type: "text" } },
    usage: writeUsage(usage),
  };
}

export function messageItem(id: string, text: string, done: boolean): Record<string, unknown> {
  return {
    id,
    type: "message",
    status: done ? "completed" : "in_progress",
    role: "assistant",
    content: done ? [{ type: "output_text", text, annotations: [] }] : [],
  };
}

export function callItem(id: string, callId: string, name: string, args: string, done: boolean): Record<string, unknown> {
  return { id, type: "function_call", status: done ? "completed" : "in_progress", call_id: callId, name, arguments: args };
}

export function reasoningItem(id: string, text: string, done: boolean): Record<string, unknown> {
  return { id, type: "reasoning", summary: done && text !== "" ? [{ type: "summary_text", text }] : [] };
}

/** A ChatResult as a Responses API response: reasoning, then the message, then the function calls. */
export function encodeResponse(r: ChatResult, ctx: AnswerContext): Record<string, unknown> {
  const id = ids(ctx);
  const output: unknown[] = [];
  const reasoning = r.reasoning.map((b) => b.text).join("");
  if (reasoning !== "") output.push(reasoningItem(id.reasoning, reasoning, true));
  if (r.text !== "" || r.toolCalls.length === 0) output.push(messageItem(id.message, r.text, true));
  r.toolCalls.forEach((t, i) => output.push(callItem(id.call(i), t.id, t.function.name, t.function.arguments, true)));
  return envelope(ctx, output, status(r.finish), r.usage);
}
