import type { ChatMessage, ChatRequest, ContentPart, ReasoningBlock, ToolCall, ToolChoice, ToolDefinition } from "../../protocol/chat.ts";
import { GatewayError } from "../../protocol/errors.ts";
import { effortFor, imageUrl } from "./blocks.ts";

type Obj = Record<string, unknown>;

function bad(message: string, param: string): GatewayError {
  return new GatewayError("SY_ERR_BAD_REQUEST", message, { param });
}

const isObj = (v: unknown): v is Obj => typeof v === "object" && v !== null && !Array.isArray(v);

function withCache<T extends object>(part: T, block: Obj): T {
  if (isObj(block.cache_control)) (part as { cache_control?: unknown }).cache_control = block.cache_control;
  return part;
}

/** Text parts as a plain string when nothing (an image, a cache marker) needs the parts. */
function simplify(parts: ContentPart[]): string | ContentPart[] {
  return parts.every((p) => p.type === "text" && p.cache_control === undefined) ? parts.map((p) => (p as { text: string }).text).join("") : parts;
}

function part(block: Obj, param: string): ContentPart {
  if (block.type === "text") {
    if (typeof block.text !== "string") throw bad("a text block needs text", `${param}.text`);
    return withCache({ type: "text", text: block.text }, block);
  }
  if (block.type === "image") return withCache({ type: "image_url", image_url: { url: imageUrl(block.source, `${param}.source`) } }, block);
  // A plain-text document reads the same as its text.
  if (block.type === "document" && isObj(block.source) && block.source.type === "text" && typeof block.source.data === "string") {
    return withCache({ type: "text", text: block.source.data }, block);
  }
  throw bad(`content of type ${JSON.stringify(block.type)} cannot be translated for this upstream`, param);
}

/** Block types a translated upstream can take; the others (server tools' results, citations, …) exist on Anthropic alone. */
const TRANSLATABLE = new Set(["text", "image", "document", "tool_result", "tool_use", "thinking", "redacted_thinking"]);

function blocksOf(content: unknown, param: string): Obj[] {
  if (typeof content === "string") return [{ type: "text", text: content }];
  if (!Array.isArray(content)) throw bad("content must be a string or an array of content blocks", param);
  return content.map((b, i) => {
    if (!isObj(b)) throw bad("a content block must be an object", `${param}[${i}]`);
    return b;
  });
}

function toolMessage(block: Obj, param: string): ChatMessage {
  if (typeof block.tool_use_id !== "string") throw bad("a tool_result block needs tool_use_id", `${param}.tool_use_id`);
  const parts = block.content === undefined ? [] : blocksOf(block.content, `${param}.content`).map((b, i) => part(b, `${param}.content[${i}]`));
  return { role: "tool", tool_call_id: block.tool_use_id, content: simplify(parts) };
}

/** One user turn: its tool results become tool messages (in order), the rest one user message after them. */
function userMessages(content: unknown, param: string): ChatMessage[] {
  const out: ChatMessage[] = [];
  const parts: ContentPart[] = [];
  blocksOf(content, `${param}.content`).forEach((b, i) => {
    const at = `${param}.content[${i}]`;
    if (b.type === "tool_result") out.push(toolMessage(b, at));
    else if (TRANSLATABLE.has(String(b.type))) parts.push(part(b, at));
  });
  if (parts.length > 0 || out.length === 0) out.push({ role: "user", content: simplify(parts) });
  return out;
}

function assistantMessage(content: unknown, param: string): ChatMessage {
  const parts: ContentPart[] = [];
  const reasoning: ReasoningBlock[] = [];
  const calls: ToolCall[] = [];
  blocksOf(content, `${param}.content`).forEach((b, i) => {
    const at = `${param}.content[${i}]`;
    if (b.type === "thinking" && typeof b.thinking === "string") {
      reasoning.push(typeof b.signature === "string" && b.signature !== "" ? { text: b.thinking, signature: b.signature } : { text: b.thinking });
    } else if (b.type === "redacted_thinking" && typeof b.data === "string") reasoning.push({ text: "", redacted: b.data });
    else if (b.type === "tool_use") {
      if (typeof b.id !== "string" || typeof b.name !== "string") throw bad("a tool_use block needs id and name", at);
      calls.push({ id: b.id, type: "function", function: { name: b.name, arguments: JSON.stringify(b.input ?? {}) } });
    } else if (b.type === "text" || b.type === "image") parts.push(part(b, at));
    // server tools' blocks (server_tool_use, web_search_tool_result …) only Anthropic can take back
  });
  const m: ChatMessage = { role: "assistant", content: parts.length === 0 && calls.length > 0 ? null : simplify(parts) };
  if (calls.length > 0) m.tool_calls = calls;
  if (reasoning.length > 0) m.reasoning = reasoning;
  return m;
}

