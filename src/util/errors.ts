/**
 * Stable error codes shared by every surface (engine API, REST, CLI). A client can rely on the
 * code; the message says what to fix.
 */
export const ERROR_CODES = [
  'validation_failed',
  'config_invalid',
  'not_found',
  'conflict',
  'unauthorized',
  'forbidden',
  'rate_limited',
  'payload_too_large',
  'store_unavailable',
  'shutting_down',
  'timeout',
  'internal',
  // The HTTP client (src/client/errors.ts).
  'connect_failed',
  'http_status',
  'circuit_open',
  'retries_exhausted',
  'aborted',
] as const;
export type ErrorCode = (typeof ERROR_CODES)[number];

export interface ErrorDetail {
  /** Where the problem is, e.g. `steps[2].depends_on` or `input.order_id`. */
  path?: string;
  message: string;
}

/** Base of Baton's typed errors: a stable `code`, a helpful message and optional details. */
export class BatonError extends Error {
  readonly code: ErrorCode;
  readonly details: readonly ErrorDetail[] | undefined;

  constructor(code: ErrorCode, message: string, options?: { details?: ErrorDetail[]; cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'BatonError';
    this.code = code;
    this.details = options?.details;
  }
}

export class ValidationError extends BatonError {
  constructor(message: string, details?: ErrorDetail[]) {
    super('validation_failed', message, details ? { details } : undefined);
    this.name = 'ValidationError';
  }
}

export class NotFoundError extends BatonError {
  constructor(message: string) {
    super('not_found', message);
    this.name = 'NotFoundError';
  }
}

export class ConflictError extends BatonError {
  constructor(message: string) {
    super('conflict', message);
    this.name = 'ConflictError';
  }
}

/** Recognises Baton errors by their code, not by `instanceof`, so duplicate package copies work. */
export function isBatonError(error: unknown): error is BatonError {
  const code = error instanceof Error ? (error as Error & { code?: unknown }).code : undefined;
  return typeof code === 'string' && (ERROR_CODES as readonly string[]).includes(code);
}

/** Turns anything thrown into an Error (a handler may throw a string or a plain object). */
export function coerceError(thrown: unknown): Error {
  if (thrown instanceof Error) return thrown;
  if (typeof thrown === 'string') return new Error(thrown);
  try {
    return new Error(`non-error thrown: ${JSON.stringify(thrown)}`);
  } catch {
    return new Error(`non-error thrown: ${String(thrown)}`);
  }
}
