/**
 * What an upstream says of its own rate limits in its answers' headers
 * (OpenAI and most OpenAI-compatible APIs): `x-ratelimit-remaining-requests`
 * and `-tokens`, and when each count is full again, `x-ratelimit-reset-requests`
 * and `-tokens`, as a duration such as `1s`, `6m0s` or `20ms`. Once the
 * upstream has said it has nothing left until a reset, the target waits for
 * that reset rather than earning a 429; between answers the remaining counts
 * go down with each call admitted.
 */

type Headers = Record<string, string | string[] | undefined>;

interface Quota {
  remaining: number;
  resetAt: number;
}

interface TargetQuota {
  requests?: Quota;
  tokens?: Quota;
}

/** Parses a reset: Go-style durations (`1h2m3.5s`, `20ms`), else plain seconds. */
export function parseReset(value: string): number | undefined {
  const v = value.trim();
  if (/^\d+(\.\d+)?$/.test(v)) return Math.round(Number(v) * 1000);
  if (!/^(\d+(\.\d+)?(h|ms|m|s))+$/.test(v)) return undefined;
  let ms = 0;
  for (const [, n, unit] of v.matchAll(/(\d+(?:\.\d+)?)(h|ms|m|s)/g)) {
    ms += Number(n) * (unit === "h" ? 3_600_000 : unit === "m" ? 60_000 : unit === "s" ? 1000 : 1);
  }
  return Math.round(ms);
}

function header(headers: Headers, name: string): string | undefined {
  const v = headers[name];
  return Array.isArray(v) ? v[0] : v;
}

/** The header names, built once rather than on every answer. */
const NAMES = {
  requests: { remaining: "x-ratelimit-remaining-requests", reset: "x-ratelimit-reset-requests" },
  tokens: { remaining: "x-ratelimit-remaining-tokens", reset: "x-ratelimit-reset-tokens" },
} as const;

function quota(headers: Headers, kind: "requests" | "tokens", now: number): Quota | undefined {
  const remaining = header(headers, NAMES[kind].remaining);
  if (remaining === undefined) return undefined;
  const reset = header(headers, NAMES[kind].reset);
  if (remaining === undefined || reset === undefined) return undefined;
  const n = Number(remaining);
  const after = parseReset(reset);
  if (!Number.isFinite(n) || after === undefined) return undefined;
  return { remaining: n, resetAt: now + after };
}

export class UpstreamQuotas {
  readonly #byTarget = new Map<string, TargetQuota>();

  /** Reads an answer's headers; an answer without them leaves what is known. */
  update(target: string, headers: Headers | undefined, now: number): void {
    if (headers === undefined) return;
    const requests = quota(headers, "requests", now);
    const tokens = quota(headers, "tokens", now);
    if (requests === undefined && tokens === undefined) return;
    const q = this.#byTarget.get(target) ?? {};
    if (requests !== undefined) q.requests = requests;
    if (tokens !== undefined) q.tokens = tokens;
    this.#byTarget.set(target, q);
  }

  /** Milliseconds until the upstream has room for one request of `tokens`; 0 when it has (or nothing is known). */
  waitFor(target: string, tokens: number, now: number): number {
    const q = this.#byTarget.get(target);
    if (q === undefined) return 0;
    let wait = 0;
    if (q.requests !== undefined) {
      if (q.requests.resetAt <= now) q.requests = undefined;
      else if (q.requests.remaining < 1) wait = q.requests.resetAt - now;
    }
    if (q.tokens !== undefined) {
      if (q.tokens.resetAt <= now) q.tokens = undefined;
      else if (q.tokens.remaining < Math.max(1, tokens)) wait = Math.max(wait, q.tokens.resetAt - now);
    }
    if (q.requests === undefined && q.tokens === undefined) this.#byTarget.delete(target);
    return wait;
  }

  /** Counts one admitted request of `tokens` against what the upstream last said was left. */
  spend(target: string, tokens: number): void {
    const q = this.#byTarget.get(target);
    if (q === undefined) return;
    if (q.requests !== undefined) q.requests.remaining--;
    if (q.tokens !== undefined) q.tokens.remaining -= tokens;
  }

  report(target: string, now: number): Record<string, number | string> | undefined {
    const q = this.#byTarget.get(target);
    if (q === undefined) return undefined;
    const out: Record<string, number | string> = {};
    if (q.requests !== undefined && q.requests.resetAt > now) {
      out.requests_remaining = q.requests.remaining;
      out.requests_reset_at = new Date(q.requests.resetAt).toISOString();
    }
    if (q.tokens !== undefined && q.tokens.resetAt > now) {
      out.tokens_remaining = q.tokens.remaining;
      out.tokens_reset_at = new Date(q.tokens.resetAt).toISOString();
    }
    return Object.keys(out).length > 0 ? out : undefined;
  }
}
