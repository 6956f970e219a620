import type { StreamEnds } from "../../limits/stream-ends.ts";
import { GatewayError } from "../../protocol/errors.ts";
import { type Admission, type Breakers, NO_BREAKER } from "../../upstream/breakers.ts";
import type { AttemptCall, AttemptWrapper } from "../attempt-chain.ts";
import type { Committed } from "../attempt.ts";

/**
 * Circuit breakers around each attempt (upstream/breakers.ts): an attempt on
 * an ejected target, or a target of an ejected provider, is turned away with
 * a skipped SY_ERR_NO_HEALTHY_TARGET before any network call, and failover
 * moves on. Outermost in the chain, so a skip is no attempt to the layers
 * inside it. A failure is recorded before it propagates, so the retry that
 * follows already sees a breaker it opened; a success is recorded without
 * holding the response back; a stream's, once it has ended, so that one
 * that breaks mid-way counts against its target.
 *
 * With a store that answers at once (memory), a closed breaker is asked and
 * told without a promise of its own: the wrapper adds one `then` to the
 * attempt and nothing else.
 */
export function circuitBreakers(breakers: Breakers, ends: StreamEnds): AttemptWrapper {
  return (next) => {
    const watched = (call: AttemptCall, admission: Admission): Promise<Committed> =>
      next(call).then(
        (committed) => {
          // A stream is judged when it ends: one that breaks after its first event is a failure of its target.
          if (committed.rest !== undefined) ends.hold(call.requestId, call.target.label, call.signal, (failure) => void breakers.recordSoon(admission, failure, true));
          else void breakers.recordSoon(admission);
          return committed;
        },
        async (err: unknown) => {
          await breakers.recordSoon(admission, err);
          throw err;
        },
      );
    const slow = async (call: AttemptCall): Promise<Committed> => {
      const admission = await breakers.admit(call.target);
      return admission === undefined ? next(call) : watched(call, admission);
    };
    return (call) => {
      const now = breakers.admitNow(call.target);
      if (now === NO_BREAKER) return next(call);
      if (now === undefined) return slow(call);
      if (now instanceof GatewayError) return Promise.reject(now);
      return watched(call, now);
    };
  };
}
