/**
 * Content pieces both directions share: images (OpenAI's URLs against
 * Anthropic's sources), tool-use ids, and the effort ↔ thinking budget scale.
 */
import type { ChatRequest } from "../../protocol/chat.ts";
import { GatewayError } from "../../protocol/errors.ts";

export type Effort = NonNullable<ChatRequest["reasoning_effort"]>;

/**
 * The thinking budget each of OpenAI's effort levels asks Anthropic for.
 * 1024 is the smallest budget Anthropic accepts; the others double up to a
 * budget that fits the default output limit of current models.
 */
export const THINKING_BUDGET: Readonly<Record<Effort, number>> = { minimal: 1024, low: 2048, medium: 8192, high: 24576 };

/** The smallest budget Anthropic accepts. */
export const MIN_THINKING_BUDGET = 1024;

/** A budget as the nearest effort level at or above it (the levels' own budgets map back exactly). */
export function effortFor(budget: number): Effort {
  if (budget <= THINKING_BUDGET.minimal) return "minimal";
  if (budget <= THINKING_BUDGET.low) return "low";
  if (budget <= THINKING_BUDGET.medium) return "medium";
  return "high";
}

const DATA_URL = /^data:([^;,]+)((?:;[^;,]*)*);base64,/i;

/** An OpenAI image URL as Anthropic's image source: data: URLs inline (base64), http(s) by URL. */
export function imageSource(url: string, param: string): Record<string, string> {
  const m = DATA_URL.exec(url);
  if (m !== null) return { type: "base64", media_type: m[1].toLowerCase(), data: url.slice(m[0].length) };
  if (/^https?:\/\//i.test(url)) return { type: "url", url };
  throw new GatewayError("SY_ERR_BAD_REQUEST", "an image must be an http(s) URL or a base64 data: URL to be sent to an Anthropic upstream", { param });
}

/** Anthropic's image source as an OpenAI image URL. */
export function imageUrl(source: unknown, param: string): string {
  const s = source as { type?: unknown; media_type?: unknown; data?: unknown; url?: unknown } | null;
  if (s?.type === "base64" && typeof s.media_type === "string" && typeof s.data === "string") return `data:${s.media_type};base64,${s.data}`;
  if (s?.type === "url" && typeof s.url === "string") return s.url;
  throw new GatewayError("SY_ERR_BAD_REQUEST", "only base64 and url image sources can be translated for this upstream", { param });
}

/**
 * Anthropic accepts tool-use ids of letters, digits, `_` and `-` only; ids
 * from other upstreams are made to fit the same way in the call and in its
 * result, so the two still match. Anthropic's own `toolu_` ids pass unchanged.
 */
export function toolUseId(id: string): string {
  return /^[A-Za-z0-9_-]+$/.test(id) ? id : id.replace(/[^A-Za-z0-9_-]/g, "_") || "toolu_";
}
