import { observeGateway } from "../telemetry/channels.ts";
import type { HealthTracker } from "./health.ts";

/**
 * Feeds what real traffic sees into a gateway's health tracker: attempts in
 * flight per provider (a committed stream counts until it ends) and the last
 * error. Returns the unsubscribe function.
 */
export function observeTraffic(health: HealthTracker, gateway: object): () => void {
  return observeGateway(gateway, {
    attemptStart: (s) => health.started(s.provider),
    attemptEnd: (e) => {
      if (!e.streaming) health.finished(e.provider, e.error);
    },
    streamEnd: (e) => health.finished(e.provider, e.error),
  });
}
