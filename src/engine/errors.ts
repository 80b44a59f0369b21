/**
 * Errors a step handler throws to steer retries (SPEC §2.2). The engine reads their `retryable`
 * and `retryAfterMs` fields, not `instanceof`, so errors from another copy of the package (or any
 * library error carrying those fields, like the HTTP client's) steer retries too.
 */

/** Fails the step at once: no retry, whatever attempts are left. */
export class PermanentError extends Error {
  readonly kind = 'permanent';
  readonly retryable = false;
  constructor(message: string, options?: { cause?: unknown; code?: string }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'PermanentError';
    if (options?.code !== undefined) this.code = options.code;
  }
  code?: string;
}

/** A failure worth retrying, optionally after a specific delay (e.g. from `Retry-After`). */
export class RetryableError extends Error {
  readonly kind = 'retryable';
  readonly retryable = true;
  readonly retryAfterMs: number | undefined;
  code?: string;
  constructor(message: string, options?: { retryAfterMs?: number; cause?: unknown; code?: string }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'RetryableError';
    this.retryAfterMs = options?.retryAfterMs;
    if (options?.code !== undefined) this.code = options.code;
  }
}

/** How the engine reads any thrown value: retryable unless it says otherwise. */
export interface FailureClass {
  retryable: boolean;
  retryAfterMs: number | undefined;
}

/** Stable codes of errors that retrying cannot fix: bad input is still bad on the next attempt. */
const NEVER_RETRIED_CODES: ReadonlySet<string> = new Set(['validation_failed', 'config_invalid']);

export function classifyFailure(error: unknown): FailureClass {
  if (typeof error !== 'object' || error === null) return { retryable: true, retryAfterMs: undefined };
  const { retryable, retryAfterMs, code } = error as {
    retryable?: unknown;
    retryAfterMs?: unknown;
    code?: unknown;
  };
  return {
    retryable: retryable !== false && !(typeof code === 'string' && NEVER_RETRIED_CODES.has(code)),
    retryAfterMs:
      typeof retryAfterMs === 'number' && Number.isFinite(retryAfterMs) && retryAfterMs >= 0
        ? retryAfterMs
        : undefined,
  };
}
