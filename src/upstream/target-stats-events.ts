import { subscribe, unsubscribe } from "node:diagnostics_channel";
import type { AttemptEnd, AttemptStart, StreamEnd } from "../telemetry/channels.ts";
import type { TargetStats } from "./target-stats.ts";

/**
 * Feeds a gateway's attempts into its target statistics: in flight from an
 * attempt's start until it fails, its whole answer is read, or its stream
 * ends; the time to commit of every committed attempt; a penalty for every
 * retryable failure (a client that left, or a request that ran out of time,
 * says nothing about the target). Returns the unsubscribe function.
 */
export function observeTargets(stats: TargetStats, gateway: object): () => void {
  const onStart = (m: unknown) => {
    const s = m as AttemptStart;
    if (s.gateway === gateway) stats.started(s.target);
  };
  const onEnd = (m: unknown) => {
    const e = m as AttemptEnd;
    if (e.gateway !== gateway) return;
    if (e.error !== undefined) {
      stats.ended(e.target);
      if (e.error.retryable) stats.failed(e.target, e.durationMs);
      return;
    }
    stats.committed(e.target, e.streaming, e.durationMs);
    if (!e.streaming) stats.ended(e.target);
  };
  const onStreamEnd = (m: unknown) => {
    const e = m as StreamEnd;
    if (e.gateway === gateway) stats.ended(e.target);
  };
  subscribe("switchyard:attempt:start", onStart);
  subscribe("switchyard:attempt:end", onEnd);
  subscribe("switchyard:stream:end", onStreamEnd);
  return () => {
    unsubscribe("switchyard:attempt:start", onStart);
    unsubscribe("switchyard:attempt:end", onEnd);
    unsubscribe("switchyard:stream:end", onStreamEnd);
  };
}
