import type { ChatResult, FinishReason, ReasoningBlock, ToolCall } from "../../protocol/chat.ts";
import { GatewayError } from "../../protocol/errors.ts";
import { callId, withSignature } from "./ids.ts";
import { readUsage } from "./usage.ts";

/** One part of a candidate's content, as far as the gateway reads it. */
export interface GeminiPart {
  text?: unknown;
  thought?: unknown;
  thoughtSignature?: unknown;
  functionCall?: { id?: unknown; name?: unknown; args?: unknown } | null;
}

export interface GeminiCandidate {
  content?: { parts?: unknown; role?: unknown } | null;
  finishReason?: unknown;
}

/** A GenerateContentResponse: a whole answer, or one event of a stream. */
export interface GeminiResponse {
  candidates?: unknown;
  promptFeedback?: { blockReason?: unknown } | null;
  usageMetadata?: unknown;
  modelVersion?: unknown;
  responseId?: unknown;
  error?: unknown;
}

/** Finish reasons that mean Gemini withheld or cut the answer for its content. */
const FILTERED = new Set([
  "SAFETY",
  "RECITATION",
  "BLOCKLIST",
  "PROHIBITED_CONTENT",
  "SPII",
  "IMAGE_SAFETY",
  "IMAGE_PROHIBITED_CONTENT",
  "IMAGE_RECITATION",
]);

/**
 * Gemini's finishReason as the internal one. Gemini says STOP after function
 * calls too, so calls decide `tool_calls`. LANGUAGE, OTHER, a malformed or
 * unexpected function call and reasons added later end the answer as "stop":
 * it ended, and nothing closer can be said in OpenAI's terms.
 */
export function readFinish(reason: unknown, hasToolCalls: boolean): FinishReason {
  if (reason === "MAX_TOKENS") return "length";
  if (typeof reason === "string" && FILTERED.has(reason)) return "content_filter";
  return hasToolCalls ? "tool_calls" : "stop";
}

export const str = (v: unknown): string | undefined => (typeof v === "string" ? v : undefined);

/** The first candidate's parts (a filtered candidate may have no content at all). */
export function partsOf(candidate: GeminiCandidate | undefined): GeminiPart[] {
  const parts = candidate?.content?.parts;
  return Array.isArray(parts) ? parts.filter((p): p is GeminiPart => typeof p === "object" && p !== null) : [];
}

export function firstCandidate(r: GeminiResponse): GeminiCandidate | undefined {
  const c = Array.isArray(r.candidates) ? r.candidates[0] : undefined;
  return typeof c === "object" && c !== null ? (c as GeminiCandidate) : undefined;
}

/** A functionCall part as a tool call: Gemini's id or a stable one, its signature carried in the id. */
export function toolCallOf(part: GeminiPart, responseId: string | undefined, index: number): ToolCall | undefined {
  const fc = part.functionCall;
  if (typeof fc !== "object" || fc === null || typeof fc.name !== "string") return undefined;
  const args = typeof fc.args === "object" && fc.args !== null ? fc.args : {};
  const base = typeof fc.id === "string" && fc.id !== "" ? fc.id : callId(responseId, index, fc.name, args);
  return { id: withSignature(base, str(part.thoughtSignature)), type: "function", function: { name: fc.name, arguments: JSON.stringify(args) } };
}

/**
 * A generateContent answer as a ChatResult (its first candidate). Thought
 * parts become reasoning; a signature on a thought closes its block, a
 * signature on an answer part is kept as a block of its own (no text), and
 * one on a function call rides in the call's id.
 */
export function decodeResponse(body: unknown): ChatResult {
  const b = body as GeminiResponse | null;
  if (typeof b !== "object" || b === null || Array.isArray(b)) throw malformed();
  const candidate = firstCandidate(b);
  const blocked = str(b.promptFeedback?.blockReason);
  if (candidate === undefined && blocked === undefined) throw malformed();
  const responseId = str(b.responseId);
  let text = "";
  const reasoning: ReasoningBlock[] = [];
  const toolCalls: ToolCall[] = [];
  let open: ReasoningBlock | undefined;
  for (const part of partsOf(candidate)) {
    const signature = str(part.thoughtSignature) || undefined;
    if (part.functionCall !== undefined) {
      const call = toolCallOf(part, responseId, toolCalls.length);
      if (call !== undefined) toolCalls.push(call);
      continue;
    }
    if (part.thought === true) {
      const t = str(part.text) ?? "";
      if (t !== "") {
        open ??= reasoning[reasoning.push({ text: "" }) - 1];
        open.text += t;
      }
      if (signature !== undefined) {
        if (open === undefined) reasoning.push({ text: "", signature });
        else open.signature = signature;
        open = undefined;
      }
      continue;
    }
    if (typeof part.text === "string") text += part.text;
    if (signature !== undefined) reasoning.push({ text: "", signature });
  }
  const result: ChatResult = {
    id: responseId ?? "",
    model: str(b.modelVersion) ?? "",
    text,
    reasoning,
    toolCalls,
    finish: candidate === undefined ? "content_filter" : readFinish(candidate.finishReason, toolCalls.length > 0),
  };
  const usage = readUsage(b.usageMetadata);
  if (usage !== undefined) result.usage = usage;
  return result;
}

function malformed(): GatewayError {
  return new GatewayError("SY_ERR_UPSTREAM_MALFORMED", "upstream answer is no generateContent response (no candidates)", { retryable: true });
}
