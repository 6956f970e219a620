/**
 * Anthropic's Messages API for the mock upstream: `POST /v1/messages`, whole
 * and streamed, and `GET /v1/models` in Anthropic's list format for callers
 * that identify as Anthropic clients (an `anthropic-version` or `x-api-key`
 * header). Answers are text, or tool_use blocks when the request offers tools
 * and its last turn is not a tool result, with a signed thinking block first
 * when the request enables thinking. Signatures are checked when sent back,
 * as Anthropic checks them. Written here by hand: the mock imports none of
 * the gateway's codecs, so it cannot agree with them by construction.
 */
import type { IncomingHttpHeaders } from "node:http";
import { replyTokens } from "./openai-wire.ts";
import type { FaultShapes, Reply } from "./respond.ts";

type Obj = Record<string, unknown>;

/** What the mock needs besides the request body. */
export interface AnthropicContext {
  /** Unique per request: message, tool-use ids and signatures are made from it. */
  rid: string;
  /** Reply length in text tokens. */
  tokens: number;
  models: string[];
  header(name: string): string | undefined;
}

/** A reply to send, or an error to answer with at once. */
export type Answer = Reply | { status: number; json: string };

const MAX_TOOL_CALLS = 16;
const THINKING = ["The", " user", " wants", " a", " mock", " answer;", " nothing", " to", " work", " out."];

const isObj = (v: unknown): v is Obj => typeof v === "object" && v !== null && !Array.isArray(v);

/** Anthropic's error envelope. */
export function errorJson(type: string, message: string): string {
  return JSON.stringify({ type: "error", error: { type, message } });
}

const ERROR_TYPES: Record<number, string> = {
  400: "invalid_request_error",
  401: "authentication_error",
  402: "billing_error",
  403: "permission_error",
  404: "not_found_error",
  413: "request_too_large",
  429: "rate_limit_error",
  500: "api_error",
  504: "timeout_error",
  529: "overloaded_error",
};

function event(type: string, body: Obj = {}): string {
  return `event: ${type}\ndata: ${JSON.stringify({ type, ...body })}\n\n`;
}

/** The injected faults in Anthropic's shapes. */
export const ANTHROPIC_FAULTS: FaultShapes = {
  status: (status) =>
    errorJson(ERROR_TYPES[status] ?? (status >= 500 ? "api_error" : "invalid_request_error"), `Injected status ${status} from the Switchyard mock.`),
  errorEvent: event("error", { error: { type: "overloaded_error", message: "Overloaded (injected by the Switchyard mock)." } }),
  // Anthropic answers an overload outside a stream with a 529.
  errorAnswer: { status: 529, json: errorJson("overloaded_error", "Overloaded (injected by the Switchyard mock).") },
  malformedEvent: 'event: content_block_delta\ndata: {"type":"content_block_delta","index":0,"delta":\n\n',
};

/** Whether a request is for the Anthropic side of the mock. */
export function isAnthropicRoute(route: string, headers: IncomingHttpHeaders): boolean {
  if (route === "POST /v1/messages") return true;
  return route === "GET /v1/models" && (headers["anthropic-version"] !== undefined || headers["x-api-key"] !== undefined);
}

/** FNV-1a, so a signature stands for the exact thinking text it was made for. */
function hash(text: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0).toString(16);
}

function messageIdOf(rid: string): string {
  return `msg_mock${rid.replaceAll("-", "")}`;
}

/** A signature over `thinking` that only this mock makes and accepts. */
export function signThinking(thinking: string, rid: string): string {
  return Buffer.from(`switchyard-mock-signature:${hash(thinking)}:${rid}`).toString("base64");
}

function signatureFits(thinking: unknown, signature: unknown): boolean {
  if (typeof thinking !== "string" || typeof signature !== "string") return false;
  const parts = Buffer.from(signature, "base64").toString("utf8").split(":");
  return parts[0] === "switchyard-mock-signature" && parts[1] === hash(thinking);
}

function textOf(content: unknown): number {
  if (typeof content === "string") return content.length;
  if (!Array.isArray(content)) return 0;
  let n = 0;
  for (const b of content) {
    if (!isObj(b)) continue;
    if (typeof b.text === "string") n += b.text.length;
    else if (b.type === "tool_result") n += textOf(b.content);
    else if (b.type === "tool_use") n += JSON.stringify(b.input ?? {}).length;
  }
  return n;
}

