import { buildTiers, orderTargets } from "../plan.ts";
import type { Candidate, Order } from "./types.ts";

/**
 * One figure per price: the 3:1 blend of input and output prices commonly
 * used to compare models, since prompts usually outweigh answers.
 */
export function blendedPrice(p: { input: number; output: number }): number {
  return (3 * p.input + p.output) / 4;
}

/**
 * Cheapest first. Prices do not change while the config stands, so the
 * targets are grouped once into tiers of equal price (those without one
 * last), and a request only shuffles inside them by weight.
 */
export function cheapest<T extends Candidate>(targets: readonly T[]): Order<T> {
  const plan = buildTiers(targets.map((target) => ({ target, priority: target.cost === undefined ? Infinity : blendedPrice(target.cost), weight: target.weight })));
  return ({ random }) => orderTargets(plan, random).map((t) => t.target);
}
