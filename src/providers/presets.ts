import { PRESET_TYPES } from "../config/presets.ts";
import type { PresetType } from "../config/types.ts";
import { openaiAdapter } from "./openai/index.ts";
import type { PreparedProvider, ProviderAdapter, UpstreamCall } from "./types.ts";

/** Workers AI's OpenAI-compatible prefix: `/client/v4/accounts/{id}/ai/v1`. */
const CLOUDFLARE_PREFIX = /^(\/client\/v4\/accounts\/[^/]+\/ai)\/v1$/;

/**
 * Cloudflare's OpenAI-compatible endpoint has no model list; its model
 * search (same token, same account) proves the key and the account id alike.
 * A custom base URL (an AI Gateway) keeps the OpenAI-shaped probe.
 */
function cloudflareProbe(provider: PreparedProvider, headers: Record<string, string>): UpstreamCall {
  const m = CLOUDFLARE_PREFIX.exec(provider.pathPrefix);
  if (m === null) return openaiAdapter.probeCall(provider, headers);
  return { method: "GET", path: `${m[1]}/models/search`, headers };
}

/** Cloudflare's answers are `{"result":[{"name":"@cf/…"}]}`. */
function cloudflareModelIds(body: unknown): string[] {
  const result = (body as { result?: unknown } | null)?.result;
  if (!Array.isArray(result)) return [];
  return result.flatMap((m: unknown) => {
    const name = (m as { name?: unknown } | null)?.name;
    return typeof name === "string" ? [name] : [];
  });
}

/**
 * A preset is the OpenAI adapter under its own type name (health and logs
 * show it); everything else that differs (base URL, timeouts, headers) is
 * config, filled in by src/config/presets.ts.
 */
function presetAdapter(type: PresetType): ProviderAdapter {
  const adapter: ProviderAdapter = { ...openaiAdapter, type };
  if (type === "cloudflare") return { ...adapter, probeCall: cloudflareProbe, modelIds: cloudflareModelIds };
  return adapter;
}

export const PRESET_ADAPTERS = Object.fromEntries(PRESET_TYPES.map((t) => [t, presetAdapter(t)])) as Record<PresetType, ProviderAdapter>;