/** A rough input count (four characters a token), never below one. */
function inputTokens(body: Obj): number {
  let chars = textOf(body.system);
  for (const m of body.messages as unknown[]) if (isObj(m)) chars += textOf(m.content);
  return Math.max(1, Math.ceil(chars / 4));
}

const bad = (message: string): Answer => ({ status: 400, json: errorJson("invalid_request_error", message) });

/** The first problem Anthropic would refuse the request for, among the fields the mock reads. */
function check(body: Obj | null, badJson: boolean): Answer | undefined {
  if (badJson || body === null) return bad("There was an issue with the format of your request: the body is not a JSON object.");
  if (typeof body.model !== "string" || body.model === "") return bad("model: Field required");
  if (typeof body.max_tokens !== "number" || !Number.isInteger(body.max_tokens) || body.max_tokens < 1) return bad("max_tokens: Field required (an integer ≥ 1)");
  if (!Array.isArray(body.messages) || body.messages.length === 0) return bad("messages: at least one message is required");
  if (body.stream !== undefined && typeof body.stream !== "boolean") return bad("stream: Input should be a valid boolean");
  const thinking = isObj(body.thinking) && body.thinking.type === "enabled";
  for (const [i, m] of (body.messages as unknown[]).entries()) {
    if (!isObj(m) || (m.role !== "user" && m.role !== "assistant" && m.role !== "system")) return bad(`messages.${i}.role: Input should be 'user', 'assistant' or 'system'`);
    if (m.role !== "assistant" || !Array.isArray(m.content)) continue;
    for (const [j, b] of m.content.entries()) {
      if (isObj(b) && b.type === "thinking" && !signatureFits(b.thinking, b.signature)) return bad(`messages.${i}.content.${j}: Invalid \`signature\` in \`thinking\` block`);
    }
    // With thinking on, a turn that used tools must be sent back whole, its thinking first.
    const first = m.content[0] as Obj | undefined;
    if (thinking && m.content.some((b) => isObj(b) && b.type === "tool_use") && first?.type !== "thinking" && first?.type !== "redacted_thinking") {
      return bad(`messages.${i}.content.0.type: Expected \`thinking\` or \`redacted_thinking\`, but found \`${String(first?.type)}\`. When thinking is enabled, a final assistant message must start with a thinking block.`);
    }
  }
  return undefined;
}

/** A value for each required property, by type (enums take their first value). */
function sample(name: string, schema: unknown): unknown {
  const s = isObj(schema) ? schema : {};
  if (Array.isArray(s.enum) && s.enum.length > 0) return s.enum[0];
  switch (s.type) {
    case "integer":
    case "number":
      return 1;
    case "boolean":
      return true;
    case "array":
      return [];
    case "object":
      return inputFor(s);
    default:
      return `mock-${name}`;
  }
}

export function inputFor(schema: unknown): Obj {
  const s = isObj(schema) ? schema : {};
  const props = isObj(s.properties) ? s.properties : {};
  const out: Obj = {};
  for (const name of Array.isArray(s.required) ? s.required : []) if (typeof name === "string") out[name] = sample(name, props[name]);
  return out;
}

interface ToolUse {
  id: string;
  name: string;
  input: Obj;
}

/** The tool calls to answer with: none when the last turn brought tool results or tool_choice is none. */
function toolUses(body: Obj, ctx: AnthropicContext): ToolUse[] | Answer {
  const tools = Array.isArray(body.tools) ? body.tools.filter((t): t is Obj => isObj(t) && typeof t.name === "string") : [];
  if (tools.length === 0) return [];
  const last = (body.messages as unknown[]).at(-1);
  if (isObj(last) && Array.isArray(last.content) && last.content.some((b) => isObj(b) && b.type === "tool_result")) return [];
  const choice = isObj(body.tool_choice) ? body.tool_choice : {};
  if (choice.type === "none") return [];
  const raw = ctx.header("x-mock-tool-calls");
  let count = 1;
  if (raw !== undefined) {
    count = Number(raw);
    if (!Number.isInteger(count) || count < 1 || count > MAX_TOOL_CALLS) return bad(`Header x-mock-tool-calls must be an integer from 1 to ${MAX_TOOL_CALLS}, got '${raw}'.`);
  }
  if (choice.disable_parallel_tool_use === true) count = 1;
  const named = choice.type === "tool" ? tools.find((t) => t.name === choice.name) : undefined;
  return Array.from({ length: count }, (_, i) => {
    const t = named ?? tools[i % tools.length];
    return { id: toolUseIdOf(messageIdOf(ctx.rid), i), name: t.name as string, input: inputFor(t.input_schema) };
  });
}

