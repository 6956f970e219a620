import { DEFAULTS } from "./defaults.ts";
import type { ConfigFile } from "./schema.ts";
import type { CacheConfig } from "./types.ts";

/**
 * The `cache:` section with its defaults. Coalescing follows `enabled`
 * unless set; with neither on the section is left out, so the engine builds
 * nothing for it.
 */
export function cacheConfig(file: ConfigFile["cache"]): { cache?: CacheConfig } {
  if (file == null) return {};
  const d = DEFAULTS.cache;
  const enabled = file.enabled ?? d.enabled;
  const coalesce = file.coalesce ?? enabled;
  if (!enabled && !coalesce) return {};
  const cache: CacheConfig = {
    enabled,
    ttl: file.ttl ?? d.ttl,
    maxBytes: file.max_bytes ?? d.maxBytes,
    maxEntryBytes: file.max_entry_bytes ?? d.maxEntryBytes,
    preallocate: file.preallocate ?? d.preallocate,
    coalesce,
    scope: file.scope ?? d.scope,
  };
  if (file.persist != null) cache.persist = file.persist;
  return { cache };
}
