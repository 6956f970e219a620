/** One model's share of the cache's counts. */
export interface ModelCacheStats {
  hits: number;
  misses: number;
  /** Requests that asked to skip the lookup (Cache-Control: no-cache). */
  refreshes: number;
  /** Requests that did not use the cache (no-store, or the cache off for the model). */
  bypasses: number;
  /** Requests that shared another request's upstream call. */
  coalesced: number;
  evictions: number;
  /** Answers not stored because they were larger than max_entry_bytes. */
  too_large: number;
  saved_input_tokens: number;
  saved_output_tokens: number;
  /** In the currency of `pricing:`, for targets with a price. */
  saved_cost: number;
}

/** The counts of one of the small caches around routing (model lists, health results, token counts). */
export interface NamedCacheStats {
  hits: number;
  misses: number;
  entries: number;
  hit_rate: number;
}

export function emptyModelStats(): ModelCacheStats {
  return { hits: 0, misses: 0, refreshes: 0, bypasses: 0, coalesced: 0, evictions: 0, too_large: 0, saved_input_tokens: 0, saved_output_tokens: 0, saved_cost: 0 };
}

export function hitRate(hits: number, misses: number): number {
  const n = hits + misses;
  return n === 0 ? 0 : Math.round((hits / n) * 10_000) / 10_000;
}

/**
 * The memory behind `max_bytes`. With `preallocate: true`: `unused` until
 * the first entry is stored, then `claiming` while a thread claims all of
 * it from the system, and `claimed` once it has. `on write`: each page is
 * claimed as entries are first written to it (`preallocate: false`, or a
 * claim that could not run).
 */
export type CacheMemory = "unused" | "claiming" | "claimed" | "on write";

/** What `GET /v1/cache/stats` reports of the response cache. */
export interface CacheReport {
  enabled: boolean;
  coalesce: boolean;
  scope: "shared" | "key";
  hits: number;
  misses: number;
  hit_rate: number;
  entries: number;
  bytes: number;
  max_bytes: number;
  memory: CacheMemory;
  evictions: number;
  coalesced: number;
  in_flight: number;
  saved_tokens: { input: number; output: number };
  saved_cost: number;
  models: Record<string, ModelCacheStats & { entries: number; bytes: number; hit_rate: number }>;
}

/** The report of a gateway whose cache and coalescing are off. */
export function offReport(): CacheReport {
  return {
    enabled: false,
    coalesce: false,
    scope: "shared",
    hits: 0,
    misses: 0,
    hit_rate: 0,
    entries: 0,
    bytes: 0,
    max_bytes: 0,
    memory: "unused",
    evictions: 0,
    coalesced: 0,
    in_flight: 0,
    saved_tokens: { input: 0, output: 0 },
    saved_cost: 0,
    models: {},
  };
}
