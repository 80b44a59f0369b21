/** Repeating a measurement and bounding it in time. */
import { median } from './stats.ts';

/** Default number of repeats; override with the `BENCH_RUNS` environment variable. */
export const DEFAULT_RUNS = 3;

/** Reads a positive integer from the environment, or returns `fallback` when it is unset. */
export function envInt(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1) {
    throw new Error(`${name} must be a positive integer, got ${JSON.stringify(raw)}`);
  }
  return n;
}

/** Reads a comma-separated list of positive integers (e.g. `BENCH_CONCURRENCY=8,16,32`). */
export function envIntList(name: string, fallback: readonly number[]): number[] {
  const raw = process.env[name];
  if (raw === undefined || raw.trim() === '') return [...fallback];
  const list = raw.split(',').map((s) => Number(s.trim()));
  if (list.length === 0 || list.some((n) => !Number.isInteger(n) || n < 1)) {
    throw new Error(
      `${name} must be a comma-separated list of positive integers, got ${JSON.stringify(raw)}`,
    );
  }
  return list;
}

/** The number of repeats to do: `BENCH_RUNS`, else 3. */
export function benchRuns(): number {
  return envInt('BENCH_RUNS', DEFAULT_RUNS);
}

export interface Repeated<T> {
  /** Every run's result, in order. */
  runs: T[];
  /** The metric of every run, in order. */
  values: number[];
  /** Median of `values`. */
  median: number;
  /** The run whose metric is closest to the median (for an even count: the lower middle one). */
  medianRun: T;
}

export interface RepeatOptions {
  /** Number of measured runs (default: `benchRuns()`). */
  runs?: number;
  /** Unmeasured runs done first and discarded (default 0). */
  warmup?: number;
  /** Called after each measured run, e.g. to print progress. */
  onRun?: (run: number, value: number) => void;
}

/**
 * Repeats a measurement `runs` times (sequentially) and returns every run plus the median of
 * `metric(run)`. Without `metric`, `fn` must return the number itself.
 */
export async function repeat(
  fn: (run: number) => number | Promise<number>,
  options?: RepeatOptions,
): Promise<Repeated<number>>;
export async function repeat<T>(
  fn: (run: number) => T | Promise<T>,
  options: RepeatOptions & { metric: (result: T) => number },
): Promise<Repeated<T>>;
export async function repeat<T>(
  fn: (run: number) => T | Promise<T>,
  options: RepeatOptions & { metric?: (result: T) => number } = {},
): Promise<Repeated<T>> {
  const runs = options.runs ?? benchRuns();
  if (!Number.isInteger(runs) || runs < 1)
    throw new RangeError(`runs must be a positive integer, got ${runs}`);
  const metric = options.metric ?? ((r: T): number => r as unknown as number);
  for (let i = 0; i < (options.warmup ?? 0); i++) await fn(-1 - i);
  const results: T[] = [];
  const values: number[] = [];
  for (let i = 0; i < runs; i++) {
    const r = await fn(i);
    const v = metric(r);
    if (typeof v !== 'number' || !Number.isFinite(v)) {
      throw new TypeError(`repeat: run ${i} gave a non-finite metric ${String(v)}`);
    }
    results.push(r);
    values.push(v);
    options.onRun?.(i, v);
  }
  const med = median(values);
  const order = values.map((v, i) => ({ v, i })).sort((a, b) => a.v - b.v);
  const mid = order[Math.floor((order.length - 1) / 2)] as { v: number; i: number };
  return { runs: results, values, median: med, medianRun: results[mid.i] as T };
}

export class BenchTimeoutError extends Error {
  override name = 'BenchTimeoutError';
}

/**
 * Resolves or rejects like `promise`, but rejects with a `BenchTimeoutError` carrying
 * `message()` (evaluated at expiry, so it can report progress) after `ms` milliseconds.
 */
export async function withTimeout<T>(promise: Promise<T>, ms: number, message: () => string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new BenchTimeoutError(message())), ms);
  });
  try {
    return await Promise.race([promise, expired]);
  } finally {
    clearTimeout(timer);
  }
}

/** Resolves after `ms` milliseconds. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
