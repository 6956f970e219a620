/**
 * Queue events on `node:diagnostics_channel`, like the request events of
 * telemetry/channels.ts: built only when someone subscribes. Every wait for
 * a concurrency slot or for room in a rate window publishes when it begins
 * and when it ends, with the queue's length and how long it waited.
 */
import { channel } from "node:diagnostics_channel";

export interface QueueEvent {
  gateway: object;
  /** `server`, `provider:NAME` or `target:PROVIDER/MODEL`, with `rate:` in front for a rate window's wait. */
  queue: string;
  /** wait: joined the queue; admit: got its slot (or room); timeout: gave up at queue_timeout; leave: its client went away. */
  event: "wait" | "admit" | "timeout" | "leave";
  /** Requests waiting in this queue after the event. */
  queued: number;
  /** How long it waited, on every event but `wait`. */
  waitedMs?: number;
}

export const queueChannel = channel("switchyard:queue");

export function publishQueue(gateway: object, queue: string, event: QueueEvent["event"], queued: number, waitedMs?: number): void {
  if (!queueChannel.hasSubscribers) return;
  const m: QueueEvent = { gateway, queue, event, queued };
  if (waitedMs !== undefined) m.waitedMs = waitedMs;
  queueChannel.publish(m);
}
