import { GatewayError } from "../protocol/errors.ts";
import type { Clock } from "../time/clock.ts";
import type { SlotQueue } from "./queue.ts";
import type { StreamEnds } from "./stream-ends.ts";
import type { LimitedCall, LimitedFn, LimitedResult, LimitWrapper } from "./types.ts";
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
  return <C extends LimitedCall, R extends LimitedResult>(next: LimitedFn<C, R>): LimitedFn<C, R> => {
    /** Waits for the slots not yet held (from `from` on, in the order of `order`), then makes the call. */
    const waiting = async (call: C, order: Array<SlotQueue | undefined>, from: number, hold: Hold): Promise<R> => {
      const label = call.target.label;
      const provider = call.target.provider.config.name;
      try {
        for (let i = from; i < order.length; i++) {
          const q = order[i];
          if (q === undefined) continue;
          if (!q.tryAcquire()) {
            const now = clock.now();
            // The gateway-wide limit is the same for every target: there it just waits.
            if (q !== queues.server && waits.passOver(call.signal, label)) throw atLimit(q);
            await q.acquire(call.signal, waits.deadline(call.signal, now, queues.queueTimeout(label, provider)));
          }
          hold.held.push(q);
        }
      } catch (err) {
        hold.release();
        throw err;
      }
      return held(call, hold);
    };
    const held = (call: C, hold: Hold): Promise<R> =>
      next(call).then(
        (committed) => {
          if (committed.rest !== undefined) ends.hold(call.requestId, call.target.label, call.signal, hold.release);
          else hold.release();
          return committed;
        },
        (err: unknown) => {
          hold.release();
          throw err;
        },
      );
    return (call: C) => {
      // Always target, provider, server: one order everywhere, so two requests never wait on each other's slots.
      const order = [queues.targets.get(call.target.label), queues.providers.get(call.target.provider.config.name), queues.server];
      const hold = new Hold(clock);
      for (let i = 0; i < order.length; i++) {
        const q = order[i];
        if (q === undefined) continue;
        if (!q.tryAcquire()) return waiting(call, order, i, hold);
        hold.held.push(q);
      }
      return held(call, hold);
    };
  };
}

/** The slots one attempt holds, given back once, on whichever path ends it. */
class Hold {
  readonly held: SlotQueue[] = [];
  readonly #clock: Clock;
  readonly #started: number;
  #released = false;

  constructor(clock: Clock) {
    this.#clock = clock;
    this.#started = clock.now();
  }

  readonly release = (): void => {
    if (this.#released) return;
    this.#released = true;
    const heldMs = this.#clock.now() - this.#started;
    for (let i = this.held.length - 1; i >= 0; i--) this.held[i].release(heldMs);
  };
}

function atLimit(q: SlotQueue): GatewayError {
  const err = new GatewayError("SY_ERR_CONCURRENCY_LIMIT", `${q.what} has all ${q.limit} of its slots in use`, { retryable: true });
  err.skipped = true;
  return err;
}