function systemMessage(system: unknown, param = "system"): ChatMessage | undefined {
  if (system === undefined || system === null) return undefined;
  const parts = blocksOf(system, param).map((b, i) => part(b, `${param}[${i}]`));
  return parts.length === 0 ? undefined : { role: "system", content: simplify(parts) };
}

/** Custom tools only: Anthropic's server tools (web search, code execution …) exist on Anthropic alone. */
function tools(list: unknown): ToolDefinition[] | undefined {
  if (list === undefined || list === null) return undefined;
  if (!Array.isArray(list)) throw bad("tools must be an array", "tools");
  const out: ToolDefinition[] = [];
  list.forEach((t, i) => {
    if (!isObj(t) || (t.type !== undefined && t.type !== "custom")) return;
    if (typeof t.name !== "string") throw bad("a tool needs a name", `tools[${i}].name`);
    const fn: ToolDefinition["function"] = { name: t.name };
    if (typeof t.description === "string") fn.description = t.description;
    if (isObj(t.input_schema)) fn.parameters = t.input_schema;
    out.push(withCache({ type: "function", function: fn }, t));
  });
  return out;
}

function toolChoice(choice: unknown): { choice?: ToolChoice; parallel?: boolean } {
  if (!isObj(choice)) return {};
  const parallel = choice.disable_parallel_tool_use === true ? false : undefined;
  if (choice.type === "any") return { choice: "required", parallel };
  if (choice.type === "none") return { choice: "none" };
  if (choice.type === "tool" && typeof choice.name === "string") return { choice: { type: "function", function: { name: choice.name } }, parallel };
  return { choice: "auto", parallel };
}

/**
 * A Messages request as the internal one, the inverse of encodeRequest:
 * `system` (a string or blocks) becomes a system message, a user turn's
 * tool_result blocks become tool messages, assistant thinking blocks become
 * reasoning with their signatures, a thinking budget becomes the nearest
 * effort level. A streamed request asks for usage, which Anthropic streams
 * always carry. top_k, is_error and server tools have no equivalent and are
 * dropped.
 */
export function decodeRequest(body: Record<string, unknown>): ChatRequest {
  if (!Array.isArray(body.messages)) throw bad("messages must be an array", "messages");
  const messages: ChatMessage[] = [];
  const system = systemMessage(body.system);
  if (system !== undefined) messages.push(system);
  body.messages.forEach((m, i) => {
    const param = `messages[${i}]`;
    if (!isObj(m)) throw bad("a message must be an object", param);
    if (m.role === "user") messages.push(...userMessages(m.content, param));
    else if (m.role === "assistant") messages.push(assistantMessage(m.content, param));
    // System messages in the conversation (Claude Code sends its environment this way) keep their place.
    else if (m.role === "system") {
      const sys = systemMessage(m.content, `${param}.content`);
      if (sys !== undefined) messages.push(sys);
    } else throw bad(`role must be "user", "assistant" or "system", got ${JSON.stringify(m.role)}`, `${param}.role`);
  });
  const req: ChatRequest = { model: typeof body.model === "string" ? body.model : "", messages };
  if (typeof body.max_tokens === "number") req.max_tokens = body.max_tokens;
  if (typeof body.temperature === "number") req.temperature = body.temperature;
  if (typeof body.top_p === "number") req.top_p = body.top_p;
  if (Array.isArray(body.stop_sequences) && body.stop_sequences.length > 0) req.stop = body.stop_sequences.filter((s): s is string => typeof s === "string");
  const t = tools(body.tools);
  if (t !== undefined && t.length > 0) {
    req.tools = t;
    const { choice, parallel } = toolChoice(body.tool_choice);
    if (choice !== undefined) req.tool_choice = choice;
    if (parallel !== undefined) req.parallel_tool_calls = parallel;
  }
  const thinking = body.thinking;
  if (isObj(thinking) && thinking.type === "enabled" && typeof thinking.budget_tokens === "number") req.reasoning_effort = effortFor(thinking.budget_tokens);
  // Adaptive thinking leaves the budget to the model; output_config.effort says how hard to think.
  const effort = isObj(body.output_config) ? body.output_config.effort : undefined;
  if (effort === "low" || effort === "medium" || effort === "high") req.reasoning_effort = effort;
  else if (effort === "max") req.reasoning_effort = "high";
  const user = isObj(body.metadata) ? body.metadata.user_id : undefined;
  if (typeof user === "string" && user !== "") req.user = user;
  if (body.stream === true) {
    req.stream = true;
    req.stream_options = { include_usage: true };
  }
  return req;
}
