import type { Random } from "../time/clock.ts";

/** Anything that can be placed in a tier: a priority and a weight. */
export interface Weighted {
  priority: number;
  weight: number;
}

/**
 * Targets grouped by priority tier (lowest number first). Built once per
 * model at config time so that a request only shuffles inside its tiers.
 */
export interface TierPlan<T extends Weighted> {
  tiers: T[][];
}

export function buildTiers<T extends Weighted>(targets: T[]): TierPlan<T> {
  const byPriority = new Map<number, T[]>();
  for (const t of targets) {
    const tier = byPriority.get(t.priority);
    if (tier) tier.push(t);
    else byPriority.set(t.priority, [t]);
  }
  const keys = [...byPriority.keys()].sort((a, b) => a - b);
  return { tiers: keys.map((k) => byPriority.get(k)!) };
}

/**
 * The order in which one request tries the targets: tier by tier, and inside a
 * tier a weighted random order (weighted sampling without replacement).
 */
export function orderTargets<T extends Weighted>(plan: TierPlan<T>, random: Random): T[] {
  const out: T[] = [];
  for (const tier of plan.tiers) {
    if (tier.length === 1) out.push(tier[0]);
    else weightedShuffle(tier, random, out);
  }
  return out;
}

/**
 * Appends `items` to `out` in a weighted random order: each place goes to one
 * of the items left with a chance proportional to its weight.
 */
export function weightedShuffle<T extends { weight: number }>(items: readonly T[], random: Random, out: T[] = []): T[] {
  const pool = items.slice();
  let total = 0;
  for (const t of pool) total += t.weight;
  while (pool.length > 0) {
    let r = random() * total;
    let i = 0;
    for (; i < pool.length - 1; i++) {
      r -= pool[i].weight;
      if (r < 0) break;
    }
    const [picked] = pool.splice(i, 1);
    total -= picked.weight;
    out.push(picked);
  }
  return out;
}
