import type { Usage } from "../../protocol/chat.ts";
import { dataLineScanner } from "../data-lines.ts";
import type { UsageTap } from "../types.ts";

/** Anthropic's usage fields; message_delta may send any of them again, or null. */
export interface AnthropicUsage {
  input_tokens?: unknown;
  output_tokens?: unknown;
  cache_read_input_tokens?: unknown;
  cache_creation_input_tokens?: unknown;
}

const num = (v: unknown): number | undefined => (typeof v === "number" && Number.isFinite(v) && v >= 0 ? v : undefined);

/**
 * Anthropic's usage as the internal one. Anthropic counts `input_tokens`
 * without the tokens read from or written to its prompt cache; the internal
 * `inputTokens` counts all input, cached included (as OpenAI's prompt_tokens
 * does), so the three are added up and the cached parts kept beside it.
 */
export function readUsage(u: unknown): Usage | undefined {
  if (typeof u !== "object" || u === null) return undefined;
  const o = u as AnthropicUsage;
  const input = num(o.input_tokens);
  const output = num(o.output_tokens);
  const read = num(o.cache_read_input_tokens);
  const write = num(o.cache_creation_input_tokens);
  if (input === undefined && output === undefined && read === undefined && write === undefined) return undefined;
  const usage: Usage = { inputTokens: (input ?? 0) + (read ?? 0) + (write ?? 0), outputTokens: output ?? 0 };
  if (read !== undefined && read > 0) usage.cachedInputTokens = read;
  if (write !== undefined && write > 0) usage.cacheWriteTokens = write;
  return usage;
}

/** The internal usage as Anthropic's: input without the cached parts, which get their own fields. */
export function writeUsage(u: Usage | undefined): Record<string, number> {
  const read = u?.cachedInputTokens ?? 0;
  const write = u?.cacheWriteTokens ?? 0;
  return {
    input_tokens: Math.max(0, (u?.inputTokens ?? 0) - read - write),
    cache_creation_input_tokens: write,
    cache_read_input_tokens: read,
    output_tokens: u?.outputTokens ?? 0,
  };
}

/**
 * Folds a later usage report into an earlier one: message_start carries the
 * input counts, message_delta the final output count (and, from newer API
 * versions, the input counts again). Absent and null fields keep the earlier value.
 */
export function mergeUsage(into: Record<string, unknown>, u: unknown): void {
  if (typeof u !== "object" || u === null) return;
  for (const [k, v] of Object.entries(u)) if (num(v) !== undefined) into[k] = v;
}

export function usageOf(body: unknown): Usage | undefined {
  return typeof body === "object" && body !== null ? readUsage((body as { usage?: unknown }).usage) : undefined;
}

/**
 * Reads usage out of an Anthropic stream passing through: message_start holds
 * the input counts, message_delta the output (see ../data-lines.ts).
 */
export function usageTap(): UsageTap {
  const raw: Record<string, unknown> = {};
  const push = dataLineScanner('"usage"', (e) => {
    const ev = e as { type?: unknown; message?: { usage?: unknown }; usage?: unknown };
    if (ev.type === "message_start") mergeUsage(raw, ev.message?.usage);
    else if (ev.type === "message_delta") mergeUsage(raw, ev.usage);
  });
  return { push, usage: () => readUsage(raw) };
}
