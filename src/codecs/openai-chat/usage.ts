import type { Usage } from "../../protocol/chat.ts";
import { dataLineScanner } from "../data-lines.ts";
import type { UsageTap } from "../types.ts";

interface OpenAIUsage {
  prompt_tokens?: unknown;
  completion_tokens?: unknown;
  prompt_tokens_details?: { cached_tokens?: unknown } | null;
  completion_tokens_details?: { reasoning_tokens?: unknown } | null;
}

const num = (v: unknown): number | undefined => (typeof v === "number" && Number.isFinite(v) && v >= 0 ? v : undefined);

/** OpenAI's usage object as the internal Usage; undefined when it is not one. */
export function readUsage(u: unknown): Usage | undefined {
  if (typeof u !== "object" || u === null) return undefined;
  const o = u as OpenAIUsage;
  const input = num(o.prompt_tokens);
  const output = num(o.completion_tokens);
  if (input === undefined && output === undefined) return undefined;
  const usage: Usage = { inputTokens: input ?? 0, outputTokens: output ?? 0 };
  const cached = num(o.prompt_tokens_details?.cached_tokens);
  if (cached !== undefined && cached > 0) usage.cachedInputTokens = cached;
  const reasoning = num(o.completion_tokens_details?.reasoning_tokens);
  if (reasoning !== undefined && reasoning > 0) usage.reasoningTokens = reasoning;
  return usage;
}

/** The internal Usage as OpenAI's usage object. */
export function writeUsage(u: Usage): Record<string, unknown> {
  const out: Record<string, unknown> = {
    prompt_tokens: u.inputTokens,
    completion_tokens: u.outputTokens,
    total_tokens: u.inputTokens + u.outputTokens,
  };
  if (u.cachedInputTokens !== undefined) out.prompt_tokens_details = { cached_tokens: u.cachedInputTokens };
  if (u.reasoningTokens !== undefined) out.completion_tokens_details = { reasoning_tokens: u.reasoningTokens };
  return out;
}

export function usageOf(body: unknown): Usage | undefined {
  return typeof body === "object" && body !== null ? readUsage((body as { usage?: unknown }).usage) : undefined;
}

/** Finds the usage in an OpenAI stream passing through, in the event that holds `"prompt_tokens"` (see ../data-lines.ts). */
export function usageTap(): UsageTap {
  let found: Usage | undefined;
  const push = dataLineScanner('"prompt_tokens"', (ev) => {
    const u = readUsage((ev as { usage?: unknown } | null)?.usage);
    if (u !== undefined) found = u;
  });
  return { push, usage: () => found };
}
