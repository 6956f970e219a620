import type { HedgeSettings, ModelConfig } from "../config/types.ts";
import type { TargetView } from "../upstream/target-stats.ts";

export { MIN_SAMPLES } from "../upstream/target-stats.ts";

/**
 * When to hedge: how long an attempt on a target may go without its first
 * byte before a second attempt starts on another target. The first to
 * deliver wins and the other is aborted (engine/failover.ts runs the race).
 */
export interface Hedging {
  /** The wait for model `model`'s attempt on `target` ("provider/model"); undefined: no hedge. */
  delay(model: string, target: string, stream: boolean): number | undefined;
}

/**
 * Hedging per model (`hedge: { after }`): a fixed wait, or `p95`, that
 * target's 95th percentile of recent times to commit in this process, for
 * the request's kind (a stream's first event, a whole answer's body), as the
 * target statistics keep them (upstream/target-stats.ts, the same figures
 * `timeouts.first_byte: auto` reads). Until enough have been seen, no hedge.
 */
export class Hedges implements Hedging {
  readonly #settings = new Map<string, HedgeSettings>();
  readonly #view: Pick<TargetView, "firstByteP95"> | undefined;

  /** `view` is needed only when some model hedges after its p95 (usesStats). */
  constructor(models: Iterable<ModelConfig>, view?: Pick<TargetView, "firstByteP95">) {
    for (const m of models) if (m.hedge !== undefined) this.#settings.set(m.name, m.hedge);
    this.#view = view;
  }

  /** Whether some model hedges after its p95, so the target statistics must be kept. */
  static usesStats(models: Iterable<ModelConfig>): boolean {
    for (const m of models) if (m.hedge?.after === "p95") return true;
    return false;
  }

  /** Whether any model hedges: none, and failover is not given this. */
  get size(): number {
    return this.#settings.size;
  }

  delay(model: string, target: string, stream: boolean): number | undefined {
    const s = this.#settings.get(model);
    if (s === undefined) return undefined;
    if (s.after !== "p95") return s.after;
    return this.#view?.firstByteP95(target, stream);
  }
}
