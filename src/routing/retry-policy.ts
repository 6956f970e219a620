import type { RetryPolicy } from "../config/types.ts";
import type { Random } from "../engine/clock.ts";

/**
 * Exponential backoff with full jitter: a uniformly random delay between 0 and
 * min(maxDelay, baseDelay * 2^(retry-1)), so that many clients retrying the same
 * failure spread out instead of arriving together.
 * `retry` counts from 1 (the first retry after the first failure).
 */
export function backoffDelay(policy: RetryPolicy, retry: number, random: Random): number {
  const ceiling = Math.min(policy.maxDelay, policy.baseDelay * 2 ** Math.max(0, retry - 1));
  return Math.floor(random() * ceiling);
}

/**
 * Parses Retry-After: delta-seconds or an HTTP date. Returns milliseconds from
 * `now`, or undefined when absent or unreadable.
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
