import type { ProviderConfig } from "../config/types.ts";
import type { PreparedProvider, ProviderAdapter } from "./types.ts";

/** Computes what every call to a provider shares: origin, path prefix, and the headers of each key. */
export function prepareProvider(config: ProviderConfig, adapter: ProviderAdapter): PreparedProvider {
  const url = new URL(config.baseUrl);
  const keys = config.apiKeys ?? (config.apiKey ? [config.apiKey] : []);
  const headersFor = (key: string | undefined): Record<string, string> => {
    // Names are lowercased so a configured header replaces a built-in one instead of being sent beside it.
    const h: Record<string, string> = { "content-type": "application/json" };
    for (const [name, value] of Object.entries(adapter.defaultHeaders ?? {})) h[name.toLowerCase()] = value;
    if (key !== undefined) for (const [name, value] of Object.entries(adapter.authHeaders(key))) h[name.toLowerCase()] = value;
    for (const [name, value] of Object.entries(config.headers)) h[name.toLowerCase()] = value;
    return h;
  };
  return {
    config,
    origin: url.origin,
    pathPrefix: url.pathname.replace(/\/+$/, ""),
    keyHeaders: keys.length === 0 ? [headersFor(undefined)] : keys.map(headersFor),
  };
}
