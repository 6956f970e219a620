import type { ProviderType } from "./types.ts";

/** The endpoint of provider types that have one well-known: their `base_url` may be left out. */
export const DEFAULT_BASE_URLS: Partial<Record<ProviderType, string>> = {
  anthropic: "https://api.anthropic.com/v1",
  gemini: "https://generativelanguage.googleapis.com/v1beta",
};
