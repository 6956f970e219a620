/** Deepest nesting of arrays and objects a request may have. Real requests (tool schemas included) stay far below. */
export const MAX_JSON_DEPTH = 64;

/**
 * True when `value` nests arrays or objects deeper than `limit`. It stops at
 * the first level past the limit, so a hostile 100,000-level document costs
 * no more than a legal one: serialising such a value would overflow the
 * stack later, far from the request that caused it.
 */
export function nestedDeeperThan(value: unknown, limit: number): boolean {
  if (typeof value !== "object" || value === null) return false;
  if (limit === 0) return true;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) if (nestedDeeperThan(value[i], limit - 1)) return true;
    return false;
  }
  for (const key in value) if (nestedDeeperThan((value as Record<string, unknown>)[key], limit - 1)) return true;
  return false;
}
