import type { Usage } from "../../protocol/chat.ts";
import type { UsageTap } from "../types.ts";

const num = (v: unknown): number | undefined => (typeof v === "number" && Number.isFinite(v) && v >= 0 ? v : undefined);

/** The Responses API's usage object as the internal Usage. */
export function readUsage(u: unknown): Usage | undefined {
  if (typeof u !== "object" || u === null) return undefined;
  const o = u as { input_tokens?: unknown; output_tokens?: unknown; input_tokens_details?: { cached_tokens?: unknown }; output_tokens_details?: { reasoning_tokens?: unknown } };
  const input = num(o.input_tokens);
  const output = num(o.output_tokens);
  if (input === undefined && output === undefined) return undefined;
  const usage: Usage = { inputTokens: input ?? 0, outputTokens: output ?? 0 };
  const cached = num(o.input_tokens_details?.cached_tokens);
  if (cached) usage.cachedInputTokens = cached;
  const reasoning = num(o.output_tokens_details?.reasoning_tokens);
  if (reasoning) usage.reasoningTokens = reasoning;
  return usage;
}

export function usageOf(body: unknown): Usage | undefined {
  return typeof body === "object" && body !== null ? readUsage((body as { usage?: unknown }).usage) : undefined;
}

const MARK = Buffer.from('"response.completed"');
const DATA = Buffer.from("data:");

/**
 * Usage from a Responses stream passing through, read from its
 * response.completed event only: chunks before it cost one native search
 * each; from it on, bytes are kept until its data line is whole.
 */
export function usageTap(): UsageTap {
  let carry: Buffer | undefined;
  let found: Usage | undefined;
  return {
    push(chunk) {
      if (found !== undefined) return;
      const b = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
      if (carry === undefined) {
        // The `event:` line names it too: keep from the data line that does (it may start in a later chunk).
        let mark = b.indexOf(MARK);
        if (mark === -1) return;
        for (; mark !== -1; mark = b.indexOf(MARK, mark + 1)) {
          const lineStart = b.lastIndexOf(0x0a, mark) + 1;
          if (b.subarray(lineStart, lineStart + DATA.length).equals(DATA)) {
            carry = b.subarray(lineStart);
            break;
          }
        }
        carry ??= b.subarray(b.lastIndexOf(0x0a) + 1);
      } else carry = Buffer.concat([carry, b]);
      const start = carry.indexOf(DATA);
      if (start === -1) return;
      const end = carry.indexOf(0x0a, start);
      if (end === -1) return;
      try {
        const ev = JSON.parse(carry.subarray(start + DATA.length, end).toString("utf8")) as { response?: { usage?: unknown } };
        found = readUsage(ev.response?.usage);
      } catch {
        // not an event we can read: the client sees it as it is
      }
      carry = undefined;
    },
    usage: () => found,
  };
}
