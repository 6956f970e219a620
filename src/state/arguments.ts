/**
 * Argument checks every Store backend applies before it touches its data, so
 * that a caller's mistake fails the same way whichever backend runs. Counts
 * are integers because Redis's INCRBY takes only integers, and window
 * arithmetic stays exact in a Lua script's doubles.
 */

export function checkKey(key: string): void {
  if (typeof key !== "string" || key === "") throw new RangeError("a store key must be a non-empty string");
}

export function checkTtl(ttlMs: number): void {
  if (!Number.isSafeInteger(ttlMs) || ttlMs <= 0) throw new RangeError(`a TTL must be a positive whole number of milliseconds, got ${ttlMs}`);
}

export function checkIncr(key: string, by: number, ttlMs: number): void {
  checkKey(key);
  if (!Number.isSafeInteger(by)) throw new RangeError(`a counter moves by whole numbers, got ${by}`);
  checkTtl(ttlMs);
}

export function checkWindow(key: string, cost: number, limit: number, windowMs: number): void {
  checkKey(key);
  if (!Number.isSafeInteger(cost) || cost < 0) throw new RangeError(`a window take costs a whole number ≥ 0, got ${cost}`);
  if (!Number.isSafeInteger(limit) || limit <= 0) throw new RangeError(`a window limit must be a whole number > 0, got ${limit}`);
  checkTtl(windowMs);
  // limit · windowMs must stay exact in a double.
  if (!Number.isSafeInteger(limit * windowMs * 2)) throw new RangeError(`a window of ${limit} per ${windowMs} ms is too large to count exactly`);
}
