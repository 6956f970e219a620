import { parseDuration } from "../config/duration.ts";
import { GatewayError } from "../protocol/errors.ts";

/** What a client asked of the cache for one request. */
export interface Directives {
  /** `Cache-Control: no-store`: neither read nor write the cache. */
  noStore: boolean;
  /** `Cache-Control: no-cache`: skip the lookup, fetch afresh and replace the entry. */
  noCache: boolean;
  /** `x-switchyard-cache-ttl`: how long this answer is kept, in ms. */
  ttlMs?: number;
}

const NONE: Directives = Object.freeze({ noStore: false, noCache: false });
const WHOLE_SECONDS = /^\s*\d+\s*$/;

/**
 * Reads the client's Cache-Control and x-switchyard-cache-ttl headers. A ttl
 * is a duration ("30s", "1h") or whole seconds, as in max-age; 0 means the
 * answer is not stored. A ttl that is neither is refused, not ignored.
 */
export function directives(cacheControl: string | undefined, ttl: string | undefined): Directives {
  if (cacheControl === undefined && ttl === undefined) return NONE;
  const out: Directives = { noStore: false, noCache: false };
  if (cacheControl !== undefined) {
    for (const part of cacheControl.toLowerCase().split(",")) {
      const d = part.trim();
      if (d === "no-store") out.noStore = true;
      else if (d === "no-cache") out.noCache = true;
    }
  }
  if (ttl !== undefined) {
    try {
      out.ttlMs = WHOLE_SECONDS.test(ttl) ? Number(ttl) * 1000 : parseDuration(ttl);
    } catch {
      throw new GatewayError("SY_ERR_BAD_REQUEST", `x-switchyard-cache-ttl must be a duration such as 30s or 1h, or whole seconds; got ${JSON.stringify(ttl.slice(0, 40))}`);
    }
  }
  return out;
}
