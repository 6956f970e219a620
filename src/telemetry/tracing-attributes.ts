/**
 * What the spans say, in OpenTelemetry's words: the GenAI semantic
 * conventions where they name a thing, the general ones (HTTP, server,
 * error, service) otherwise, and `switchyard.*` for what only a gateway has.
 *
 * The names are written out rather than imported from
 * @opentelemetry/semantic-conventions: its GenAI names are still in the
 * "incubating" entry point, which may change in any release, and the
 * package would load with the gateway even when tracing is off. A test
 * holds them equal to the package's.
 */
import type { Attributes } from "@opentelemetry/api";
import type { Usage } from "../protocol/chat.ts";

export const GEN_AI_OPERATION_NAME = "gen_ai.operation.name";
export const GEN_AI_PROVIDER_NAME = "gen_ai.provider.name";
export const GEN_AI_REQUEST_MODEL = "gen_ai.request.model";
export const GEN_AI_RESPONSE_MODEL = "gen_ai.response.model";
export const GEN_AI_USAGE_INPUT_TOKENS = "gen_ai.usage.input_tokens";
export const GEN_AI_USAGE_OUTPUT_TOKENS = "gen_ai.usage.output_tokens";
export const ATTR_ERROR_TYPE = "error.type";
export const ATTR_HTTP_RESPONSE_STATUS_CODE = "http.response.status_code";
export const ATTR_SERVER_ADDRESS = "server.address";
export const ATTR_SERVER_PORT = "server.port";
export const ATTR_SERVICE_NAME = "service.name";

export const SY_REQUEST_ID = "switchyard.request_id";
/** "provider/model": the target an attempt went to, or that answered the request. */
export const SY_TARGET = "switchyard.target";
/** The provider's name in the config (gen_ai.provider.name is its kind). */
export const SY_PROVIDER = "switchyard.provider";
export const SY_ATTEMPTS = "switchyard.attempts";
export const SY_STREAM = "switchyard.stream";
/** How the response cache answered a request it served without an upstream call of its own: `hit` or `coalesced`. */
export const SY_CACHE = "switchyard.cache";

/** The gateway's operations as gen_ai.operation.name values: the three chat APIs are all `chat`. */
const OPERATIONS: Record<string, string> = {
  chat: "chat",
  messages: "chat",
  responses: "chat",
  completions: "text_completion",
  embeddings: "embeddings",
};

export function operationName(op: string): string {
  return OPERATIONS[op] ?? op;
}

/** Provider types whose gen_ai.provider.name differs from the type's own name. */
const PROVIDER_NAMES: Record<string, string> = {
  gemini: "gcp.gemini",
  azure: "azure.ai.openai",
  mistral: "mistral_ai",
  xai: "x_ai",
};

export function providerName(type: string): string {
  return PROVIDER_NAMES[type] ?? type;
}

/** The conventions' span name: `{operation} {model}`. */
export function spanName(op: string, model: string): string {
  return `${operationName(op)} ${model}`;
}

export function usageAttributes(usage: Usage): Attributes {
  return { [GEN_AI_USAGE_INPUT_TOKENS]: usage.inputTokens, [GEN_AI_USAGE_OUTPUT_TOKENS]: usage.outputTokens };
}
