import { subscribe, unsubscribe } from "node:diagnostics_channel";
import type { HedgeSettings, ModelConfig } from "../config/types.ts";
import type { AttemptEnd } from "../telemetry/channels.ts";

/**
 * When to hedge: how long an attempt on a target may go without its first
 * byte before a second attempt starts on another target. The first to
 * deliver wins and the other is aborted (engine/failover.ts runs the race).
 */
export interface Hedging {
  /** The wait for model `model`'s attempt on `target` ("provider/model"); undefined: no hedge. */
  delay(model: string, target: string): number | undefined;
}

/** Recent times to first byte kept per target. */
const SAMPLES = 100;
/** Fewer than this and a p95 says little: `after: p95` does not hedge yet. */
export const MIN_SAMPLES = 20;

/** A ring of recent times to first byte, with its p95 worked out only when asked after a change. */
class FirstByteTimes {
  readonly #ring: number[] = [];
  #next = 0;
  #p95: number | undefined;

  add(ms: number): void {
    if (this.#ring.length < SAMPLES) this.#ring.push(ms);
    else this.#ring[this.#next] = ms;
    this.#next = (this.#next + 1) % SAMPLES;
    this.#p95 = undefined;
  }

  p95(): number | undefined {
    if (this.#ring.length < MIN_SAMPLES) return undefined;
    if (this.#p95 === undefined) {
      const sorted = this.#ring.slice().sort((a, b) => a - b);
      this.#p95 = sorted[Math.ceil(0.95 * sorted.length) - 1];
    }
    return this.#p95;
  }
}

/**
 * Hedging per model (`hedge: { after }`): a fixed wait, or `p95`, that
 * target's 95th percentile of recent times to first byte in this process.
 * The times come from the attempt events (telemetry/channels.ts), whose
 * duration for a committed attempt runs to its commit point: a stream's
 * first event, a whole answer's body.
 */
export class Hedges implements Hedging {
  readonly #settings = new Map<string, HedgeSettings>();
  readonly #times = new Map<string, FirstByteTimes>();
  readonly #unsubscribe: (() => void) | undefined;

  constructor(models: Iterable<ModelConfig>, gateway: object) {
    for (const m of models) {
      if (m.hedge === undefined) continue;
      this.#settings.set(m.name, m.hedge);
      // Only the targets a p95 is asked of are timed, so the map stays as small as the config.
      if (m.hedge.after === "p95") for (const t of m.targets) this.#times.set(`${t.provider}/${t.model}`, new FirstByteTimes());
    }
    if (this.#times.size === 0) return;
    const onEnd = (m: unknown) => {
      const e = m as AttemptEnd;
      if (e.gateway === gateway && e.error === undefined) this.#times.get(e.target)?.add(e.durationMs);
    };
    subscribe("switchyard:attempt:end", onEnd);
    this.#unsubscribe = () => unsubscribe("switchyard:attempt:end", onEnd);
  }

  /** Whether any model hedges: none, and failover is not given this. */
  get size(): number {
    return this.#settings.size;
  }

  delay(model: string, target: string): number | undefined {
    const s = this.#settings.get(model);
    if (s === undefined) return undefined;
    if (s.after !== "p95") return s.after;
    return this.#times.get(target)?.p95();
  }

  close(): void {
    this.#unsubscribe?.();
  }
}
