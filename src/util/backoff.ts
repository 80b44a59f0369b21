/**
 * Backoff between attempts (SPEC §2.4), shared by the engine's step retries and the HTTP client.
 * Field names are snake_case because the same object is written in templates.
 */
export interface BackoffPolicy {
  /** Explicit delays: `schedule_ms[n-1]` before attempt n+1, while the schedule lasts. */
  schedule_ms?: number[];
  base_ms: number;
  factor: number;
  max_ms: number;
  /** ± this fraction of the delay, at random. */
  jitter: number;
}

/**
 * Delay before attempt `failedAttempt + 1`. A `retryAfterMs` from the failure wins, capped at
 * `maxRetryAfterMs` and never jittered (the caller must not come back before the upstream said it
 * may); otherwise the schedule entry or `min(base × factor^(n-1), max)`, then ±jitter.
 */
export function backoffDelayMs(
  backoff: BackoffPolicy,
  failedAttempt: number,
  retryAfter: { retryAfterMs: number | undefined; maxRetryAfterMs: number },
  random: () => number = Math.random,
): number {
  if (retryAfter.retryAfterMs !== undefined)
    return Math.min(retryAfter.retryAfterMs, retryAfter.maxRetryAfterMs);
  const { schedule_ms: schedule, base_ms: base, factor, max_ms: max, jitter } = backoff;
  const scheduled = schedule?.[failedAttempt - 1];
  const delay = scheduled ?? Math.min(base * factor ** (failedAttempt - 1), max);
  const spread = delay * jitter * (random() * 2 - 1);
  return Math.max(0, Math.round(delay + spread));
}
