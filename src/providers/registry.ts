import type { ProviderType } from "../config/types.ts";
import { anthropicAdapter } from "./anthropic/index.ts";
import { geminiAdapter } from "./gemini/index.ts";
import { azureAdapter } from "./azure/index.ts";
import { openaiAdapter } from "./openai/index.ts";
import { PRESET_ADAPTERS } from "./presets.ts";
import type { ProviderAdapter } from "./types.ts";

/** The adapter of each provider `type`. The demo provider speaks OpenAI's API (in-process). */
const ADAPTERS: Record<ProviderType, ProviderAdapter> = {
  openai: openaiAdapter,
  anthropic: anthropicAdapter,
  azure: azureAdapter,
  ...PRESET_ADAPTERS,
  demo: openaiAdapter,
  gemini: geminiAdapter,
};

export function adapterFor(type: ProviderType): ProviderAdapter {
  return ADAPTERS[type];
}
