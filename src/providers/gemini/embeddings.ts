/**
 * OpenAI's embeddings request and answer, translated for Gemini: one input
 * goes to `:embedContent`, several to `:batchEmbedContents` (the adapter picks
 * the endpoint by the body's shape), and the vectors come back as OpenAI's
 * list, as floats or as base64 (little-endian float32) when the client asked
 * for that, as the official SDKs do by default.
 */
import { GatewayError } from "../../protocol/errors.ts";

/** The model as the `models/…` resource name Gemini uses in paths and batch requests. */
export function modelResource(model: string): string {
  if (model.startsWith("models/") || model.startsWith("tunedModels/")) return model;
  return `models/${model}`;
}

function inputs(input: unknown): string[] {
  if (typeof input === "string") return [input];
  if (Array.isArray(input) && input.length > 0 && input.every((x) => typeof x === "string")) return input as string[];
  throw new GatewayError("SY_ERR_BAD_REQUEST", "Gemini embeds text: 'input' must be a string or an array of strings (token arrays cannot be sent to it)", { param: "input" });
}

/** An OpenAI embeddings request as an embedContent body (one input) or a batchEmbedContents body (several). */
export function embeddingsRequest(body: Record<string, unknown>, model: string): Record<string, unknown> {
  const texts = inputs(body.input);
  const dims = typeof body.dimensions === "number" && Number.isInteger(body.dimensions) && body.dimensions > 0 ? body.dimensions : undefined;
  const one = (text: string): Record<string, unknown> => {
    const r: Record<string, unknown> = { content: { parts: [{ text }] } };
    if (dims !== undefined) r.outputDimensionality = dims;
    return r;
  };
  if (texts.length === 1) return one(texts[0]);
  // Each request of a batch must name the model of the URL.
  const resource = modelResource(model);
  return { requests: texts.map((t) => ({ model: resource, ...one(t) })) };
}

function vectors(body: unknown): number[][] | undefined {
  if (typeof body !== "object" || body === null) return undefined;
  const b = body as { embedding?: { values?: unknown }; embeddings?: unknown };
  const list = Array.isArray(b.embeddings) ? (b.embeddings as Array<{ values?: unknown } | null>).map((e) => e?.values) : b.embedding !== undefined ? [b.embedding?.values] : undefined;
  if (list === undefined || list.length === 0) return undefined;
  if (!list.every((v) => Array.isArray(v) && v.every((x) => typeof x === "number"))) return undefined;
  return list as number[][];
}

/** Gemini's embeddings as OpenAI's list; usage only when Gemini counted (the Developer API does not). */
export function embeddingsAnswer(body: unknown, model: string, request?: Record<string, unknown>): Record<string, unknown> {
  const list = vectors(body);
  if (list === undefined) throw new GatewayError("SY_ERR_UPSTREAM_MALFORMED", "upstream answer has no embeddings", { retryable: true });
  const base64 = request?.encoding_format === "base64";
  const out: Record<string, unknown> = {
    object: "list",
    data: list.map((v, index) => ({
      object: "embedding",
      index,
      embedding: base64 ? Buffer.from(new Float32Array(v).buffer).toString("base64") : v,
    })),
    model,
  };
  const prompt = (body as { usageMetadata?: { promptTokenCount?: unknown } }).usageMetadata?.promptTokenCount;
  if (typeof prompt === "number" && Number.isFinite(prompt) && prompt >= 0) out.usage = { prompt_tokens: prompt, total_tokens: prompt };
  return out;
}
