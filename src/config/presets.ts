/**
 * Presets: provider types that are the OpenAI-compatible adapter with its
 * defaults filled in for one well-known upstream (base URL, first-byte
 * timeout, the variable that holds its key). They live here, beside the other
 * defaults, because a config is completed before any adapter exists; the
 * adapters they map to are in src/providers/presets.ts.
 *
 * An explicit `base_url` always wins over the preset's.
 */

import type { PresetType } from "./types.ts";

const SECOND = 1000;

export interface Preset {
  /** The upstream's OpenAI-compatible base URL; `{account_id}` is replaced from the provider's `account_id`. */
  baseUrl: string;
  /** Default `timeouts.first_byte` (ms): aggregators that queue or cold-start models get longer. */
  firstByteMs: number;
  /** A local server that takes no key (Ollama, vLLM, LM Studio). */
  local: boolean;
}

/** Every preset, by `type`. Base URLs as each provider documents them for OpenAI SDKs. */
export const PRESETS: Readonly<Record<PresetType, Readonly<Preset>>> = Object.freeze({
  openrouter: { baseUrl: "https://openrouter.ai/api/v1", firstByteMs: 120 * SECOND, local: false },
  deepseek: { baseUrl: "https://api.deepseek.com/v1", firstByteMs: 60 * SECOND, local: false },
  groq: { baseUrl: "https://api.groq.com/openai/v1", firstByteMs: 60 * SECOND, local: false },
  mistral: { baseUrl: "https://api.mistral.ai/v1", firstByteMs: 60 * SECOND, local: false },
  together: { baseUrl: "https://api.together.xyz/v1", firstByteMs: 60 * SECOND, local: false },
  fireworks: { baseUrl: "https://api.fireworks.ai/inference/v1", firstByteMs: 60 * SECOND, local: false },
  xai: { baseUrl: "https://api.x.ai/v1", firstByteMs: 60 * SECOND, local: false },
  // The international (Singapore) endpoint; mainland China is https://dashscope.aliyuncs.com/compatible-mode/v1.
  dashscope: { baseUrl: "https://dashscope-intl.aliyuncs.com/compatible-mode/v1", firstByteMs: 60 * SECOND, local: false },
  huggingface: { baseUrl: "https://router.huggingface.co/v1", firstByteMs: 120 * SECOND, local: false },
  cloudflare: { baseUrl: "https://api.cloudflare.com/client/v4/accounts/{account_id}/ai/v1", firstByteMs: 60 * SECOND, local: false },
  ollama: { baseUrl: "http://127.0.0.1:11434/v1", firstByteMs: 60 * SECOND, local: true },
  vllm: { baseUrl: "http://127.0.0.1:8000/v1", firstByteMs: 60 * SECOND, local: true },
  lmstudio: { baseUrl: "http://127.0.0.1:1234/v1", firstByteMs: 60 * SECOND, local: true },
} satisfies Record<PresetType, Preset>);

export const PRESET_TYPES = Object.keys(PRESETS) as PresetType[];

export function isPreset(type: string): type is PresetType {
  return Object.hasOwn(PRESETS, type);
}

/** Where Cloudflare's account id comes from when the provider sets no `account_id`. */
export const CLOUDFLARE_ACCOUNT_VAR = "CLOUDFLARE_ACCOUNT_ID";

/** Cloudflare account ids are 32 hex digits; anything URL-safe is let through, nothing that could change the path. */
export const ACCOUNT_ID = /^[A-Za-z0-9_-]{1,64}$/;

/** The preset's base URL, or undefined when it needs an account id that is not known. */
export function presetBaseUrl(type: PresetType, accountId: string | undefined): string | undefined {
  const url = PRESETS[type].baseUrl;
  if (!url.includes("{account_id}")) return url;
  return accountId === undefined ? undefined : url.replace("{account_id}", accountId);
}

/**
 * OpenRouter's app attribution, from `site_url` and `app_name`: the title
 * goes under its current name and the older `X-Title`, which it still reads.
 */
export function presetHeaders(type: PresetType, p: { siteUrl?: string; appName?: string }): Record<string, string> {
  if (type !== "openrouter") return {};
  const h: Record<string, string> = {};
  if (p.siteUrl !== undefined) h["HTTP-Referer"] = p.siteUrl;
  if (p.appName !== undefined) {
    h["X-OpenRouter-Title"] = p.appName;
    h["X-Title"] = p.appName;
  }
  return h;
}

/** Azure's dated API version used when `api_version` is not set: the latest GA of the inference API. */
export const AZURE_API_VERSION = "2024-10-21";
