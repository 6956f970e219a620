/** An upstream 429 lowers the effective limit to this share of what it was. */
export const DECREASE = 0.8;
/** After this many successes in a row, the effective limit climbs back… */
export const SUCCESSES_TO_CLIMB = 10;
/** …by this share of the configured limit, never past it. */
export const INCREASE = 0.1;
/** The effective limit never falls below this share of the configured one, so it can always climb back. */
const FLOOR = 0.1;

interface Adapted {
  factor: number;
  successes: number;
}

/**
 * The share of its configured rate limits a provider or target gets now,
 * learnt from the upstream: multiplicative decrease on a 429, additive
 * increase after a run of successes (as TCP finds a link's capacity). And
 * the pause an upstream's Retry-After asks for, per target.
 *
 * Kept in this process's memory: each worker learns for itself, which is
 * what it needs, since the 429s it sees are answers to its own calls.
 */
export class AdaptiveLimits {
  readonly #adapted = new Map<string, Adapted>();
  readonly #pausedUntil = new Map<string, number>();

  /** The configured `limit` scaled to what `scope` has earned; at least 1. */
  effective(scope: string, limit: number): number {
    const a = this.#adapted.get(scope);
    return a === undefined ? limit : Math.max(1, Math.floor(limit * a.factor));
  }

  factor(scope: string): number {
    return this.#adapted.get(scope)?.factor ?? 1;
  }

  /** The upstream refused with a 429. */
  throttled(scope: string): void {
    const a = this.#adapted.get(scope);
    const factor = Math.max(FLOOR, (a?.factor ?? 1) * DECREASE);
    this.#adapted.set(scope, { factor, successes: 0 });
  }

  succeeded(scope: string): void {
    const a = this.#adapted.get(scope);
    if (a === undefined) return;
    if (++a.successes < SUCCESSES_TO_CLIMB) return;
    a.successes = 0;
    a.factor += INCREASE;
    // Back to the configured limit: forget it, so the common case stays a single failed lookup.
    if (a.factor >= 1 - 1e-9) this.#adapted.delete(scope);
  }

  /** `target` is not to be called before `until` (its upstream's Retry-After). */
  pause(target: string, until: number): void {
    if (until > (this.#pausedUntil.get(target) ?? 0)) this.#pausedUntil.set(target, until);
  }

  /** Milliseconds `target` is still paused for; 0 when it is not. */
  pausedFor(target: string, now: number): number {
    const until = this.#pausedUntil.get(target);
    if (until === undefined) return 0;
    if (until > now) return until - now;
    this.#pausedUntil.delete(target);
    return 0;
  }

  pausedUntil(target: string): number | undefined {
    return this.#pausedUntil.get(target);
  }
}
