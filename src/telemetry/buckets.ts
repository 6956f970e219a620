/**
 * Fixed, log-spaced latency buckets: four per doubling from 0.25 ms, so a
 * percentile read from bucket counts is within about 9% of the true value,
 * and recording a sample is one logarithm and one increment: no sorting, no
 * allocation. Bucket `i` holds the samples in (upper(i-1), upper(i)]; the
 * last one holds everything above ~70 minutes.
 */

/** Upper bound of bucket 0, in ms. */
export const BUCKET_BASE_MS = 0.25;
/** Buckets per doubling. */
export const PER_DOUBLING = 4;
/** Bounded buckets; one more catches what is larger. */
export const BOUNDED = 97;
/** Counts kept per histogram. */
export const BUCKETS = BOUNDED + 1;

/** The upper bound of bucket `i` in ms (Infinity for the last). */
export function upperBound(i: number): number {
  return i >= BOUNDED ? Infinity : BUCKET_BASE_MS * 2 ** (i / PER_DOUBLING);
}

/** The bucket a sample of `ms` falls in. */
export function bucketOf(ms: number): number {
  if (!(ms > BUCKET_BASE_MS)) return 0;
  const i = Math.ceil(PER_DOUBLING * Math.log2(ms / BUCKET_BASE_MS));
  return i > BOUNDED ? BOUNDED : i;
}

/**
 * The `p` quantile (0..1) of the samples counted in `counts[offset ..
 * offset + BUCKETS)`, `n` of them, interpolated inside its bucket and kept
 * within the smallest and largest sample seen. Null when there are none.
 */
export function quantile(counts: ArrayLike<number>, offset: number, n: number, p: number, min: number, max: number): number | null {
  if (n <= 0) return null;
  const rank = Math.max(1, Math.ceil(p * n));
  let seen = 0;
  for (let i = 0; i < BUCKETS; i++) {
    const c = counts[offset + i];
    if (c === 0) continue;
    if (seen + c >= rank) {
      const lo = i === 0 ? 0 : upperBound(i - 1);
      const hi = i >= BOUNDED ? max : upperBound(i);
      const v = lo + ((hi - lo) * (rank - seen)) / c;
      return v < min ? min : v > max ? max : v;
    }
    seen += c;
  }
  return max;
}
