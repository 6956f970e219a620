import type { Breakers } from "../../upstream/breakers.ts";
import type { AttemptWrapper } from "../attempt-chain.ts";

/**
 * Circuit breakers around each attempt (upstream/breakers.ts): an attempt on
 * an ejected target, or a target of an ejected provider, is turned away with
 * a skipped SY_ERR_NO_HEALTHY_TARGET before any network call, and failover
 * moves on. Outermost in the chain, so a skip is no attempt to the layers
 * inside it. A failure is recorded before it propagates, so the retry that
 * follows already sees a breaker it opened; a success is recorded without
 * holding the response back.
 */
export function circuitBreakers(breakers: Breakers): AttemptWrapper {
  return (next) => async (call) => {
    const admission = await breakers.admit(call.target);
    if (admission === undefined) return next(call);
    let committed;
    try {
      committed = await next(call);
    } catch (err) {
      await breakers.record(admission, err);
      throw err;
    }
    void breakers.record(admission);
    return committed;
  };
}
