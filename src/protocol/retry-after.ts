/**
 * Parses Retry-After: delta-seconds or an HTTP date. Returns milliseconds from
 * `now`, or undefined when absent or unreadable. Provider adapters read it when
 * they classify a 429 or 503, so it lives here, below them.
 */
export function parseRetryAfter(value: string | string[] | undefined, now: number): number | undefined {
  if (value === undefined) return undefined;
  const v = (Array.isArray(value) ? value[0] : value)?.trim();
  if (!v) return undefined;
  if (/^\d+(\.\d+)?$/.test(v)) return Math.round(Number(v) * 1000);
  const at = Date.parse(v);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, at - now);
}
