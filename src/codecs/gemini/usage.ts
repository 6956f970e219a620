import type { Usage } from "../../protocol/chat.ts";

interface UsageMetadata {
  promptTokenCount?: unknown;
  candidatesTokenCount?: unknown;
  cachedContentTokenCount?: unknown;
  thoughtsTokenCount?: unknown;
  toolUsePromptTokenCount?: unknown;
}

const num = (v: unknown): number | undefined => (typeof v === "number" && Number.isFinite(v) && v >= 0 ? v : undefined);

/**
 * Gemini's usageMetadata as the internal Usage. Gemini counts thoughts apart
 * from the answer (candidatesTokenCount leaves them out) while the internal
 * output includes reasoning, so they are added; the prompt count already
 * includes cached tokens, as the internal input does. Undefined when it
 * counts neither prompt nor answer.
 */
export function readUsage(u: unknown): Usage | undefined {
  if (typeof u !== "object" || u === null) return undefined;
  const o = u as UsageMetadata;
  const prompt = num(o.promptTokenCount);
  const candidates = num(o.candidatesTokenCount);
  const thoughts = num(o.thoughtsTokenCount);
  if (prompt === undefined && candidates === undefined && thoughts === undefined) return undefined;
  // Results of Gemini's own tools (search, code execution) are read as prompt: that is how they are billed.
  const usage: Usage = { inputTokens: (prompt ?? 0) + (num(o.toolUsePromptTokenCount) ?? 0), outputTokens: (candidates ?? 0) + (thoughts ?? 0) };
  const cached = num(o.cachedContentTokenCount);
  if (cached !== undefined && cached > 0) usage.cachedInputTokens = cached;
  if (thoughts !== undefined && thoughts > 0) usage.reasoningTokens = thoughts;
  return usage;
}
