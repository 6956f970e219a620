import type { TargetView } from "../../upstream/target-stats.ts";
import { weightedShuffle } from "../plan.ts";
import type { Candidate, Order } from "./types.ts";

/**
 * Fewest attempts in flight first. Ties (at low load, every target has none)
 * go in weighted random order, so an idle model behaves as `weighted`.
 */
export function leastBusy<T extends Candidate>(targets: readonly T[], view: Pick<TargetView, "inFlight">): Order<T> {
  return ({ random }) => sortStable(weightedShuffle(targets, random), (t) => view.inFlight(t.label));
}

/** Sorts by a key read once per item; Array.prototype.sort is stable, so equal keys keep their order. */
export function sortStable<T>(items: T[], key: (t: T) => number): T[] {
  if (items.length < 2) return items;
  const keyed = items.map((item) => ({ item, k: key(item) }));
  keyed.sort((a, b) => a.k - b.k);
  for (let i = 0; i < keyed.length; i++) items[i] = keyed[i].item;
  return items;
}
