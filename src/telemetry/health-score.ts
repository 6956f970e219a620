/**
 * A target's health score, 0 (unusable) to 100 (every attempt succeeded in
 * good time), from its attempts over the last 5 minutes (the last 15 when
 * the 5 hold fewer than MIN_ATTEMPTS; null when those hold none):
 *
 *   score = 100 × success rate
 *         − 50 × timeout rate            (a timeout also made its client wait)
 *         − up to 20 for slowness        (p90 time to first token, or p90 latency
 *                                         without streams: 0 at ≤ 2 s, 20 at ≥ 10 s)
 *
 * clamped to 0..100 and rounded. An open breaker makes it 0 and a half-open
 * one caps it at 50, whatever the traffic said before.
 */
import type { WindowSummary } from "./rolling.ts";

export const MIN_ATTEMPTS = 5;
export const TIMEOUT_WEIGHT = 50;
export const SLOW_MAX_PENALTY = 20;
export const SLOW_FROM_MS = 2_000;
export const SLOW_FULL_MS = 10_000;

export type BreakerState = "closed" | "open" | "half_open";

export function healthScore(w5: WindowSummary, w15: WindowSummary, breaker?: BreakerState): number | null {
  if (breaker === "open") return 0;
  const w = w5.requests >= MIN_ATTEMPTS || w15.requests === 0 ? w5 : w15;
  let score: number | null = null;
  if (w.requests > 0) {
    const success = (w.requests - w.errors) / w.requests;
    const timeouts = w.timeouts / w.requests;
    const p90 = w.ttft_ms.p90 ?? w.latency_ms.p90;
    const slow = p90 === null ? 0 : Math.min(1, Math.max(0, (p90 - SLOW_FROM_MS) / (SLOW_FULL_MS - SLOW_FROM_MS)));
    score = Math.round(Math.min(100, Math.max(0, 100 * success - TIMEOUT_WEIGHT * timeouts - SLOW_MAX_PENALTY * slow)));
  }
  if (breaker === "half_open") return Math.min(score ?? 50, 50);
  return score;
}
