/** Small numeric helpers shared by the load clients and the report. */

/** The p-th percentile (0–100) of ascending `sorted`, by linear interpolation; NaN when empty. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = (p / 100) * (sorted.length - 1);
  const lo = Math.floor(rank);
  const hi = Math.ceil(rank);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (rank - lo);
}

export function ascending(values: Iterable<number>): number[] {
  return Array.from(values).sort((a, b) => a - b);
}

export interface Spread {
  median: number;
  min: number;
  max: number;
  /** How many rounds produced a finite value. */
  n: number;
}

/** Median with min and max over the finite values; NaN fields when there are none. */
export function spread(values: readonly number[]): Spread {
  const finite = ascending(values.filter((v) => Number.isFinite(v)));
  if (finite.length === 0) return { median: Number.NaN, min: Number.NaN, max: Number.NaN, n: 0 };
  return { median: percentile(finite, 50), min: finite[0], max: finite[finite.length - 1], n: finite.length };
}

export interface LatencySummary {
  p50: number;
  p99: number;
  max: number;
  count: number;
}

export function summarise(values: Iterable<number>): LatencySummary {
  const sorted = ascending(values);
  return { p50: percentile(sorted, 50), p99: percentile(sorted, 99), max: sorted.length === 0 ? Number.NaN : sorted[sorted.length - 1], count: sorted.length };
}

export function round(value: number, digits: number): number {
  if (!Number.isFinite(value)) return value;
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}
