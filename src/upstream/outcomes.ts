import { isGatewayError } from "../protocol/errors.ts";
import type { Verdict } from "./breaker.ts";

/**
 * What one attempt's outcome says about its target and about its provider,
 * read from the error's type (code and status), never its text.
 *
 * A target's breaker judges its answers: 5xx, timeouts, resets and
 * malformed answers count against it; client errors (400, 404, 413, 422 …)
 * are the request's fault and count for nothing; a 429 is a matter for rate
 * limits unless `count429`. A provider's breaker judges whether it can be
 * reached at all: a refused or timed-out connection, or a refused key once
 * no key is left, counts against it, and any HTTP answer shows it is there.
 * Attempts ended from our side (the client left, the deadline passed, a
 * hedge won, shutdown) say nothing about either.
 */
export interface Verdicts {
  target: Verdict;
  provider: Verdict;
}

const SUCCESS: Verdicts = { target: "success", provider: "success" };
const NEUTRAL: Verdicts = { target: "neutral", provider: "neutral" };

/** Not the upstream's doing. */
const OURS: ReadonlySet<string> = new Set([
  "SY_ERR_CLIENT_ABORT",
  "SY_ERR_STREAM_ABANDONED",
  "SY_ERR_TOTAL_TIMEOUT",
  "SY_ERR_SHUTTING_DOWN",
  "SY_ERR_HEDGE_CANCELLED",
  "SY_ERR_NO_HEALTHY_TARGET",
  // The gateway's own limits: a full window, no free slot, a queue that timed out, a switched-off target.
  "SY_ERR_RATE_LIMITED",
  "SY_ERR_CONCURRENCY_LIMIT",
  "SY_ERR_QUEUE_TIMEOUT",
  "SY_ERR_DISABLED",
  "SY_ERR_BAD_REQUEST",
  "SY_ERR_INTERNAL",
  "SY_ERR_CONFIG",
]);

/** The provider could not be reached, or would not let us in. */
const UNREACHABLE: ReadonlySet<string> = new Set(["SY_ERR_UPSTREAM_CONNECT", "SY_ERR_CONNECT_TIMEOUT", "SY_ERR_UPSTREAM_AUTH"]);

/** Answers that came back over HTTP, whatever they said. */
const ANSWERED: ReadonlySet<string> = new Set(["SY_ERR_UPSTREAM_STATUS", "SY_ERR_UPSTREAM_CLIENT_ERROR", "SY_ERR_UPSTREAM_MALFORMED"]);

export function verdicts(err: unknown, count429: boolean): Verdicts {
  if (err === undefined) return SUCCESS;
  // Passed over without a network call: nothing happened upstream.
  if (!isGatewayError(err) || err.skipped === true) return NEUTRAL;
  const code: string = err.code;
  if (OURS.has(code)) return NEUTRAL;
  if (UNREACHABLE.has(code)) return { target: "neutral", provider: "failure" };
  if (code === "SY_ERR_UPSTREAM_CLIENT_ERROR") {
    // A refused key (before key rotation names it SY_ERR_UPSTREAM_AUTH) is the provider's, not the request's.
    if (err.status === 401 || err.status === 403) return { target: "neutral", provider: "failure" };
    return { target: "neutral", provider: "success" };
  }
  const provider: Verdict = ANSWERED.has(code) ? "success" : "neutral";
  if (err.status === 429 && !count429) return { target: "neutral", provider };
  return { target: err.retryable ? "failure" : "neutral", provider };
}

/**
 * How a committed stream that ended judges its target. Once the upstream has
 * answered, what breaks the stream after that (a reset, a stall, an error
 * event of a 5xx kind, malformed data) is the target's failure, retryable or
 * not; client errors and 429s are judged as before the commit, and what ended
 * it from our side (the client, the deadline, shutdown) says nothing.
 */
export function streamVerdicts(err: unknown, count429: boolean): Verdicts {
  if (err === undefined) return SUCCESS;
  if (!isGatewayError(err) || OURS.has(err.code)) return NEUTRAL;
  const v = verdicts(err, count429);
  if (v.target !== "neutral" || (err.status < 500 && ANSWERED.has(err.code))) return v;
  return { target: "failure", provider: v.provider };
}
