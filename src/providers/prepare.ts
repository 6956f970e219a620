import type { ProviderConfig } from "../config/types.ts";
import type { PreparedProvider } from "./types.ts";

/** Computes what every call to a provider shares: origin, path prefix, headers. */
export function prepareProvider(config: ProviderConfig): PreparedProvider {
  const url = new URL(config.baseUrl);
  // Names are lowercased so a configured header replaces a built-in one instead of being sent beside it.
  const baseHeaders: Record<string, string> = { "content-type": "application/json" };
  if (config.apiKey) baseHeaders.authorization = `Bearer ${config.apiKey}`;
  for (const [name, value] of Object.entries(config.headers)) baseHeaders[name.toLowerCase()] = value;
  return {
    config,
    origin: url.origin,
    pathPrefix: url.pathname.replace(/\/+$/, ""),
    baseHeaders,
  };
}
