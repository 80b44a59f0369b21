import type { RetryPolicy } from '../storage/records.ts';
import { backoffDelayMs, type BackoffPolicy } from '../util/backoff.ts';

/** SPEC §2.4 defaults: 3 attempts, 1 s doubling to 5 min, ±10 % jitter, Retry-After capped at 5 min. */
export const DEFAULT_RETRY_POLICY: RetryPolicy = Object.freeze({
  max_attempts: 3,
  backoff: Object.freeze({ base_ms: 1000, factor: 2, max_ms: 300_000, jitter: 0.1 }),
  max_retry_after_ms: 300_000,
});

/** A retry policy as written in a template: every field optional. */
export interface RetryPolicyInput {
  max_attempts?: number;
  backoff?: Partial<BackoffPolicy>;
  max_retry_after_ms?: number;
}

/** Fills a template's partial policy from the engine defaults. */
export function resolveRetryPolicy(input: RetryPolicyInput | undefined, defaults: RetryPolicy): RetryPolicy {
  const backoff: BackoffPolicy = { ...defaults.backoff, ...input?.backoff };
  if (input?.backoff?.schedule_ms === undefined) delete backoff.schedule_ms;
  return {
    max_attempts: input?.max_attempts ?? defaults.max_attempts,
    backoff,
    max_retry_after_ms: input?.max_retry_after_ms ?? defaults.max_retry_after_ms,
  };
}

/** Delay before attempt `failedAttempt + 1` of a step (SPEC §2.4); see `backoffDelayMs`. */
export function retryDelayMs(
  policy: RetryPolicy,
  failedAttempt: number,
  retryAfterMs: number | undefined,
  random: () => number = Math.random,
): number {
  return backoffDelayMs(
    policy.backoff,
    failedAttempt,
    { retryAfterMs, maxRetryAfterMs: policy.max_retry_after_ms },
    random,
  );
}
