/**
 * OpenAI's Responses API as the mock speaks it (`POST /v1/responses`), text
 * answers only: enough for a gateway to pass a Responses request through to
 * an upstream that takes it (`responses: true`), whole and streamed.
 */
import type { Reply } from "./respond.ts";
import { replyTokens } from "./openai-wire.ts";

type Obj = Record<string, unknown>;

function inputTokens(body: Obj): number {
  return Math.max(1, Math.ceil(JSON.stringify(body.input ?? "").length / 4));
}

export function responsesReply(body: Obj, rid: string, created: number, count: number): Reply | { status: number; json: string } {
  if (typeof body.model !== "string" || (typeof body.input !== "string" && !Array.isArray(body.input))) {
    return { status: 400, json: JSON.stringify({ error: { message: "model and input are required", type: "invalid_request_error", param: "input", code: null } }) };
  }
  const tokens = replyTokens({ max_tokens: body.max_output_tokens }, count);
  const text = tokens.join("");
  const id = `resp_${rid.replaceAll("-", "")}`;
  const msg = `msg_${rid.replaceAll("-", "")}`;
  const usage = { input_tokens: inputTokens(body), input_tokens_details: { cached_tokens: 0 }, output_tokens: tokens.length, output_tokens_details: { reasoning_tokens: 0 }, total_tokens: inputTokens(body) + tokens.length };
  const item = (done: boolean) => ({ id: msg, type: "message", status: done ? "completed" : "in_progress", role: "assistant", content: done ? [{ type: "output_text", text, annotations: [] }] : [] });
  const response = (status: string, output: unknown[], u: unknown) => ({
    id,
    object: "response",
    created_at: created,
    status,
    error: null,
    incomplete_details: null,
    model: body.model,
    output,
    usage: u,
  });
  if (body.stream !== true) return { stream: false, json: JSON.stringify(response("completed", [item(true)], usage)), tokenCount: tokens.length };
  let seq = 0;
  const ev = (type: string, payload: Obj) => `event: ${type}\ndata: ${JSON.stringify({ type, sequence_number: seq++, ...payload })}\n\n`;
  const events = [
    ev("response.created", { response: response("in_progress", [], null) }),
    ev("response.output_item.added", { output_index: 0, item: item(false) }),
    ev("response.content_part.added", { item_id: msg, output_index: 0, content_index: 0, part: { type: "output_text", text: "", annotations: [] } }),
  ];
  const tokenStart = events.length;
  for (const t of tokens) events.push(ev("response.output_text.delta", { item_id: msg, output_index: 0, content_index: 0, delta: t }));
  events.push(
    ev("response.output_text.done", { item_id: msg, output_index: 0, content_index: 0, text }),
    ev("response.content_part.done", { item_id: msg, output_index: 0, content_index: 0, part: { type: "output_text", text, annotations: [] } }),
    ev("response.output_item.done", { output_index: 0, item: item(true) }),
    ev("response.completed", { response: response("completed", [item(true)], usage) }),
  );
  return { stream: true, events, tokenStart, tokenCount: tokens.length };
}
