import type { Usage } from "../../protocol/chat.ts";
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

const MARK = Buffer.from('"prompt_tokens"');
const BOUNDARY = Buffer.from("\n\n");
const MAX_CARRY = 64 * 1024;

/**
 * Finds the usage in an OpenAI stream passing through: chunks are only
 * searched for `"prompt_tokens"` (one native scan each), and the event that
 * holds it is parsed. A chunk's unfinished last event is carried over, so an
 * event split across chunks is still found.
 */
export function usageTap(): UsageTap {
  let carry: Buffer | undefined;
  let found: Usage | undefined;
  return {
    push(chunk) {
      const b = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
      const text = carry === undefined ? b : Buffer.concat([carry, b]);
      const cut = text.lastIndexOf(BOUNDARY);
      const whole = cut === -1 ? text.subarray(0, 0) : text.subarray(0, cut + 2);
      const tail = cut === -1 ? text : text.subarray(cut + 2);
      carry = tail.length === 0 || tail.length > MAX_CARRY ? undefined : Buffer.from(tail);
      if (whole.indexOf(MARK) === -1) return;
      for (const line of whole.toString("utf8").split("\n")) {
        if (!line.startsWith("data:") || !line.includes('"prompt_tokens"')) continue;
        try {
          const u = readUsage((JSON.parse(line.slice(5)) as { usage?: unknown }).usage);
          if (u !== undefined) found = u;
        } catch {
          // not an event we can read: the client sees it as it is
        }
      }
    },
    usage: () => found,
  };
}
