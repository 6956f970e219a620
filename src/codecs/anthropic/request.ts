import type { ChatMessage, ChatRequest, ContentPart, ReasoningBlock, ToolCall, ToolChoice, ToolDefinition } from "../../protocol/chat.ts";
import { GatewayError } from "../../protocol/errors.ts";
import { imageSource, MIN_THINKING_BUDGET, THINKING_BUDGET, toolUseId } from "./blocks.ts";

/** Anthropic requires max_tokens; this is sent when the client set no limit. */
export const DEFAULT_MAX_TOKENS = 4096;

type Block = Record<string, unknown>;
interface Turn {
  role: "user" | "assistant";
  content: Block[];
}

const isThinking = (b: Block) => b.type === "thinking" || b.type === "redacted_thinking";
const num = (v: unknown): number | undefined => (typeof v === "number" && Number.isFinite(v) ? v : undefined);

function bad(message: string, param: string): GatewayError {
  return new GatewayError("SY_ERR_BAD_REQUEST", message, { param });
}

function withCache(block: Block, part: { cache_control?: unknown }): Block {
  if (part.cache_control !== undefined) block.cache_control = part.cache_control;
  return block;
}

/** Text and image parts as Anthropic blocks; empty text is left out, as Anthropic refuses it. */
function contentBlocks(content: ChatMessage["content"], param: string): Block[] {
  if (content === undefined || content === null) return [];
  if (typeof content === "string") return content === "" ? [] : [{ type: "text", text: content }];
  if (!Array.isArray(content)) throw bad("content must be a string or an array of parts", param);
  const out: Block[] = [];
  content.forEach((p: ContentPart, i) => {
    if (p?.type === "text" && typeof p.text === "string") {
      if (p.text !== "") out.push(withCache({ type: "text", text: p.text }, p));
    } else if (p?.type === "image_url" && typeof p.image_url?.url === "string") {
      out.push(withCache({ type: "image", source: imageSource(p.image_url.url, `${param}[${i}].image_url.url`) }, p));
    } else {
      throw bad(`content part of type ${JSON.stringify((p as { type?: unknown })?.type)} cannot be sent to an Anthropic upstream`, `${param}[${i}]`);
    }
  });
  return out;
}

/** Signed and redacted reasoning goes back as it came; unsigned reasoning (another upstream's) cannot, Anthropic would refuse it. */
function thinkingBlocks(reasoning: ReasoningBlock[] | undefined): Block[] {
  const out: Block[] = [];
  for (const b of reasoning ?? []) {
    if (b.redacted !== undefined) out.push({ type: "redacted_thinking", data: b.redacted });
    else if (b.signature !== undefined && b.signature !== "") out.push({ type: "thinking", thinking: b.text, signature: b.signature });
  }
  return out;
}

function toolUse(t: ToolCall, param: string): Block {
  if (typeof t?.function?.name !== "string") throw bad("a tool call needs function.name", `${param}.function.name`);
  const args = typeof t.function.arguments === "string" ? t.function.arguments : "";
  let input: unknown = {};
  if (args.trim() !== "") {
    try {
      input = JSON.parse(args);
    } catch {
      throw bad("tool call arguments are not valid JSON; Anthropic needs them as an object", `${param}.function.arguments`);
    }
  }
  if (typeof input !== "object" || input === null || Array.isArray(input)) {
    throw bad("tool call arguments must be a JSON object for an Anthropic upstream", `${param}.function.arguments`);
  }
  return { type: "tool_use", id: toolUseId(typeof t.id === "string" ? t.id : ""), name: t.function.name, input };
}

function toolResult(m: ChatMessage, param: string): Block {
  if (typeof m.tool_call_id !== "string") throw bad("a tool message needs tool_call_id", `${param}.tool_call_id`);
  const block: Block = { type: "tool_result", tool_use_id: toolUseId(m.tool_call_id) };
  const content = contentBlocks(m.content, `${param}.content`);
  if (content.length === 1 && content[0].type === "text" && content[0].cache_control === undefined) block.content = content[0].text;
  else if (content.length > 0) block.content = content;
  return block;
}

/**
 * Messages in Anthropic's shape: system and developer messages lifted into
 * `system` (in order, wherever they stood), tool results as user turns,
 * consecutive turns of one role merged (Anthropic wants them alternating),
 * tool results first in their user turn and thinking first in its
 * assistant turn, as Anthropic requires.
 */
