import { subscribe, unsubscribe } from "node:diagnostics_channel";
import type { AttemptEnd, AttemptStart, StreamEnd } from "../telemetry/channels.ts";
import type { HealthTracker } from "./health.ts";

/**
 * Feeds what real traffic sees into a gateway's health tracker: attempts in
 * flight per provider (a committed stream counts until it ends) and the last
 * error. Only events of `gateway` count. Returns the unsubscribe function.
 */
export function observeTraffic(health: HealthTracker, gateway: object): () => void {
  const onStart = (m: unknown) => {
    const s = m as AttemptStart;
    if (s.gateway === gateway) health.started(s.provider);
  };
  const onEnd = (m: unknown) => {
    const e = m as AttemptEnd;
    if (e.gateway === gateway && !e.streaming) health.finished(e.provider, e.error);
  };
  const onStreamEnd = (m: unknown) => {
    const e = m as StreamEnd;
    if (e.gateway === gateway) health.finished(e.provider, e.error);
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