/** The id of a message's `i`th tool call, made from the message id so a test can tell the upstream's ids from its answer's id. */
export function toolUseIdOf(messageId: string, i: number): string {
  return `toolu_${messageId.replace(/^msg_/, "").slice(0, 20)}_${i}`;
}

/** Tool input JSON in a few pieces, as Anthropic streams it (an empty piece first). */
function pieces(json: string): string[] {
  const out = [""];
  for (let i = 0; i < json.length; i += 12) out.push(json.slice(i, i + 12));
  return out;
}

/** A whole answer or a stream for one Messages request. */
function messages(body: Obj, ctx: AnthropicContext): Answer {
  const calls = toolUses(body, ctx);
  if (!Array.isArray(calls)) return calls;
  const thinking = isObj(body.thinking) && body.thinking.type === "enabled";
  const tokens = calls.length > 0 ? [] : replyTokens(body, ctx.tokens);
  const limited = calls.length === 0 && tokens.length >= (body.max_tokens as number);
  const stopReason = calls.length > 0 ? "tool_use" : limited ? "max_tokens" : "end_turn";
  const thought = THINKING.join("");
  const signature = signThinking(thought, ctx.rid);
  const id = messageIdOf(ctx.rid);
  const model = body.model as string;
  const input = inputTokens(body);
  const output = tokens.length + (thinking ? THINKING.length : 0) + calls.reduce((n, c) => n + Math.ceil(JSON.stringify(c.input).length / 4) + 10, 0);
  const usage = { input_tokens: input, cache_creation_input_tokens: 0, cache_read_input_tokens: 0, output_tokens: output };

  if (body.stream !== true) {
    const content: Obj[] = [];
    if (thinking) content.push({ type: "thinking", thinking: thought, signature });
    if (calls.length === 0) content.push({ type: "text", text: tokens.join("") });
    for (const c of calls) content.push({ type: "tool_use", id: c.id, name: c.name, input: c.input });
    const json = JSON.stringify({ id, type: "message", role: "assistant", model, content, stop_reason: stopReason, stop_sequence: null, usage });
    return { stream: false, json, tokenCount: Math.max(1, output), faults: ANTHROPIC_FAULTS };
  }

  const events = [
    event("message_start", {
      message: { id, type: "message", role: "assistant", model, content: [], stop_reason: null, stop_sequence: null, usage: { ...usage, output_tokens: 1 } },
    }),
  ];
  let index = 0;
  const block = (contentBlock: Obj, deltas: Obj[]) => {
    events.push(event("content_block_start", { index, content_block: contentBlock }));
    if (index === 0) events.push(event("ping"));
    for (const d of deltas) events.push(event("content_block_delta", { index, delta: d }));
    events.push(event("content_block_stop", { index }));
    index++;
  };
  if (thinking) {
    block({ type: "thinking", thinking: "", signature: "" }, [...THINKING.map((t) => ({ type: "thinking_delta", thinking: t })), { type: "signature_delta", signature }]);
  }
  if (calls.length === 0) block({ type: "text", text: "" }, tokens.map((t) => ({ type: "text_delta", text: t })));
  for (const c of calls) {
    block({ type: "tool_use", id: c.id, name: c.name, input: {} }, pieces(JSON.stringify(c.input)).map((p) => ({ type: "input_json_delta", partial_json: p })));
  }
  events.push(event("message_delta", { delta: { stop_reason: stopReason, stop_sequence: null }, usage: { output_tokens: output } }));
  events.push(event("message_stop"));
  // Every event between message_start and message_delta is paced like a token.
  return { stream: true, events, tokenStart: 1, tokenCount: events.length - 3, faults: ANTHROPIC_FAULTS };
}

function modelList(names: string[]): string {
  const data = names.map((id) => ({ type: "model", id, display_name: id, created_at: "2025-01-01T00:00:00Z" }));
  return JSON.stringify({ data, has_more: false, first_id: data[0]?.id ?? null, last_id: data.at(-1)?.id ?? null });
}

/** The mock's answer to a request on the Anthropic side (see isAnthropicRoute). */
export function anthropicAnswer(route: string, body: Obj | null, badJson: boolean, ctx: AnthropicContext): Answer {
  if (route === "GET /v1/models") return { stream: false, json: modelList(ctx.models), tokenCount: 0, faults: ANTHROPIC_FAULTS };
  const problem = check(body, badJson);
  return problem ?? messages(body!, ctx);
}
