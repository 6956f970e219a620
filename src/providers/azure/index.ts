import { AZURE_API_VERSION } from "../../config/presets.ts";
import { OPENAI_PATHS, openaiAdapter, withModel } from "../openai/index.ts";
import type { CallSpec, PreparedProvider, ProviderAdapter, UpstreamCall } from "../types.ts";

/** The resource endpoint, whether or not the configured base URL already ends in `/openai` or `/openai/v1`. */
function resourcePrefix(provider: PreparedProvider): string {
  return provider.pathPrefix.replace(/\/openai(\/v1)?$/, "");
}

function apiVersion(provider: PreparedProvider): string {
  return provider.config.apiVersion ?? AZURE_API_VERSION;
}

/**
 * Azure OpenAI: the OpenAI adapter with Azure's URLs and key header. With a
 * dated `api_version` the target's model is the deployment, named in the
 * path (`/openai/deployments/{deployment}/chat/completions?api-version=…`);
 * with `api_version: v1` the path is OpenAI's under `/openai/v1` and the
 * deployment goes in the body's `model` (as it does for the Responses API,
 * with `responses: true`). Bodies, answers, streams and errors are OpenAI's,
 * so everything else is inherited.
 */
export const azureAdapter: ProviderAdapter = {
  ...openaiAdapter,
  type: "azure",

  authHeaders: (key) => ({ "api-key": key }),

  buildCall({ op, body, model, provider, headers }: CallSpec): UpstreamCall {
    const version = apiVersion(provider);
    const base = resourcePrefix(provider);
    const query = `?api-version=${encodeURIComponent(version)}`;
    const path =
      version === "v1"
        ? `${base}/openai/v1${OPENAI_PATHS[op]}`
        : // Azure's Responses API names the deployment in the body, not the path.
          op === "responses"
          ? `${base}/openai/responses${query}`
          : `${base}/openai/deployments/${encodeURIComponent(model)}${OPENAI_PATHS[op]}${query}`;
    return { method: "POST", path, headers, body: JSON.stringify(withModel(body, model)) };
  },

  probeCall(provider: PreparedProvider, headers: Record<string, string>): UpstreamCall {
    const version = apiVersion(provider);
    const base = resourcePrefix(provider);
    const path = version === "v1" ? `${base}/openai/v1/models` : `${base}/openai/models?api-version=${encodeURIComponent(version)}`;
    return { method: "GET", path, headers };
  },
};
