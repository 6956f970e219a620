import type { CallSpec, PreparedProvider, ProviderAdapter, UpstreamCall } from "../types.ts";
import { classifyAnthropicStatus, classifyAnthropicStreamError } from "./errors.ts";

/** The API version every call names; a configured `anthropic-version` header replaces it. */
export const ANTHROPIC_VERSION = "2023-06-01";

/**
 * Anthropic's Messages API (`type: anthropic`). Chat only: Anthropic has no
 * embeddings or legacy completions. The key goes in `x-api-key`; the
 * request is translated by the anthropic codec unless the client spoke
 * Messages itself.
 */
export const anthropicAdapter: ProviderAdapter = {
  type: "anthropic",
  chatApi: "anthropic",

  supports: (op) => op === "chat",

  authHeaders: (key) => ({ "x-api-key": key }),

  defaultHeaders: { "anthropic-version": ANTHROPIC_VERSION },

  buildCall({ body, model, provider, headers, passHeaders }: CallSpec): UpstreamCall {
    const payload = body.model === model ? body : { ...body, model };
    // A Messages client's own version and beta flags (Claude Code's bodies use beta fields) go with its request.
    const sent = passHeaders === undefined ? headers : { ...headers, ...passHeaders };
    return { method: "POST", path: `${provider.pathPrefix}/messages`, headers: sent, body: JSON.stringify(payload) };
  },

  probeCall(provider: PreparedProvider, headers: Record<string, string>): UpstreamCall {
    return { method: "GET", path: `${provider.pathPrefix}/models`, headers };
  },

  classifyStatus: classifyAnthropicStatus,

  classifyStreamError: classifyAnthropicStreamError,
};
