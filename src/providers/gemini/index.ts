import type { CallSpec, Operation, PreparedProvider, ProviderAdapter, UpstreamCall } from "../types.ts";
import { embeddingsAnswer, embeddingsRequest, modelResource } from "./embeddings.ts";
import { classifyGeminiStatus, classifyGeminiStreamError } from "./errors.ts";

/** A model resource in a path: its name segments encoded, the slash between collection and name kept. */
function modelPath(model: string): string {
  return modelResource(model).split("/").map(encodeURIComponent).join("/");
}

/**
 * Gemini's list (`{"models":[{"name":"models/gemini-2.5-flash",…}]}`): the
 * ids requests name, without the collection. Models that neither generate nor
 * embed (tuning bases, say) are left out.
 */
function geminiModelIds(body: unknown): string[] {
  const models = (body as { models?: unknown } | null)?.models;
  if (!Array.isArray(models)) return [];
  return models.flatMap((m: unknown) => {
    const { name, supportedGenerationMethods: methods } = (m ?? {}) as { name?: unknown; supportedGenerationMethods?: unknown };
    if (typeof name !== "string" || !name.startsWith("models/")) return [];
    if (Array.isArray(methods) && !methods.some((x) => x === "generateContent" || x === "embedContent")) return [];
    return [name.slice("models/".length)];
  });
}

/**
 * Google's Gemini API (AI Studio keys): the model goes in the path, the key
 * in `x-goog-api-key`, chat through generateContent (the gemini codec
 * translates), embeddings translated here. Legacy completions it has none of.
 */
export const geminiAdapter: ProviderAdapter = {
  type: "gemini",
  chatApi: "gemini",

  supports: (op: Operation) => op === "chat" || op === "embeddings",

  authHeaders: (key) => ({ "x-goog-api-key": key }),

  buildCall({ op, body, model, stream, provider, headers }: CallSpec): UpstreamCall {
    const base = `${provider.pathPrefix}/${modelPath(model)}`;
    let path: string;
    if (op === "embeddings") path = `${base}:${Array.isArray(body.requests) ? "batchEmbedContents" : "embedContent"}`;
    else path = stream ? `${base}:streamGenerateContent?alt=sse` : `${base}:generateContent`;
    return { method: "POST", path, headers, body: JSON.stringify(body) };
  },

  translateOp: {
    request: (_op, body, model) => embeddingsRequest(body, model),
    answer: (_op, body, model, request) => embeddingsAnswer(body, model, request),
  },

  probeCall(provider: PreparedProvider, headers: Record<string, string>): UpstreamCall {
    return { method: "GET", path: `${provider.pathPrefix}/models`, headers };
  },

  modelIds: geminiModelIds,

  classifyStatus: classifyGeminiStatus,

  classifyStreamError: classifyGeminiStreamError,
};
