/** Small statistics helpers for benchmark results. All inputs are plain arrays of numbers. */

function sorted(values: readonly number[]): number[] {
  return [...values].sort((a, b) => a - b);
}

function assertNonEmpty(values: readonly number[], what: string): void {
  if (values.length === 0) throw new RangeError(`${what} of an empty list`);
  for (const v of values) {
    if (!Number.isFinite(v)) throw new RangeError(`${what}: not a finite number: ${v}`);
  }
}

/**
 * The p-th percentile (0 ≤ p ≤ 100) by linear interpolation between closest ranks (the
 * "type 7" estimator used by NumPy and R by default). `percentile(xs, 50)` equals `median(xs)`.
 */
export function percentile(values: readonly number[], p: number): number {
  assertNonEmpty(values, 'percentile');
  if (!(p >= 0 && p <= 100)) throw new RangeError(`percentile must be within [0, 100], got ${p}`);
  return percentileOfSorted(sorted(values), p);
}

function percentileOfSorted(xs: readonly number[], p: number): number {
  const rank = (p / 100) * (xs.length - 1);
  const lo = Math.floor(rank);
  const hi = Math.ceil(rank);
  const a = xs[lo] as number;
  const b = xs[hi] as number;
  return a + (b - a) * (rank - lo);
}

/** The median (mean of the two middle values for an even count). */
export function median(values: readonly number[]): number {
  assertNonEmpty(values, 'median');
  return percentileOfSorted(sorted(values), 50);
}

export function mean(values: readonly number[]): number {
  assertNonEmpty(values, 'mean');
  let sum = 0;
  for (const v of values) sum += v;
  return sum / values.length;
}

export interface Percentiles {
  n: number;
  min: number;
  max: number;
  mean: number;
  p50: number;
  p95: number;
  p99: number;
}

/** min/max/mean and p50/p95/p99 of a sample (e.g. latencies in milliseconds). */
export function percentiles(values: readonly number[]): Percentiles {
  assertNonEmpty(values, 'percentiles');
  const xs = sorted(values);
  return {
    n: xs.length,
    min: xs[0] as number,
    max: xs[xs.length - 1] as number,
    mean: mean(xs),
    p50: percentileOfSorted(xs, 50),
    p95: percentileOfSorted(xs, 95),
    p99: percentileOfSorted(xs, 99),
  };
}

export interface Timed<T> {
  result: T;
  /** Wall-clock milliseconds (`performance.now()`, monotonic). */
  ms: number;
}

/** Runs `fn` once and measures its wall-clock duration. */
export async function timeIt<T>(fn: () => T | Promise<T>): Promise<Timed<T>> {
  const t0 = performance.now();
  const result = await fn();
  return { result, ms: performance.now() - t0 };
}

/** Items per second for `count` items done in `ms` milliseconds. */
export function perSecond(count: number, ms: number): number {
  if (!(ms > 0)) throw new RangeError(`perSecond: duration must be > 0 ms, got ${ms}`);
  return (count * 1000) / ms;
}
