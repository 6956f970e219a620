import type { RetryPolicy } from "../config/types.ts";
import type { Random } from "../time/clock.ts";

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
