import type { Usage } from "../../protocol/chat.ts";
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

const MARK = Buffer.from('"usage"');
const BOUNDARY = Buffer.from("\n\n");
const MAX_CARRY = 64 * 1024;

/**
 * Reads usage out of an Anthropic stream passing through: message_start holds
 * the input counts, message_delta the output. Chunks are only searched for
 * `"usage"` (one native scan each); an event split across chunks is carried over.
 */
export function usageTap(): UsageTap {
  let carry: Buffer | undefined;
  const raw: Record<string, unknown> = {};
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
        if (!line.startsWith("data:") || !line.includes('"usage"')) continue;
        try {
          const ev = JSON.parse(line.slice(5)) as { type?: unknown; message?: { usage?: unknown }; usage?: unknown };
          if (ev.type === "message_start") mergeUsage(raw, ev.message?.usage);
          else if (ev.type === "message_delta") mergeUsage(raw, ev.usage);
        } catch {
          // not an event we can read: the client sees it as it is
        }
      }
    },
    usage: () => readUsage(raw),
  };
}