function encodeMessages(messages: ChatMessage[]): { system: Block[]; turns: Turn[] } {
  const system: Block[] = [];
  const turns: Turn[] = [];
  const push = (role: Turn["role"], blocks: Block[]) => {
    if (blocks.length === 0) return;
    const last = turns.at(-1);
    if (last?.role === role) last.content.push(...blocks);
    else turns.push({ role, content: blocks });
  };
  messages.forEach((m, i) => {
    const param = `messages[${i}]`;
    switch (m?.role) {
      case "system":
      case "developer":
        // Anthropic's system prompt holds text only.
        system.push(...contentBlocks(m.content, `${param}.content`).filter((b) => b.type === "text"));
        break;
      case "user":
        push("user", contentBlocks(m.content, `${param}.content`));
        break;
      case "assistant":
        push("assistant", [
          ...thinkingBlocks(m.reasoning),
          ...contentBlocks(m.content, `${param}.content`),
          ...(m.tool_calls ?? []).map((t, j) => toolUse(t, `${param}.tool_calls[${j}]`)),
        ]);
        break;
      case "tool":
        push("user", [toolResult(m, param)]);
        break;
      default:
        throw bad(`role ${JSON.stringify((m as { role?: unknown })?.role)} cannot be sent to an Anthropic upstream`, `${param}.role`);
    }
  });
  for (const t of turns) {
    const first = t.role === "user" ? (b: Block) => b.type === "tool_result" : isThinking;
    t.content = [...t.content.filter(first), ...t.content.filter((b) => !first(b))];
  }
  return { system, turns };
}

function encodeTool(t: ToolDefinition, i: number): Block {
  if (t?.type !== "function" || typeof t.function?.name !== "string") {
    throw bad("only function tools can be sent to an Anthropic upstream", `tools[${i}]`);
  }
  const out: Block = { name: t.function.name };
  if (t.function.description !== undefined) out.description = t.function.description;
  out.input_schema = t.function.parameters ?? { type: "object", properties: {} };
  return withCache(out, t);
}

function encodeToolChoice(choice: ToolChoice | undefined, parallel: boolean | undefined): Block | undefined {
  let out: Block | undefined;
  if (choice === "auto") out = { type: "auto" };
  else if (choice === "required") out = { type: "any" };
  else if (choice === "none") return { type: "none" };
  else if (typeof choice === "object" && choice !== null && typeof choice.function?.name === "string") out = { type: "tool", name: choice.function.name };
  if (parallel === false) (out ??= { type: "auto" }).disable_parallel_tool_use = true;
  return out;
}

/**
 * The thinking budget for an effort level, within the output limit (which
 * counts thinking on Anthropic as on OpenAI): none when even Anthropic's
 * smallest budget does not fit under it.
 */
function thinkingBudget(effort: unknown, maxTokens: number | undefined): number | undefined {
  const wanted = typeof effort === "string" ? THINKING_BUDGET[effort as keyof typeof THINKING_BUDGET] : undefined;
  if (wanted === undefined) return undefined;
  const budget = maxTokens === undefined ? wanted : Math.min(wanted, maxTokens - 1);
  return budget >= MIN_THINKING_BUDGET ? budget : undefined;
}

/**
 * The internal request as an Anthropic Messages body. Only fields with an
 * Anthropic equivalent are written; the rest (n, seed, penalties, logprobs,
 * response_format, stream_options …) are dropped rather than forwarded. The
 * mapping is documented in docs/providers.md.
 */
export function encodeRequest(req: ChatRequest, model: string): Record<string, unknown> {
  const { system, turns } = encodeMessages(Array.isArray(req.messages) ? req.messages : []);
  const out: Record<string, unknown> = { model };
  if (system.length > 0) out.system = system;
  out.messages = turns.map((t) =>
    t.content.length === 1 && t.content[0].type === "text" && t.content[0].cache_control === undefined ? { role: t.role, content: t.content[0].text } : t,
  );
  const limit = num(req.max_completion_tokens) ?? num(req.max_tokens);
  const budget = thinkingBudget(req.reasoning_effort, limit);
  out.max_tokens = limit ?? (budget === undefined ? DEFAULT_MAX_TOKENS : budget + DEFAULT_MAX_TOKENS);
  if (budget !== undefined) out.thinking = { type: "enabled", budget_tokens: budget };
  const stop = typeof req.stop === "string" ? [req.stop] : Array.isArray(req.stop) ? req.stop.filter((s) => typeof s === "string" && s !== "") : [];
  if (stop.length > 0) out.stop_sequences = stop;
  // With thinking on, Anthropic refuses a changed temperature or top_p: they are left out.
  const temperature = num(req.temperature);
  if (temperature !== undefined && budget === undefined) out.temperature = Math.min(1, Math.max(0, temperature));
  const topP = num(req.top_p);
  if (topP !== undefined && budget === undefined) out.top_p = topP;
  if (Array.isArray(req.tools) && req.tools.length > 0) {
    out.tools = req.tools.map(encodeTool);
    const choice = encodeToolChoice(req.tool_choice, req.parallel_tool_calls);
    if (choice !== undefined) out.tool_choice = choice;
  }
  if (typeof req.user === "string" && req.user !== "") out.metadata = { user_id: req.user };
  if (req.stream === true) out.stream = true;
  return out;
}
