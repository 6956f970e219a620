/**
 * The sliding window as two fixed buckets: the count of the current bucket
 * plus the previous bucket's count weighted by how much of it still lies
 * inside the window. O(1) state and work per take, so a Redis Lua script can
 * run the same steps atomically on one hash. Bounds are in docs/state.md.
 *
 * All arithmetic is on integers scaled by the window length, so a backend in
 * another language (Lua numbers are doubles) decides every take the same way.
 */

/** What a backend keeps per key. `start` is the current bucket's start, a multiple of the window length. */
export interface WindowState {
  start: number;
  prev: number;
  curr: number;
}

export interface WindowTake {
  allowed: boolean;
  /** Units the window can still admit after this take, rounded down; 0 when it is full. */
  remaining: number;
  /**
   * 0 when admitted. When refused, the wait until the same take would be
   * admitted if nothing else is taken meanwhile; Infinity when `cost` exceeds
   * `limit` and no wait helps.
   */
  retryAfterMs: number;
}

export interface WindowStep {
  result: WindowTake;
  /** The state to keep, or undefined when nothing changed. */
  next: WindowState | undefined;
}

/** Decides one take at `now`. The caller keeps `next` for `2 * windowMs` past its `start`. */
export function takeFromWindow(
  state: WindowState | undefined,
  now: number,
  cost: number,
  limit: number,
  windowMs: number,
): WindowStep {
  let start = now - (now % windowMs);
  // A clock behind the one that opened the newest bucket (instances never agree exactly) counts as at its start, so it cannot wipe that bucket.
  if (state !== undefined && state.start > start) {
    start = state.start;
    now = start;
  }
  let prev = 0;
  let curr = 0;
  if (state?.start === start) {
    prev = state.prev;
    curr = state.curr;
  } else if (state?.start === start - windowMs) {
    prev = state.curr;
  }
  const left = windowMs - (now - start);
  // used·windowMs, exactly: the previous bucket counts for the part of it still inside the window.
  const usedScaled = prev * left + curr * windowMs;
  const capacity = limit * windowMs;
  if (usedScaled + cost * windowMs <= capacity) {
    const next = cost === 0 ? undefined : { start, prev, curr: curr + cost };
    const remaining = Math.floor((capacity - usedScaled - cost * windowMs) / windowMs);
    return { result: { allowed: true, remaining, retryAfterMs: 0 }, next };
  }
  const remaining = Math.max(0, Math.floor((capacity - usedScaled) / windowMs));
  return { result: { allowed: false, remaining, retryAfterMs: waitFor(prev, curr, left, cost, limit, windowMs) }, next: undefined };
}

/** The first whole millisecond at which prev·(left − t)/W + curr + cost ≤ limit, rolling into the next bucket if needed. */
function waitFor(prev: number, curr: number, left: number, cost: number, limit: number, windowMs: number): number {
  const room = limit - cost;
  if (room < 0) return Infinity;
  if (curr <= room) {
    // prev > 0 here, or the take would have been admitted: wait for prev's weight to fall far enough.
    return left - Math.floor(((room - curr) * windowMs) / prev);
  }
  // The current bucket alone is too full: in the next one it becomes prev and fades from weight 1.
  return left + windowMs - Math.floor((room * windowMs) / curr);
}
