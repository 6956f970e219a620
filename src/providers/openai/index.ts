import type { CallSpec, Operation, PreparedProvider, ProviderAdapter, UpstreamCall } from "../types.ts";
import { classifyOpenAIStatus, classifyOpenAIStreamError } from "./errors.ts";

export { classifyOpenAIStatus, classifyOpenAIStreamError, keyFault, keyRefused, readUpstreamError } from "./errors.ts";
export type { KeyFault, UpstreamErrorInfo } from "./errors.ts";

/** Where each operation is served, under the base URL. */
export const OPENAI_PATHS: Readonly<Record<Operation, string>> = {
  chat: "/chat/completions",
  // Only reached when the client's API passes through: responses with `responses: true`; messages never.
  messages: "/chat/completions",
  responses: "/responses",
  completions: "/completions",
  embeddings: "/embeddings",
};

/** The body with the target's model name in it; the client's own object when it already names it. */
export function withModel(body: Record<string, unknown>, model: string): Record<string, unknown> {
  return body.model === model ? body : { ...body, model };
}

/** An OpenAI-compatible upstream: the request body passes through with only the model name replaced. */
export const openaiAdapter: ProviderAdapter = {
  type: "openai",
  chatApi: "openai-chat",

  supports: () => true,

  alsoSpeaks: (api, provider) => api === "openai-responses" && provider.config.responses === true,

  authHeaders: (key) => ({ authorization: `Bearer ${key}` }),

  buildCall({ op, body, model, provider, headers }: CallSpec): UpstreamCall {
    return { method: "POST", path: provider.pathPrefix + OPENAI_PATHS[op], headers, body: JSON.stringify(withModel(body, model)) };
  },

  probeCall(provider: PreparedProvider, headers: Record<string, string>): UpstreamCall {
    return { method: "GET", path: `${provider.pathPrefix}/models`, headers };
  },

  classifyStatus: classifyOpenAIStatus,

  classifyStreamError: classifyOpenAIStreamError,
};
