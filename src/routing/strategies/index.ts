import type { StrategyName } from "../../config/types.ts";
import type { TargetView } from "../../upstream/target-stats.ts";
import { buildTiers, orderTargets, weightedShuffle } from "../plan.ts";
import { cheapest } from "./cost.ts";
import { lowestLatency } from "./latency.ts";
import { leastBusy } from "./least-busy.ts";
import type { Candidate, Order } from "./types.ts";

export type { Candidate, Order, OrderContext } from "./types.ts";

/** The strategies that read live statistics; a gateway with none of them keeps none. */
export const STRATEGIES_WITH_STATS: ReadonlySet<StrategyName> = new Set(["least-busy", "latency"]);

/**
 * Builds a model's order function once, at config time. `priority` (the
 * default) uses the targets' tiers; every other strategy ignores `priority`
 * and uses `weight` to break its ties. `view` is required by least-busy and
 * latency (STRATEGIES_WITH_STATS).
 */
export function strategyOrder<T extends Candidate>(name: StrategyName | undefined, targets: readonly T[], view?: TargetView): Order<T> {
  if (targets.length === 1) {
    const only = targets[0];
    return () => [only];
  }
  switch (name ?? "priority") {
    case "priority": {
      const plan = buildTiers(targets.slice());
      return ({ random }) => orderTargets(plan, random);
    }
    case "weighted":
      return ({ random }) => weightedShuffle(targets, random);
    case "least-busy":
      return leastBusy(targets, need(view, "least-busy"));
    case "latency":
      return lowestLatency(targets, need(view, "latency"));
    case "cost":
      return cheapest(targets);
  }
}

function need(view: TargetView | undefined, name: string): TargetView {
  if (view === undefined) throw new Error(`strategy ${name} needs target statistics`);
  return view;
}
