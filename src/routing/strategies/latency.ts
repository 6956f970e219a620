import type { TargetView } from "../../upstream/target-stats.ts";
import { weightedShuffle } from "../plan.ts";
import { sortStable } from "./least-busy.ts";
import type { Candidate, Order } from "./types.ts";

/** Share of requests that try a target other than the fastest first (ε of ε-greedy). */
export const EXPLORATION = 0.05;

/**
 * Lowest moving average of time to first byte first, by the request's kind
 * (streamed or whole). A target never measured goes first, so that each gets
 * measured. Now and then (EXPLORATION) a request starts with a random other
 * target instead: a target that was slow or failing is tried again and, once
 * it has recovered, its average comes back down. Ties go in weighted random order.
 */
export function lowestLatency<T extends Candidate>(targets: readonly T[], view: Pick<TargetView, "latency">): Order<T> {
  return ({ random, stream }) => {
    const order = sortStable(weightedShuffle(targets, random), (t) => view.latency(t.label, stream) ?? -1);
    if (order.length > 1 && random() < EXPLORATION) {
      const [picked] = order.splice(1 + Math.floor(random() * (order.length - 1)), 1);
      order.unshift(picked);
    }
    return order;
  };
}
