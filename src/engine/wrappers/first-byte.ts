import type { TargetView } from "../../upstream/target-stats.ts";
import type { AttemptWrapper } from "../attempt-chain.ts";
import type { PreparedTarget } from "../routes.ts";

/**
 * `timeouts.first_byte: auto`: each attempt to such a target gets the limit
 * learnt from that target's recent first-byte times (target-stats.ts), by
 * the request's kind; until enough have been seen, the configured value.
 * Only in the chain when some provider asks for it, and it leaves every
 * other target's attempts untouched.
 */
export function adaptiveFirstByte(view: Pick<TargetView, "firstByteLimit">): AttemptWrapper {
  // A target with its limit swapped in, kept while the limit stays the same (one per target and kind).
  const adapted = new WeakMap<PreparedTarget, { stream?: PreparedTarget; whole?: PreparedTarget }>();
  return (next) => (call) => {
    const target = call.target;
    if (target.timeouts.firstByteAuto !== true) return next(call);
    const limit = view.firstByteLimit(target.label, call.stream);
    if (limit === undefined || limit === target.timeouts.firstByte) return next(call);
    let kinds = adapted.get(target);
    if (kinds === undefined) adapted.set(target, (kinds = {}));
    const kind = call.stream ? "stream" : "whole";
    let swapped = kinds[kind];
    if (swapped?.timeouts.firstByte !== limit) {
      swapped = { ...target, timeouts: { ...target.timeouts, firstByte: limit } };
      kinds[kind] = swapped;
    }
    return next({ ...call, target: swapped });
  };
}
