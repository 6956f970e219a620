import { GatewayError } from "../protocol/errors.ts";
import type { Clock } from "../time/clock.ts";
import type { SlotQueue } from "./queue.ts";
import type { StreamEnds } from "./stream-ends.ts";
import type { LimitWrapper } from "./types.ts";
import type { RequestWaits } from "./waits.ts";

export interface ConcurrencyQueues {
  /** server.max_in_flight: every upstream call. */
  server?: SlotQueue;
  /** By provider name. */
  providers: ReadonlyMap<string, SlotQueue>;
  /** By target label (provider/model). */
  targets: ReadonlyMap<string, SlotQueue>;
  /** The queue_timeout that applies to a target. */
  queueTimeout(label: string, provider: string): number;
}

export interface ConcurrencyDeps {
  clock: Clock;
  waits: RequestWaits;
  ends: StreamEnds;
}

/**
 * Concurrency limits around an upstream attempt: a slot of the target, of its
 * provider and of the whole gateway, held until the answer is read (a stream:
 * until it ends) and given back on every path. A target or provider that is
 * full the first time a request meets it is passed over (GatewayError.skipped)
 * for another target with room; when failover comes back to it, the request
 * waits in its FIFO queue, all its waits together within queue_timeout. The
 * gateway-wide limit is the same for every target, so there it just waits.
 */
export function concurrencyLimits(queues: ConcurrencyQueues, deps: ConcurrencyDeps): LimitWrapper {
  const { clock, waits, ends } = deps;
  return (next) => async (call) => {
    const label = call.target.label;
    const provider = call.target.provider.config.name;
    const target = queues.targets.get(label);
    const own = queues.providers.get(provider);
    const started = clock.now();
    const held: SlotQueue[] = [];
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      const heldMs = clock.now() - started;
      for (let i = held.length - 1; i >= 0; i--) held[i].release(heldMs);
    };
    try {
      // Always target, provider, server: one order everywhere, so two requests never wait on each other's slots.
      for (const q of [target, own]) {
        if (q === undefined) continue;
        if (!q.tryAcquire()) {
          const now = clock.now();
          if (waits.passOver(call.signal, label)) throw atLimit(q);
          await q.acquire(call.signal, waits.deadline(call.signal, now, queues.queueTimeout(label, provider)));
        }
        held.push(q);
      }
      const server = queues.server;
      if (server !== undefined) {
        if (!server.tryAcquire()) {
          await server.acquire(call.signal, waits.deadline(call.signal, clock.now(), queues.queueTimeout(label, provider)));
        }
        held.push(server);
      }
    } catch (err) {
      release();
      throw err;
    }
    let committed;
    try {
      committed = await next(call);
    } catch (err) {
      release();
      throw err;
    }
    if (committed.rest !== undefined) ends.hold(call.requestId, label, call.signal, release);
    else release();
    return committed;
  };
}

function atLimit(q: SlotQueue): GatewayError {
  const err = new GatewayError("SY_ERR_CONCURRENCY_LIMIT", `${q.what} has all ${q.limit} of its slots in use`, { retryable: true });
  err.skipped = true;
  return err;
}
