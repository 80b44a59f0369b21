/** Peak resident set size of the current process, sampled during a run. */

export interface RssSampler {
  /** RSS when sampling started, in bytes (RSS is process-wide: subtract it to see one run's growth). */
  readonly startBytes: number;
  /** Highest `process.memoryUsage().rss` seen so far, in bytes. */
  readonly peakBytes: number;
  /** Takes a last sample, stops sampling and returns the peak in bytes. Idempotent. */
  stop(): number;
}

/**
 * Starts sampling `process.memoryUsage().rss` every `intervalMs` milliseconds (default 25) on
 * an unref'd timer, so a forgotten sampler never keeps the process alive. Call `stop()` at the
 * end of the run. The peak is a sampled lower bound of the true peak.
 */
export function startRssSampler(intervalMs = 25): RssSampler {
  const startBytes = process.memoryUsage().rss;
  let peak = startBytes;
  let stopped = false;
  const sample = (): void => {
    const rss = process.memoryUsage().rss;
    if (rss > peak) peak = rss;
  };
  const timer = setInterval(sample, intervalMs);
  timer.unref();
  return {
    startBytes,
    get peakBytes() {
      return peak;
    },
    stop() {
      if (!stopped) {
        stopped = true;
        clearInterval(timer);
        sample();
      }
      return peak;
    },
  };
}

/** Runs `fn` while sampling RSS; returns its result and the peak RSS in bytes. */
export async function withPeakRss<T>(
  fn: () => T | Promise<T>,
  intervalMs?: number,
): Promise<{ result: T; peakRssBytes: number }> {
  const sampler = startRssSampler(intervalMs);
  try {
    const result = await fn();
    return { result, peakRssBytes: sampler.stop() };
  } finally {
    sampler.stop();
  }
}
