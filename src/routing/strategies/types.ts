import type { Price } from "../../config/types.ts";
import type { Random } from "../../time/clock.ts";

/** What a strategy needs to know of a target. */
export interface Candidate {
  /** "provider/model": the key of its statistics. */
  label: string;
  priority: number;
  weight: number;
  cost?: Price;
}

/** What one request tells its strategy. */
export interface OrderContext {
  random: Random;
  /** Streamed and whole answers have separate latencies (upstream/target-stats.ts). */
  stream: boolean;
}

/**
 * The order in which one request tries a model's targets. A strategy only
 * orders: a target that another mechanism holds back (an open breaker, a full
 * rate window) is skipped by that mechanism's attempt wrapper, and failover
 * moves on to the next in this order.
 */
export type Order<T> = (ctx: OrderContext) => T[];
