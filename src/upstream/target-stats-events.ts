import { observeGateway } from "../telemetry/channels.ts";
import type { TargetStats } from "./target-stats.ts";

/**
 * Feeds a gateway's attempts into its target statistics: in flight from an
 * attempt's start until it fails, its whole answer is read, or its stream
 * ends; the time to commit of every committed attempt; a penalty for every
 * retryable failure (a client that left, or a request that ran out of time,
 * says nothing about the target). Returns the unsubscribe function.
 */
export function observeTargets(stats: TargetStats, gateway: object): () => void {
  return observeGateway(gateway, {
    attemptStart: (s) => stats.started(s.target),
    attemptEnd: (e) => {
      if (e.error !== undefined) {
        stats.ended(e.target);
        if (e.error.retryable) stats.failed(e.target, e.durationMs);
        return;
      }
      stats.committed(e.target, e.streaming, e.durationMs);
      if (!e.streaming) stats.ended(e.target);
    },
    streamEnd: (e) => stats.ended(e.target),
  });
}
